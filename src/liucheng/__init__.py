"""Liucheng (流程): an open process platform.

Define processes in BPMN 2.0 and DMN, run them on a durable engine that assigns and tracks every
task, measure them with process KPIs, mine their real history and try changes in simulation.

The public API is re-exported here and loaded on first use, so ``import liucheng`` stays cheap::

    import liucheng

    engine = liucheng.Engine(liucheng.SqlStore("sqlite:///liucheng.db"))
    engine.deploy("order.bpmn")
    pid = engine.start_process("order", {"amount": 120})
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from liucheng.errors import LiuchengError

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS: dict[str, str] = {
    # engine and store
    "Engine": "liucheng.engine",
    "ManualClock": "liucheng.engine",
    "MemoryStore": "liucheng.engine",
    "SqlStore": "liucheng.store",
    "JobExecutor": "liucheng.jobs",
    "RetryPolicy": "liucheng.engine",
    # models
    "Definitions": "liucheng.model",
    "ProcessBuilder": "liucheng.model",
    "parse_bpmn": "liucheng.model",
    "validate": "liucheng.model",
    "write_bpmn": "liucheng.model",
    # expressions and decisions
    "FeelFunction": "liucheng.feel",
    "compile_expression": "liucheng.feel",
    "compile_unary_tests": "liucheng.feel",
    "decide": "liucheng.dmn",
    "load_model": "liucheng.dmn",
    # organisation and time limits
    "BusinessCalendar": "liucheng.org",
    "Organisation": "liucheng.org",
    "load_calendar": "liucheng.org",
    "load_organisation": "liucheng.org",
    # event logs and analysis
    "read_engine_log": "liucheng.history",
    "read_log": "liucheng.history",
    "write_log": "liucheng.history",
    # staffing and simulation
    "agents_for_target": "liucheng.simulation",
    "erlang_a": "liucheng.simulation",
    "erlang_c": "liucheng.simulation",
    "schedule_shifts": "liucheng.simulation",
    "simulate": "liucheng.simulation",
}

__all__ = [
    "BusinessCalendar",
    "Definitions",
    "Engine",
    "FeelFunction",
    "JobExecutor",
    "LiuchengError",
    "ManualClock",
    "MemoryStore",
    "Organisation",
    "ProcessBuilder",
    "RetryPolicy",
    "SqlStore",
    "__version__",
    "agents_for_target",
    "compile_expression",
    "compile_unary_tests",
    "decide",
    "erlang_a",
    "erlang_c",
    "load_calendar",
    "load_model",
    "load_organisation",
    "parse_bpmn",
    "read_engine_log",
    "read_log",
    "schedule_shifts",
    "simulate",
    "validate",
    "write_bpmn",
    "write_log",
]

if TYPE_CHECKING:
    from liucheng.dmn import decide, load_model
    from liucheng.engine import Engine, ManualClock, MemoryStore, RetryPolicy
    from liucheng.feel import FeelFunction, compile_expression, compile_unary_tests
    from liucheng.history import read_engine_log, read_log, write_log
    from liucheng.jobs import JobExecutor
    from liucheng.model import Definitions, ProcessBuilder, parse_bpmn, validate, write_bpmn
    from liucheng.org import BusinessCalendar, Organisation, load_calendar, load_organisation
    from liucheng.simulation import (
        agents_for_target,
        erlang_a,
        erlang_c,
        schedule_shifts,
        simulate,
    )
    from liucheng.store import SqlStore


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'liucheng' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
