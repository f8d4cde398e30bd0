"""liucheng.analytics: process KPIs, directly-follows graphs, variants and control charts.

Every function takes the event-log frame of :mod:`liucheng.history` (or a log file path) and
returns polars frames or small dataclasses with a ``to_json``; renderers turn them into SVG/HTML.
Discovery, conformance, bottlenecks, filters and social networks live in
:mod:`liucheng.analytics.mining` and are re-exported here.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from ._lazy import LazyPackage, load

if TYPE_CHECKING:
    from ._log import as_log, case_contiguous, filter_lifecycle
    from .charts import control_chart_svg, dfg_svg, trend_svg
    from .control import measure_chart
    from .dfg import DirectlyFollowsGraph, directly_follows, discover_dfg
    from .heatmap import bpmn_heatmap, bpmn_heatmap_svg
    from .kpi import (
        CostModel,
        KpiSettings,
        activity_instances,
        backlog,
        case_measures,
        kpi_by,
        kpi_summary,
        throughput,
    )
    from .kpi_file import CustomKpi, KpiFile, evaluate_custom, kpi_report, load_kpi_file
    from .mining import (
        AlignmentResult,
        AlignStrategy,
        ConformanceReport,
        MiningError,
        PetriNet,
        ProcessTree,
        ReplayResult,
        activity_waiting,
        align,
        check_soundness,
        conformance,
        discover_heuristics,
        discover_inductive,
        filter_activities,
        filter_case_attribute,
        filter_case_performance,
        filter_end_activities,
        filter_event_attribute,
        filter_start_activities,
        filter_time_range,
        filter_variants_coverage,
        filter_variants_top,
        handover_durations,
        handover_network,
        precision_etc,
        resource_workload,
        to_petri_net,
        token_replay,
        working_together,
        write_model_bpmn,
    )
    from .report import html_report
    from .spc import ControlChart, Violation, imr_chart, western_electric, xbar_r_chart
    from .variants import case_table, variants, variants_json

# Public name -> defining submodule; each loads on first use (PEP 562, see ._lazy).
_EXPORTS: dict[str, str] = {
    "as_log": "._log",
    "case_contiguous": "._log",
    "filter_lifecycle": "._log",
    "control_chart_svg": ".charts",
    "dfg_svg": ".charts",
    "trend_svg": ".charts",
    "measure_chart": ".control",
    "DirectlyFollowsGraph": ".dfg",
    "directly_follows": ".dfg",
    "discover_dfg": ".dfg",
    "bpmn_heatmap": ".heatmap",
    "bpmn_heatmap_svg": ".heatmap",
    "CostModel": ".kpi",
    "KpiSettings": ".kpi",
    "activity_instances": ".kpi",
    "backlog": ".kpi",
    "case_measures": ".kpi",
    "kpi_by": ".kpi",
    "kpi_summary": ".kpi",
    "throughput": ".kpi",
    "CustomKpi": ".kpi_file",
    "KpiFile": ".kpi_file",
    "evaluate_custom": ".kpi_file",
    "kpi_report": ".kpi_file",
    "load_kpi_file": ".kpi_file",
    "AlignmentResult": ".mining",
    "AlignStrategy": ".mining",
    "ConformanceReport": ".mining",
    "MiningError": ".mining",
    "PetriNet": ".mining",
    "ProcessTree": ".mining",
    "ReplayResult": ".mining",
    "activity_waiting": ".mining",
    "align": ".mining",
    "check_soundness": ".mining",
    "conformance": ".mining",
    "discover_heuristics": ".mining",
    "discover_inductive": ".mining",
    "filter_activities": ".mining",
    "filter_case_attribute": ".mining",
    "filter_case_performance": ".mining",
    "filter_end_activities": ".mining",
    "filter_event_attribute": ".mining",
    "filter_start_activities": ".mining",
    "filter_time_range": ".mining",
    "filter_variants_coverage": ".mining",
    "filter_variants_top": ".mining",
    "handover_durations": ".mining",
    "handover_network": ".mining",
    "precision_etc": ".mining",
    "resource_workload": ".mining",
    "to_petri_net": ".mining",
    "token_replay": ".mining",
    "working_together": ".mining",
    "write_model_bpmn": ".mining",
    "html_report": ".report",
    "ControlChart": ".spc",
    "Violation": ".spc",
    "imr_chart": ".spc",
    "western_electric": ".spc",
    "xbar_r_chart": ".spc",
    "case_table": ".variants",
    "variants": ".variants",
    "variants_json": ".variants",
}

__all__ = [
    "AlignStrategy",
    "AlignmentResult",
    "ConformanceReport",
    "ControlChart",
    "CostModel",
    "CustomKpi",
    "DirectlyFollowsGraph",
    "KpiFile",
    "KpiSettings",
    "MiningError",
    "PetriNet",
    "ProcessTree",
    "ReplayResult",
    "Violation",
    "activity_instances",
    "activity_waiting",
    "align",
    "as_log",
    "backlog",
    "bpmn_heatmap",
    "bpmn_heatmap_svg",
    "case_contiguous",
    "case_measures",
    "case_table",
    "check_soundness",
    "conformance",
    "control_chart_svg",
    "dfg_svg",
    "directly_follows",
    "discover_dfg",
    "discover_heuristics",
    "discover_inductive",
    "evaluate_custom",
    "filter_activities",
    "filter_case_attribute",
    "filter_case_performance",
    "filter_end_activities",
    "filter_event_attribute",
    "filter_lifecycle",
    "filter_start_activities",
    "filter_time_range",
    "filter_variants_coverage",
    "filter_variants_top",
    "handover_durations",
    "handover_network",
    "html_report",
    "imr_chart",
    "kpi_by",
    "kpi_report",
    "kpi_summary",
    "load_kpi_file",
    "measure_chart",
    "precision_etc",
    "resource_workload",
    "throughput",
    "to_petri_net",
    "token_replay",
    "trend_svg",
    "variants",
    "variants_json",
    "western_electric",
    "working_together",
    "write_model_bpmn",
    "xbar_r_chart",
]


# public functions win over same-named submodules once those load (see LazyPackage)
sys.modules[__name__].__class__ = LazyPackage


def __getattr__(name: str) -> Any:
    """Load a public name (or a submodule) on first access."""
    return load(sys.modules[__name__], name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
