"""Errors of the simulation part: bad scenarios, bad staffing input, infeasible schedules."""

from __future__ import annotations

from typing import Any

from liucheng.errors import LiuchengError, ValidationError

__all__ = [
    "InfeasibleScheduleError",
    "ScenarioError",
    "SimulationEngineError",
    "SimulationInputError",
    "SimulationLimitError",
]


class SimulationInputError(ValidationError):
    """A parameter of a distribution, a queue or a staffing question is out of range.

    ``path`` names the offending key (``"activities.review.duration.mean"``) when the value came
    from a file.
    """

    default_code = "simulation.input"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        code: str | None = None,
        hint: str | None = None,
        file: str | None = None,
        line: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.reason = message
        merged = dict(details or {})
        if path:
            merged.setdefault("path", path)
            message = f"{path}: {message}"
        super().__init__(message, code=code, hint=hint, file=file, line=line, details=merged)


class ScenarioError(SimulationInputError):
    """A simulation scenario file that cannot be read or is not valid."""

    default_code = "simulation.scenario.invalid"


class InfeasibleScheduleError(LiuchengError):
    """No combination of the allowed shifts covers the required agents."""

    default_code = "simulation.schedule.infeasible"
    default_hint = (
        "allow shifts that cover the listed intervals (start times, days, lengths) "
        "or lower the demand there"
    )


class SimulationLimitError(LiuchengError):
    """A replication hit ``max_events`` or ``max_virtual_time`` (with ``on_limit: error``)."""

    default_code = "simulation.limit"


class SimulationEngineError(LiuchengError):
    """An engine command of a replication failed: the model fails at run time.

    ``element_id`` is the element where it failed; ``details`` carry ``replication``,
    ``case``, ``element``, ``time`` (virtual seconds) and ``cause`` (the engine's error code).
    """

    default_code = "simulation.engine.failed"
