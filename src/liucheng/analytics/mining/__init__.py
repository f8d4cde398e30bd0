"""Process mining: discovery, Petri nets, conformance, bottlenecks, filters, social networks.

Every function takes the event-log frame of :mod:`liucheng.history` (or a log file path) and
works on ``complete`` events unless told otherwise. Discovery and conformance work on the
variant level (each distinct trace once, weighted by its number of cases).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .._lazy import LazyPackage, load

if TYPE_CHECKING:
    from ._log import LogInput, VariantLog, complete_events, load_log, variant_log
    from .alignments import (
        AlignmentResult,
        AlignStrategy,
        TraceAlignment,
        align,
        align_variants,
    )
    from .bottleneck import activity_waiting, handover_durations, resource_workload
    from .bpmn_export import (
        bpmn_to_petri_net,
        petri_to_bpmn,
        read_bpmn_net,
        tree_to_bpmn,
        write_model_bpmn,
    )
    from .conformance import ConformanceReport, conformance, precision_etc
    from .discovery_heuristics import HeuristicsNet, discover_heuristics, heuristics_to_petri_net
    from .discovery_inductive import discover_inductive, discover_inductive_variants
    from .errors import MiningError
    from .filtering import (
        filter_activities,
        filter_case_attribute,
        filter_case_performance,
        filter_end_activities,
        filter_event_attribute,
        filter_start_activities,
        filter_time_range,
        filter_variants_coverage,
        filter_variants_top,
    )
    from .petri import (
        PetriNet,
        SoundnessReport,
        Transition,
        check_soundness,
        reduce_silent,
        to_petri_net,
    )
    from .process_tree import Operator, ProcessTree
    from .replay import ReplayResult, TraceReplay, token_replay, token_replay_variants
    from .social import handover_network, working_together

# Public name -> defining submodule; each loads on first use (PEP 562, see ._lazy).
_EXPORTS: dict[str, str] = {
    "LogInput": "._log",
    "VariantLog": "._log",
    "complete_events": "._log",
    "load_log": "._log",
    "variant_log": "._log",
    "AlignmentResult": ".alignments",
    "AlignStrategy": ".alignments",
    "TraceAlignment": ".alignments",
    "align": ".alignments",
    "align_variants": ".alignments",
    "activity_waiting": ".bottleneck",
    "handover_durations": ".bottleneck",
    "resource_workload": ".bottleneck",
    "bpmn_to_petri_net": ".bpmn_export",
    "petri_to_bpmn": ".bpmn_export",
    "read_bpmn_net": ".bpmn_export",
    "tree_to_bpmn": ".bpmn_export",
    "write_model_bpmn": ".bpmn_export",
    "ConformanceReport": ".conformance",
    "conformance": ".conformance",
    "precision_etc": ".conformance",
    "HeuristicsNet": ".discovery_heuristics",
    "discover_heuristics": ".discovery_heuristics",
    "heuristics_to_petri_net": ".discovery_heuristics",
    "discover_inductive": ".discovery_inductive",
    "discover_inductive_variants": ".discovery_inductive",
    "MiningError": ".errors",
    "filter_activities": ".filtering",
    "filter_case_attribute": ".filtering",
    "filter_case_performance": ".filtering",
    "filter_end_activities": ".filtering",
    "filter_event_attribute": ".filtering",
    "filter_start_activities": ".filtering",
    "filter_time_range": ".filtering",
    "filter_variants_coverage": ".filtering",
    "filter_variants_top": ".filtering",
    "PetriNet": ".petri",
    "SoundnessReport": ".petri",
    "Transition": ".petri",
    "check_soundness": ".petri",
    "reduce_silent": ".petri",
    "to_petri_net": ".petri",
    "Operator": ".process_tree",
    "ProcessTree": ".process_tree",
    "ReplayResult": ".replay",
    "TraceReplay": ".replay",
    "token_replay": ".replay",
    "token_replay_variants": ".replay",
    "handover_network": ".social",
    "working_together": ".social",
}

__all__ = [
    "AlignStrategy",
    "AlignmentResult",
    "ConformanceReport",
    "HeuristicsNet",
    "LogInput",
    "MiningError",
    "Operator",
    "PetriNet",
    "ProcessTree",
    "ReplayResult",
    "SoundnessReport",
    "TraceAlignment",
    "TraceReplay",
    "Transition",
    "VariantLog",
    "activity_waiting",
    "align",
    "align_variants",
    "bpmn_to_petri_net",
    "check_soundness",
    "complete_events",
    "conformance",
    "discover_heuristics",
    "discover_inductive",
    "discover_inductive_variants",
    "filter_activities",
    "filter_case_attribute",
    "filter_case_performance",
    "filter_end_activities",
    "filter_event_attribute",
    "filter_start_activities",
    "filter_time_range",
    "filter_variants_coverage",
    "filter_variants_top",
    "handover_durations",
    "handover_network",
    "heuristics_to_petri_net",
    "load_log",
    "petri_to_bpmn",
    "precision_etc",
    "read_bpmn_net",
    "reduce_silent",
    "resource_workload",
    "to_petri_net",
    "token_replay",
    "token_replay_variants",
    "tree_to_bpmn",
    "variant_log",
    "working_together",
    "write_model_bpmn",
]


# public functions win over same-named submodules once those load (see LazyPackage)
sys.modules[__name__].__class__ = LazyPackage


def __getattr__(name: str) -> Any:
    """Load a public name (or a submodule) on first access."""
    return load(sys.modules[__name__], name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
