"""SLA definitions the engine starts clocks from: registrations (``Engine.add_sla``), SLAs
deployed with the model (``liucheng:sla`` extension elements, SLA files) and the definition a
clock keeps (docs/work.md, "SLA definitions with the deployment")."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from liucheng.errors import LiuchengError, ModelError

__all__ = ["MANUAL_PAUSE", "MANUAL_RESUME", "SlaRegistration", "check_sla_files", "is_sla_file"]

MANUAL_PAUSE = "sla.paused"
MANUAL_RESUME = "sla.resumed"
_SLA_FILE_NAMES = frozenset({"sla.yaml", "sla.yml", "slas.yaml", "slas.yml"})


@dataclass(frozen=True)
class SlaRegistration:
    """An SLA the engine keeps a clock of.

    Attributes:
        definition: The ``liucheng.org.SlaDefinition`` (target, calendar, warnings, lifecycle
            names; empty lifecycle names take the defaults of docs/work.md).
        process: Process key.
        task: Element id or name of the user task (``None``: one clock per process instance).
        escalation: A ``liucheng.org.EscalationPolicy`` for the clock, if any.
        calendar_name: The calendar's name as declared, if any.
        source: Where it was declared: ``engine`` (``add_sla``), ``bpmn`` or the SLA file name.
    """

    definition: Any
    process: str
    task: str | None = None
    escalation: Any = None
    calendar_name: str | None = None
    source: str = "engine"

    def to_dict(self) -> dict[str, Any]:
        """The mapping a clock keeps of its definition (calendar inlined; see
        ``liucheng.org.sla_to_dict``)."""
        from liucheng.org import sla_to_dict

        out = sla_to_dict(
            self.definition,
            self.escalation,
            process=self.process,
            task=self.task,
            calendar_name=self.calendar_name,
        )
        return out

    @classmethod
    def from_spec(cls, spec: Any, process: str, source: str) -> SlaRegistration:
        """From a ``liucheng.org.SlaSpec``."""
        return cls(spec.definition, process, spec.task, spec.escalation, spec.calendar_name, source)

    def effective(self) -> Any:
        """The definition with default lifecycle names and the manual pause/resume names."""
        d = self.definition
        task = d.scope == "task"
        start = d.start_on or (("task.created",) if task else ("process.started",))
        stop = d.stop_on or (("task.completed",) if task else ("process.ended",))
        pause = d.pause_on or ("wait.started",)
        resume = d.resume_on or ("wait.ended",)
        return dataclasses.replace(
            d,
            start_on=tuple(start),
            stop_on=(*stop, "task.cancelled", "process.ended", "clock.removed"),
            pause_on=(*pause, MANUAL_PAUSE),
            resume_on=(*resume, MANUAL_RESUME),
        )

    def policy(self) -> Any:
        """The escalation policy (warnings only when none was given)."""
        from liucheng.org import EscalationPolicy

        if self.escalation is not None:
            return dataclasses.replace(self.escalation, sla=self.effective())
        return EscalationPolicy(self.definition.name, self.effective(), ())


def is_sla_file(name: str) -> bool:
    """Whether a deployed resource is an SLA file (``*.sla.yaml``, ``slas.yaml``...)."""
    lower = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return lower.endswith((".sla.yaml", ".sla.yml")) or lower in _SLA_FILE_NAMES


def check_sla_files(files: dict[str, bytes], graphs: dict[str, Any]) -> None:
    """Refuse a deployment whose SLA files are malformed or name a process or user task that
    the deployment does not bring.

    Raises:
        ModelError: With the file (and line) of the first problem.
    """
    from liucheng.org import load_sla_file

    for rname, data in files.items():
        try:
            parsed = load_sla_file(data, file=rname)
        except LiuchengError as exc:
            raise ModelError(
                f"bad SLA file: {exc.message}",
                file=rname,
                line=exc.line,
                code="engine.sla.invalid",
                hint=exc.hint or "see docs/work.md, SLA definitions with the deployment",
            ) from None
        for entry in parsed.slas:
            key = str(entry.get("process"))
            graph = graphs.get(key)
            if graph is None:
                raise ModelError(
                    f"SLA '{entry.get('name')}' names process '{key}', which this deployment "
                    "does not contain",
                    file=rname,
                    code="engine.sla.process",
                    hint="deploy the SLA file together with the BPMN of its process",
                )
            task = entry.get("task")
            if task is not None and not any(
                n.kind == "user" and task in (n.id, n.name) for n in graph.nodes.values()
            ):
                raise ModelError(
                    f"SLA '{entry.get('name')}' names task '{task}', which is no user task of "
                    f"process '{key}'",
                    file=rname,
                    code="engine.sla.task",
                    hint="use the user task's element id or name",
                )
