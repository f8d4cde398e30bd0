"""The simulation scenario: what a simulated process sees (arrivals, durations, routing, people).

A scenario is a YAML or JSON document (format in ``docs/simulation.md``) validated into the
pydantic models below. It names BPMN elements by id: activities (tasks), gateways (their outgoing
sequence flows), and catch events or receive tasks (message/timer waits). Every error names the
key path of the bad value (``activities.review.duration.mean``) and the file.

Times are seconds or ISO 8601 durations; time of day is ``HH:MM``; days are ``mon`` … ``sun``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ._errors import ScenarioError
from ._files import InputValueError, checked, load_document, validate_model
from .demand import WEEKDAYS, parse_time_of_day, parse_weekday
from .distributions import (
    DISTRIBUTION_NAMES,
    Distribution,
    distribution_from_spec,
    parse_seconds,
)

__all__ = [
    "ActivitySpec",
    "Arrivals",
    "CalendarSpec",
    "CaseAttribute",
    "GatewaySpec",
    "Period",
    "Person",
    "RatePeriod",
    "ReplaySpec",
    "ResourcePool",
    "Scenario",
    "WaitSpec",
    "load_scenario",
    "scenario_from_dict",
    "scenario_json_schema",
]


def _to_distribution(value: Any) -> Distribution:
    if isinstance(value, Distribution):
        return value
    return checked(lambda: distribution_from_spec(value, ""))


def _to_seconds(value: Any) -> float:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be finite")
    return checked(lambda: parse_seconds(value, ""))


_SECONDS_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0, "description": "seconds"},
        {"type": "string", "pattern": "^P", "description": "ISO 8601 duration, e.g. PT3M"},
    ]
}
_DISTRIBUTION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        *_SECONDS_SCHEMA["anyOf"],
        {
            "type": "object",
            "required": ["distribution"],
            "properties": {
                "distribution": {"enum": sorted(DISTRIBUTION_NAMES)},
                **{
                    key: {"anyOf": _SECONDS_SCHEMA["anyOf"]}
                    for key in (
                        "mean",
                        "std",
                        "low",
                        "mode",
                        "high",
                        "value",
                        "scale",
                        "min",
                        "max",
                    )
                },
                "rate": {"type": "number", "exclusiveMinimum": 0},
                "shape": {"type": "number", "exclusiveMinimum": 0},
                "edges": {"type": "array", "items": {"type": "number"}},
                "values": {"type": "array", "items": {"type": "number"}},
                "weights": {"type": "array", "items": {"type": "number", "minimum": 0}},
            },
            "additionalProperties": False,
        },
    ],
    "description": "a distribution (see docs/simulation.md), or a fixed time",
}

DistributionField = Annotated[
    Distribution,
    BeforeValidator(_to_distribution),
    PlainSerializer(lambda d: d.to_dict(), return_type=dict),
    WithJsonSchema(_DISTRIBUTION_SCHEMA),
]
Seconds = Annotated[float, BeforeValidator(_to_seconds), WithJsonSchema(_SECONDS_SCHEMA)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Period(_Model):
    """Weekly opening period: ``days`` from ``from`` to ``to`` (``"24:00"`` ends the day)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True
    )

    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS))
    start: str = Field(alias="from")
    end: str = Field(alias="to")

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one day")
        out: list[str] = []
        for i, day in enumerate(value):
            index = checked(lambda day=day, i=i: parse_weekday(day, f"[{i}]"))  # type: ignore[misc]
            out.append(WEEKDAYS[index])
        return out

    @model_validator(mode="after")
    def _times(self) -> Period:
        lo = checked(lambda: parse_time_of_day(self.start, "from"))
        hi = checked(lambda: parse_time_of_day(self.end, "to"))
        if hi <= lo:
            raise ValueError(f"'to' {self.end} must be after 'from' {self.start}")
        return self

    def minutes(self) -> tuple[int, int]:
        """``(from, to)`` in minutes after midnight."""
        return parse_time_of_day(self.start), parse_time_of_day(self.end)


