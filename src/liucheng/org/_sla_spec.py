"""Declarative SLA definitions: the mapping form of an SLA (with its escalation levels) and the
SLA file deployed next to a BPMN model (docs/work.md, "SLA definitions with the deployment").

The same mapping is what a running clock keeps of its definition, with the calendar inlined, so
any engine on the same store can continue a clock that another engine started.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ._calendar import BusinessCalendar, calendar_from_dict
from ._duration import IsoDuration, format_duration
from ._errors import CalendarError, SlaError
from ._escalation import EscalationLevel, EscalationPolicy
from ._sla import SlaDefinition
from ._yaml import load_yaml_document

__all__ = ["SlaFile", "SlaSpec", "load_sla_file", "sla_from_dict", "sla_to_dict"]

_KEYS = frozenset(
    {
        "name",
        "process",
        "task",
        "target",
        "calendar",
        "calendar_spec",
        "warn_at",
        "scope",
        "start_on",
        "pause_on",
        "resume_on",
        "stop_on",
        "escalation",
        "skip_unavailable",
    }
)
_LEVEL_KEYS = frozenset({"after", "action", "levels_up"})
_LIFECYCLE = ("start_on", "pause_on", "resume_on", "stop_on")


@dataclass(frozen=True)
class SlaSpec:
    """One SLA as declared: what to measure, where, and how to escalate.

    Attributes:
        definition: The clock definition (calendar resolved).
        process: Process key it applies to (``None``: the process it is declared in).
        task: User task element id or name (``None``: one clock per process instance).
        escalation: Escalation policy, if levels are declared.
        calendar_name: The calendar's name as written, if any.
    """

    definition: SlaDefinition
    process: str | None = None
    task: str | None = None
    escalation: EscalationPolicy | None = None
    calendar_name: str | None = None


def _duration_text(value: timedelta | str | IsoDuration) -> str:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, IsoDuration):
        return value.text
    return str(value)


def _names(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(p.strip() for p in value.replace(";", ",").split(",") if p.strip())
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    raise SlaError(f"{what} must be a list of names or a comma-separated text, not {value!r}")


def _fractions(value: Any) -> tuple[float, ...]:
    if value is None:
        return (0.8,)
    items = _names(value, "warn_at") if isinstance(value, str) else value
    if isinstance(items, int | float):
        items = (items,)
    try:
        return tuple(float(v) for v in items)
    except (TypeError, ValueError):
        raise SlaError(
            f"warn_at must be fractions such as 0.8, not {value!r}", hint="write warn_at: [0.8]"
        ) from None


def sla_to_dict(
    definition: SlaDefinition,
    escalation: EscalationPolicy | None = None,
    *,
    process: str | None = None,
    task: str | None = None,
    calendar_name: str | None = None,
) -> dict[str, Any]:
    """The JSON-ready mapping of an SLA; its calendar is inlined (``calendar_spec``) so the
    mapping alone rebuilds it (:func:`sla_from_dict`)."""
    d = definition
    out: dict[str, Any] = {
        "name": d.name,
        "process": process,
        "task": task,
        "scope": d.scope,
        "target": _duration_text(d.target),
        "warn_at": list(d.warn_at),
    }
    cal = d.calendar
    if cal is not None:
        out["calendar"] = calendar_name or cal.name
        out["calendar_spec"] = cal.to_dict()
    for key in _LIFECYCLE:
        value = getattr(d, key)
        if value:
            out[key] = list(value)
    if escalation is not None:
        out["escalation"] = [
            {"after": _duration_text(lv.after), "action": lv.action, "levels_up": lv.levels_up}
            for lv in escalation.levels
        ]
        out["skip_unavailable"] = escalation.skip_unavailable
    return out


def sla_from_dict(
    data: Mapping[str, Any],
    *,
    calendars: Callable[[str], BusinessCalendar] | None = None,
    where: str | None = None,
) -> SlaSpec:
    """Build an SLA from its mapping (SLA file entry, BPMN extension or stored clock).

    Args:
        data: Keys ``name``, ``target`` (required), ``process``, ``task``, ``scope`` (default:
            ``task`` when a task is named, else ``process``), ``calendar`` (a name),
            ``calendar_spec`` (an inline calendar mapping, used before the name),
            ``warn_at``, ``start_on``/``pause_on``/``resume_on``/``stop_on``, ``escalation``
            (list of ``{after, action, levels_up}``), ``skip_unavailable``.
        calendars: Resolves a calendar name (raise for unknown names).
        where: Where the mapping comes from, for error messages.

    Raises:
        SlaError: Unknown keys, missing name or target, bad durations, fractions or actions.
    """
    at = f" in {where}" if where else ""
    if not isinstance(data, Mapping):
        raise SlaError(f"an SLA{at} must be a mapping, not {type(data).__name__}")
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise SlaError(
            f"unknown SLA key(s) {', '.join(unknown)}{at}",
            hint="keys: " + ", ".join(sorted(_KEYS)),
        )
    name = data.get("name")
    target = data.get("target")
    if not name or target in (None, ""):
        raise SlaError(f"an SLA{at} needs a name and a target", hint="e.g. target: PT8H")
    task = data.get("task")
    scope = str(data.get("scope") or ("task" if task else "process"))
    cal: BusinessCalendar | None = None
    cal_name = data.get("calendar")
    if data.get("calendar_spec") is not None:
        cal = calendar_from_dict(data["calendar_spec"], name=str(cal_name) if cal_name else None)
    elif cal_name:
        if calendars is None:
            raise SlaError(f"SLA '{name}'{at} names calendar '{cal_name}' but none are known")
        cal = calendars(str(cal_name))
    try:
        return _build(data, str(name), task, scope, cal, cal_name, at)
    except (CalendarError, TypeError, ValueError) as exc:
        raise SlaError(
            f"SLA '{name}'{at}: {getattr(exc, 'message', exc)}",
            hint="durations are ISO 8601 without years and months, e.g. PT8H or P2D",
        ) from None


def _build(  # noqa: PLR0917 - private helper
    data: Mapping[str, Any],
    name: str,
    task: Any,
    scope: str,
    cal: BusinessCalendar | None,
    cal_name: Any,
    at: str,
) -> SlaSpec:
    target = data["target"]
    target_value: Any = target if isinstance(target, timedelta) else str(target)
    definition = SlaDefinition(
        name,
        target_value,
        calendar=cal,
        warn_at=_fractions(data.get("warn_at")),
        scope=scope,
        **{k: _names(data.get(k), k) for k in _LIFECYCLE},
    )
    definition.target_time  # noqa: B018 - validates the duration now, not when a clock runs
    policy: EscalationPolicy | None = None
    levels_data = data.get("escalation")
    if levels_data:
        if not isinstance(levels_data, list):
            raise SlaError(f"escalation of SLA '{name}'{at} must be a list of levels")
        levels = []
        for lv in levels_data:
            if not isinstance(lv, Mapping) or set(map(str, lv)) - _LEVEL_KEYS:
                raise SlaError(
                    f"bad escalation level {lv!r} of SLA '{name}'{at}",
                    hint="a level is {after: PT0S, action: reassign|add_task|notify, levels_up: 1}",
                )
            after = lv.get("after", "PT0S")
            level = EscalationLevel(
                after if isinstance(after, timedelta) else str(after),
                str(lv.get("action", "notify")),
                int(lv.get("levels_up", 1)),
            )
            definition.clock_calendar.business_timedelta(level.after)
            levels.append(level)
        policy = EscalationPolicy(
            definition.name,
            definition,
            tuple(levels),
            skip_unavailable=bool(data.get("skip_unavailable", True)),
        )
    return SlaSpec(
        definition,
        str(data["process"]) if data.get("process") else None,
        str(task) if task else None,
        policy,
        str(cal_name) if cal_name else None,
    )


@dataclass(frozen=True)
class SlaFile:
    """A parsed SLA file: its own calendars and its SLA mappings (calendars not yet resolved).

    Attributes:
        calendars: Calendars defined in the file, by name.
        slas: The SLA mappings, in file order.
        file: The file name.
    """

    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)
    slas: tuple[Mapping[str, Any], ...] = ()
    file: str | None = None

    def resolve(
        self, fallback: Callable[[str], BusinessCalendar] | None = None
    ) -> Callable[[str], BusinessCalendar]:
        """A calendar resolver: the file's own calendars first, then ``fallback``."""

        def find(name: str) -> BusinessCalendar:
            cal = self.calendars.get(name)
            if cal is not None:
                return cal
            if fallback is None:
                raise SlaError(
                    f"unknown calendar '{name}' in {self.file or 'SLA file'}",
                    file=self.file,
                    hint="define it under calendars: in the file, the engine or the organisation",
                )
            return fallback(name)

        return find


