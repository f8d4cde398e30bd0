"""Shared pieces of the compiled-path differential tests (same seed -> same simulation)."""

from __future__ import annotations

from typing import Any


def exp(mean: str) -> dict[str, Any]:
    """An exponential duration with an ISO 8601 mean, as a scenario file writes it."""
    return {"distribution": "exponential", "mean": mean}


def same_log(engine: Any, compiled: Any, *, per_run: str = "commands") -> bool:
    """Whether two results hold the same event log per replication and the same ``per_run``
    figure (a run attribute: ``commands``, ``ends``) for every replication."""
    return all(
        engine.event_log(i).equals(compiled.event_log(i)) for i in range(len(engine.runs))
    ) and [getattr(r, per_run) for r in engine.runs] == [getattr(r, per_run) for r in compiled.runs]