class CalendarSpec(_Model):
    """A weekly calendar of working periods, with optional closed dates."""

    periods: list[Period] = Field(min_length=1)
    holidays: list[dt.date] = Field(default_factory=list)


class RatePeriod(Period):
    """A period of the arrival profile with its rate (cases per hour)."""

    rate: float = Field(ge=0)


class ReplaySpec(_Model):
    """Replay the case arrivals of a log (CSV) or of listed timestamps."""

    file: str | None = None
    timestamps: list[dt.datetime] | None = None
    case_column: str = "case"
    timestamp_column: str = "timestamp"

    @model_validator(mode="after")
    def _one(self) -> ReplaySpec:
        if (self.file is None) == (self.timestamps is None):
            raise ValueError("give exactly one of 'file' and 'timestamps'")
        return self


class Arrivals(_Model):
    """How cases arrive: exactly one of ``interarrival``, ``profile`` and ``replay``.

    Attributes:
        interarrival: Time between consecutive cases.
        calendar: Cases (with ``interarrival``) arrive only while this calendar is open.
        profile: Piecewise-constant rate per hour of the week (a non-homogeneous Poisson process).
        replay: Replay recorded arrivals.
        max_cases: Stop creating cases after this many (per replication).
    """

    interarrival: DistributionField | None = None
    calendar: str | None = None
    profile: list[RatePeriod] | None = None
    replay: ReplaySpec | None = None
    max_cases: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> Arrivals:
        given = [k for k in ("interarrival", "profile", "replay") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'interarrival', 'profile' and 'replay'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.profile is not None and not any(p.rate > 0 for p in self.profile):
            raise ValueError("the arrival profile has no period with a rate above 0")
        return self


class CaseAttribute(_Model):
    """A generated case attribute: ``choices`` (value → probability) or a ``distribution``."""

    choices: dict[str, float] | None = None
    distribution: DistributionField | None = None

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        # A bare distribution mapping ({"distribution": "normal", ...}) or a number is allowed.
        if (
            isinstance(data, dict)
            and "choices" not in data
            and isinstance(data.get("distribution"), str)
        ):
            return {"distribution": data}
        if isinstance(data, int | float | str) and not isinstance(data, bool):
            return {"distribution": data}
        return data

    @model_validator(mode="after")
    def _one(self) -> CaseAttribute:
        if (self.choices is None) == (self.distribution is None):
            raise ValueError("give exactly one of 'choices' and 'distribution'")
        return self

    @field_validator("choices")
    @classmethod
    def _choices(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            _check_probabilities(value)
        return value


_ATTRIBUTE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {
            "type": "object",
            "properties": {
                "choices": {"type": "object", "additionalProperties": {"type": "number"}},
            },
            "required": ["choices"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"distribution": _DISTRIBUTION_SCHEMA},
            "required": ["distribution"],
            "additionalProperties": False,
        },
        *_DISTRIBUTION_SCHEMA["anyOf"],
    ]
}


def _check_feel(text: str, path: str) -> None:
    """Raise (through pydantic, with ``path``) when ``text`` is not a FEEL expression."""
    from liucheng.errors import FeelError
    from liucheng.feel import compile_expression

    if not text.strip():
        raise InputValueError(ScenarioError("empty FEEL expression", path=path or None))
    try:
        compile_expression(text)
    except FeelError as exc:
        raise InputValueError(
            ScenarioError(f"not a valid FEEL expression: {exc.message}", path=path or None)
        ) from None


def _check_probabilities(probabilities: dict[str, float]) -> None:
    if not probabilities:
        raise ValueError("needs at least one entry")
    for key, p in probabilities.items():
        if not (math.isfinite(p) and 0 <= p <= 1):
            raise ValueError(f"probability of {key!r} must be in [0, 1], got {p}")
    total = sum(probabilities.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"probabilities must add up to 1, they add up to {total:.6g}")


