"""Liucheng (流程): an open process platform.

Define processes in BPMN 2.0 and DMN, run them on a durable engine that assigns and tracks every
task, measure them with process KPIs, mine their real history and try changes in simulation.
"""

from __future__ import annotations

from liucheng.errors import LiuchengError

__version__ = "0.1.0"

__all__ = ["LiuchengError", "__version__"]
