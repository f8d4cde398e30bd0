"""Process mining: discovery, Petri nets, conformance, bottlenecks, filters, social networks.

Every function takes the event-log frame of :mod:`liucheng.history` (or a log file path) and
works on ``complete`` events unless told otherwise. Discovery and conformance work on the
variant level (each distinct trace once, weighted by its number of cases).
"""

from __future__ import annotations

from ._log import LogInput, VariantLog, complete_events, load_log, variant_log
from .alignments import AlignmentResult, TraceAlignment, align, align_variants
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

__all__ = [
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
