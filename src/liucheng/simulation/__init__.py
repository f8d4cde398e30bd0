"""liucheng.simulation: discrete-event simulation, staffing (Erlang C/A) and shift scheduling.

* :mod:`~liucheng.simulation.erlang` — Erlang C and Erlang A formulas, agents for a target.
* :mod:`~liucheng.simulation.shifts` — cheapest shifts for a week of demand (OR-Tools CP-SAT).
* :mod:`~liucheng.simulation.events` — the seeded event calendar of every simulation.
* :mod:`~liucheng.simulation.distributions` — validated duration/arrival distributions.
* :mod:`~liucheng.simulation.queue` — a multi-server queue station checked against the formulas.
* :mod:`~liucheng.simulation.scenario` — the simulation-scenario file (and Prosimos import).
* :mod:`~liucheng.simulation.bpmn_sim` / :mod:`~liucheng.simulation.results` — BPMN simulation
  on the engine's own semantics, KPIs with confidence intervals, the simulated event log.
* :mod:`~liucheng.simulation.calibrate` — a scenario from an event log, and log distances.
* :mod:`~liucheng.simulation.compare` — what-if comparison on common random numbers.
"""

from __future__ import annotations

from ._errors import (
    InfeasibleScheduleError,
    ScenarioError,
    SimulationEngineError,
    SimulationInputError,
    SimulationLimitError,
)
from .arrivals import arrival_times, case_attribute_sampler, replay_times, scenario_calendars
from .bpmn_sim import ActivityRecord, ReplicationRun
from .bpsim import bpmn_scenario_document, merge_scenario_documents, scenario_for_model
from .calendars import WeeklyCalendar
from .calibrate import Calibration, calibrate, fit_distribution, log_distance
from .compare import Comparison, compare, compare_results, comparison_svg
from .demand import DemandInterval, DemandTable, read_demand, required_agents
from .distributions import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Normal,
    Sampler,
    Triangular,
    Uniform,
    distribution_from_spec,
    parse_seconds,
)
from .erlang import (
    StaffingResult,
    agents_for_target,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_probability_wait,
    evaluate_staffing,
    offered_load,
)
from .events import Event, EventLoop, spawn_generators
from .plan import IntervalCheck, simulate_plan
from .prosimos import prosimos_distribution, read_prosimos
from .queue import Estimate, QueueRun, QueueSummary, replicate_queue, simulate_queue
from .results import HourlySeries, SimulationResult, event_log, simulate
from .scenario import (
    ActivitySpec,
    Arrivals,
    CalendarSpec,
    CaseAttribute,
    GatewaySpec,
    Period,
    Person,
    RatePeriod,
    ReplaySpec,
    ResourcePool,
    Scenario,
    WaitSpec,
    load_scenario,
    scenario_from_dict,
    scenario_json_schema,
)
from .shifts import (
    BreakRule,
    ScheduleResult,
    ShiftPattern,
    ShiftsConfig,
    load_shifts,
    schedule_shifts,
    solve_schedule,
)

__all__ = [
    "ActivityRecord",
    "ActivitySpec",
    "Arrivals",
    "BreakRule",
    "CalendarSpec",
    "Calibration",
    "CaseAttribute",
    "Comparison",
    "DemandInterval",
    "DemandTable",
    "Distribution",
    "Empirical",
    "Estimate",
    "Event",
    "EventLoop",
    "Exponential",
    "Fixed",
    "Gamma",
    "GatewaySpec",
    "HourlySeries",
    "InfeasibleScheduleError",
    "IntervalCheck",
    "LogNormal",
    "Normal",
    "Period",
    "Person",
    "QueueRun",
    "QueueSummary",
    "RatePeriod",
    "ReplaySpec",
    "ReplicationRun",
    "ResourcePool",
    "Sampler",
    "Scenario",
    "ScenarioError",
    "ScheduleResult",
    "ShiftPattern",
    "ShiftsConfig",
    "SimulationEngineError",
    "SimulationInputError",
    "SimulationLimitError",
    "SimulationResult",
    "StaffingResult",
    "Triangular",
    "Uniform",
    "WaitSpec",
    "WeeklyCalendar",
    "agents_for_target",
    "arrival_times",
    "bpmn_scenario_document",
    "calibrate",
    "case_attribute_sampler",
    "compare",
    "compare_results",
    "comparison_svg",
    "distribution_from_spec",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_probability_wait",
    "evaluate_staffing",
    "event_log",
    "fit_distribution",
    "load_scenario",
    "load_shifts",
    "log_distance",
    "merge_scenario_documents",
    "offered_load",
    "parse_seconds",
    "prosimos_distribution",
    "read_demand",
    "read_prosimos",
    "replay_times",
    "replicate_queue",
    "required_agents",
    "scenario_calendars",
    "scenario_for_model",
    "scenario_from_dict",
    "scenario_json_schema",
    "schedule_shifts",
    "simulate",
    "simulate_plan",
    "simulate_queue",
    "solve_schedule",
    "spawn_generators",
]