class ActivitySpec(_Model):
    """Parameters of one activity (task) by BPMN id.

    Attributes:
        duration: Processing time (working time of the resource).
        by_resource: Processing time per pool or person id, overriding ``duration``.
        resources: Pools whose members can do it (default: no resource needed).
        cost: Fixed cost per execution, on top of resource time.
        priority: Queue priority (higher first): a number or a FEEL expression over case
            attributes.
        skills: Skill levels a member of a ``skill-based`` pool needs (organisation skills).
    """

    duration: DistributionField | None = None
    by_resource: dict[str, DistributionField] = Field(default_factory=dict)
    resources: list[str] = Field(default_factory=list)
    cost: float = Field(default=0.0, ge=0)
    priority: int | str = 0
    skills: dict[str, int] = Field(default_factory=dict)

    @field_validator("priority")
    @classmethod
    def _priority(cls, value: int | str) -> int | str:
        if isinstance(value, str):
            _check_feel(value, "")
        return value

    @model_validator(mode="after")
    def _duration(self) -> ActivitySpec:
        if self.duration is None and not self.by_resource:
            raise ValueError("give 'duration' or 'by_resource'")
        if self.duration is None:
            missing = [r for r in self.resources if r not in self.by_resource]
            if missing:
                raise ValueError(f"no duration for resource(s) {', '.join(missing)}")
        return self


