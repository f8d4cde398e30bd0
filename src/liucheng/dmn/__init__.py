"""liucheng.dmn: DMN 1.1–1.5 models, decision evaluation and the DMN TCK runner.

Typical use::

    from liucheng.dmn import decide, load_model

    model = load_model("processes/service_desk/priority.dmn")
    decide(model, "priority", {"impact": "high", "urgency": "low"}).value   # 'medium'
"""

from __future__ import annotations

from ._evaluate import DecisionResult, DmnModel
from ._load import decide, load_model
from ._parse import DMN_NAMESPACES, MAX_DMN_BYTES, parse_dmn, parse_dmn_file
from .model import (
    BusinessKnowledgeModel,
    Decision,
    DecisionService,
    DecisionTable,
    Definitions,
    InputData,
    ItemDefinition,
)
from .tck import TckResult, TckSummary, read_test_cases, run_tck, tck_equal

__all__ = [
    "DMN_NAMESPACES",
    "MAX_DMN_BYTES",
    "BusinessKnowledgeModel",
    "Decision",
    "DecisionResult",
    "DecisionService",
    "DecisionTable",
    "Definitions",
    "DmnModel",
    "InputData",
    "ItemDefinition",
    "TckResult",
    "TckSummary",
    "decide",
    "load_model",
    "parse_dmn",
    "parse_dmn_file",
    "read_test_cases",
    "run_tck",
    "tck_equal",
]