def load_sla_file(text: str | bytes, *, file: str | None = None) -> SlaFile:
    """Parse and check an SLA file (YAML)::

        calendars: {office: {timezone: Europe/Berlin, week: {mon-fri: ["08:00-17:00"]}}}
        slas:
          - {name: resolution, process: service_desk, task: Solve ticket, target: PT8H,
             calendar: office, warn_at: [0.8], escalation: [{after: PT0S, action: reassign}]}

    Every SLA is built once (with calendars it cannot resolve left to the engine), so bad keys,
    durations, fractions and actions are refused at deployment.

    Raises:
        SlaError: The file is not such a document (with file and line where known).
    """
    source = text.decode("utf-8") if isinstance(text, bytes) else text
    data, lines = load_yaml_document(source, file=file, error=SlaError)
    if not isinstance(data, Mapping) or not isinstance(data.get("slas"), list):
        raise SlaError(
            "an SLA file is a mapping with a list under 'slas'", file=file, hint="see docs/work.md"
        )
    unknown = sorted(set(map(str, data)) - {"slas", "calendars"})
    if unknown:
        raise SlaError(f"unknown key(s) {', '.join(unknown)} in SLA file", file=file)
    cals: dict[str, BusinessCalendar] = {}
    for cname, cdata in (data.get("calendars") or {}).items():
        cals[str(cname)] = calendar_from_dict(
            cdata,
            file=file,
            lines={k[2:]: v for k, v in lines.items() if k[:2] == ("calendars", cname)},
            name=str(cname),
        )
    out = SlaFile(cals, tuple(data["slas"]), file)
    for index, entry in enumerate(out.slas):
        line = lines.get(("slas", index))
        try:
            spec = sla_from_dict(entry, calendars=_lenient(out), where=file)
        except SlaError as exc:
            raise SlaError(exc.message, file=file, line=line, hint=exc.hint) from exc
        if spec.process is None:
            raise SlaError(
                f"SLA '{spec.definition.name}' names no process",
                file=file,
                line=line,
                hint="add process: <the BPMN process id>",
            )
        if (spec.task is None) != (spec.definition.scope == "process"):
            raise SlaError(
                f"SLA '{spec.definition.name}' has scope '{spec.definition.scope}' "
                + ("but no task" if spec.task is None else f"and task '{spec.task}'"),
                file=file,
                line=line,
                code="engine.sla.scope",
            )
    return out


def _lenient(sla_file: SlaFile) -> Callable[[str], BusinessCalendar]:
    """For checking only: unknown calendar names count as always-on (the engine resolves them
    when a clock starts)."""
    from ._sla import always_calendar

    def find(name: str) -> BusinessCalendar:
        return sla_file.calendars.get(name) or always_calendar()

    return find