class GatewaySpec(_Model):
    """Routing of an exclusive/inclusive gateway: ``probabilities`` or FEEL ``conditions``."""

    probabilities: dict[str, float] | None = None
    conditions: dict[str, str] | None = None
    default: str | None = None

    @model_validator(mode="after")
    def _one(self) -> GatewaySpec:
        if (self.probabilities is None) == (self.conditions is None):
            raise ValueError("give exactly one of 'probabilities' and 'conditions'")
        return self

    @field_validator("conditions")
    @classmethod
    def _conditions(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for flow, text in (value or {}).items():
            _check_feel(text, flow)
        return value

    @field_validator("probabilities")
    @classmethod
    def _probabilities(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            _check_probabilities(value)
        return value


class WaitSpec(_Model):
    """How long a message/timer catch event or receive task waits in simulation."""

    duration: DistributionField


class Person(_Model):
    """A named member of a pool, with their own calendar or shifts and cost."""

    id: str = Field(min_length=1)
    calendar: str | None = None
    shifts: list[Period] | None = None
    cost_per_hour: float | None = Field(default=None, ge=0)


class ResourcePool(_Model):
    """A pool of interchangeable resources: ``count`` anonymous ones or listed ``people``.

    Attributes:
        role: Organisation role it stands for (lanes and candidate groups match it; without
            ``count``/``people`` its members come from the scenario's ``organisation``).
        group: Organisation group selecting members (with ``organisation``).
        department: Organisation department (with sub-departments) selecting members.
        count: Number of identical resources.
        people: Named people (with calendars/shifts); exclusive with ``count``.
        calendar: Working calendar of the pool (default: always available).
        cost_per_hour: Cost of one working hour.
        strategy: Who takes a task when several members are free: ``first-free`` (default),
            ``round-robin``, ``least-loaded`` (least worked so far) or ``skill-based``.
    """

    role: str | None = None
    group: str | None = None
    department: str | None = None
    count: int | None = Field(default=None, ge=0)
    people: list[Person] | None = None
    calendar: str | None = None
    cost_per_hour: float = Field(default=0.0, ge=0)
    strategy: Literal["first-free", "round-robin", "least-loaded", "skill-based"] | None = None

    @model_validator(mode="after")
    def _one(self) -> ResourcePool:
        from_org = self.role is not None or self.group is not None or self.department is not None
        if self.count is not None and self.people is not None:
            raise ValueError("give exactly one of 'count' and 'people'")
        if self.count is None and self.people is None and not from_org:
            raise ValueError(
                "give exactly one of 'count' and 'people' "
                "(or 'role'/'group'/'department' with an 'organisation')"
            )
        if self.people is not None:
            ids = [p.id for p in self.people]
            if len(set(ids)) != len(ids):
                raise ValueError("person ids must be unique within a pool")
        return self

    @property
    def size(self) -> int:
        """Number of resources."""
        return self.count if self.count is not None else len(self.people or [])


def _bad(path: str, message: str) -> None:
    raise InputValueError(ScenarioError(message, path=path))


class Scenario(_Model):
    """A simulation scenario (see ``docs/simulation.md``)."""

    version: Literal[1] = 1
    name: str | None = None
    model: str | None = None
    process: str | None = None
    start: dt.datetime = dt.datetime(2026, 1, 5, 0, 0)
    horizon: Seconds | None = None
    warm_up: Seconds = 0.0
    replications: int = Field(default=1, ge=1, le=10_000)
    seed: int | None = Field(default=None, ge=0)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    sla: Seconds | None = None
    max_events: int = Field(default=10_000_000, gt=0)
    max_virtual_time: Seconds | None = None
    on_limit: Literal["truncate", "error"] = "truncate"
    organisation: str | None = None
    arrivals: Arrivals
    case_attributes: dict[str, Annotated[CaseAttribute, WithJsonSchema(_ATTRIBUTE_SCHEMA)]] = Field(
        default_factory=dict
    )
    activities: dict[str, ActivitySpec] = Field(default_factory=dict)
    gateways: dict[str, GatewaySpec] = Field(default_factory=dict)
    events: dict[str, WaitSpec] = Field(default_factory=dict)
    resources: dict[str, ResourcePool] = Field(default_factory=dict)
    calendars: dict[str, CalendarSpec] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        if (
            self.horizon is None
            and self.arrivals.max_cases is None
            and self.arrivals.replay is None
        ):
            raise ValueError("give 'horizon' or 'arrivals.max_cases' to end the simulation")
        if self.horizon is not None and self.horizon <= 0:
            raise ValueError("'horizon' must be > 0")
        if self.max_virtual_time is not None and self.max_virtual_time <= 0:
            _bad("max_virtual_time", "must be > 0")
        if self.horizon is not None and self.warm_up >= self.horizon:
            _bad("warm_up", f"must be below the horizon ({self.horizon} s)")
        calendars = set(self.calendars)
        if self.arrivals.calendar is not None and self.arrivals.calendar not in calendars:
            _bad("arrivals.calendar", f"unknown calendar {self.arrivals.calendar!r}")
        people: set[str] = set()
        for pool_id, pool in self.resources.items():
            if pool.count is None and pool.people is None and self.organisation is None:
                _bad(
                    f"resources.{pool_id}",
                    "give 'count' or 'people', or name an 'organisation' to draw its people from",
                )
            if pool.calendar is not None and pool.calendar not in calendars:
                _bad(f"resources.{pool_id}.calendar", f"unknown calendar {pool.calendar!r}")
            for i, person in enumerate(pool.people or []):
                people.add(person.id)
                if person.calendar is not None and person.calendar not in calendars:
                    _bad(
                        f"resources.{pool_id}.people[{i}].calendar",
                        f"unknown calendar {person.calendar!r}",
                    )
        for act_id, act in self.activities.items():
            for i, pool_id in enumerate(act.resources):
                if pool_id not in self.resources:
                    _bad(
                        f"activities.{act_id}.resources[{i}]", f"unknown resource pool {pool_id!r}"
                    )
            for rid in act.by_resource:
                if rid not in self.resources and rid not in people:
                    _bad(f"activities.{act_id}.by_resource.{rid}", "not a pool or person id")
        for gw_id, gw in self.gateways.items():
            flows = set(gw.probabilities or gw.conditions or {})
            if gw.default is not None and gw.conditions is not None and gw.default in flows:
                _bad(f"gateways.{gw_id}.default", "the default flow has a condition")
        return self


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of the scenario file (for editors and the REST API)."""
    return Scenario.model_json_schema(mode="validation")


def scenario_from_dict(data: Any, *, file: str | None = None) -> Scenario:
    """Validate a parsed scenario document.

    Raises:
        ScenarioError: naming the key path of the first problem.
    """
    if not isinstance(data, dict):
        raise ScenarioError("a scenario must be a mapping at the top level", file=file)
    return validate_model(Scenario, data, file=file, error=ScenarioError)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from a YAML or JSON file.

    Raises:
        ScenarioError: unreadable file, malformed YAML/JSON or invalid content (with key path).
    """
    return scenario_from_dict(load_document(path, error=ScenarioError), file=str(path))
