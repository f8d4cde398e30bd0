"""Resources of the BPMN simulator: duty calendars, members, pools, queued work, choosers.

Hot-path records with ``__slots__``; :mod:`.bpmn_sim` drives them.
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .calendars import WeeklyCalendar
from .events import Event
from .scenario import ActivitySpec

if TYPE_CHECKING:
    from ._records import ActivityRecord

__all__ = ["_Chooser", "_Duty", "_Member", "_Pool", "_Work", "_qualified", "_skill_total"]


class _Duty:
    """``is_open`` of a calendar, remembering the open or closed stretch around the last query.

    Simulation time only moves forward, so most questions fall in the remembered stretch.
    """

    __slots__ = ("calendar", "hi", "lo", "open")

    def __init__(self, calendar: WeeklyCalendar) -> None:
        self.calendar = calendar
        self.lo = self.hi = -math.inf
        self.open = False

    def is_open(self, t: float) -> bool:
        if self.lo <= t < self.hi:
            return self.open
        for a, b in self.calendar.spans_from(t):
            if a <= t:
                self.lo, self.hi, self.open = t, b, True
            else:
                self.lo, self.hi, self.open = t, a, False
            return self.open
        self.lo, self.hi, self.open = t, math.inf, False
        return False


class _Member:
    """A pool member. ``capacity`` (open work items at once, from the organisation model):
    ``None`` or 1 - takes work only when free; ``c > 1`` - push strategies may also hand them
    work while they are busy, up to ``c`` items in hand and in their own backlog, which they
    work through one at a time; ``< 1`` - takes no work at all."""

    __slots__ = (
        "backlog",
        "busy",
        "calendar",
        "capacity",
        "cost_per_hour",
        "duty",
        "held",
        "id",
        "pool",
        "skills",
        "worked",
    )

    def __init__(
        self, mid: str, pool: _Pool, calendar: WeeklyCalendar | None, cost: float, duty: Any
    ) -> None:
        self.id = mid
        self.pool = pool
        self.calendar = calendar
        self.duty: _Duty | None = duty
        self.cost_per_hour = cost
        self.busy = False
        self.skills: dict[str, int] = {}
        self.worked = 0.0  # working seconds assigned so far (least-loaded)
        self.capacity: float | None = None
        self.held = 0  # open work items: the one in hand plus the backlog
        self.backlog: list[tuple[float, int, _Work]] = []

    def has_room(self) -> bool:
        """Whether a push strategy may hand them one more work item now."""
        if self.capacity is None:
            return not self.busy
        return self.held + 1 <= self.capacity

    def open_now(self, t: float) -> bool:
        return self.duty is None or self.duty.is_open(t)


class _Pool:
    __slots__ = (
        "backlogged",
        "backlogs",
        "changes",
        "cursor",
        "free",
        "id",
        "members",
        "queue",
        "strategy",
        "waiting",
        "wake",
    )

    def __init__(self, pid: str, strategy: str = "first-free") -> None:
        self.id = pid
        self.strategy = strategy
        self.cursor = -1
        self.members: list[_Member] = []
        self.free = 0  # members not busy (on duty or not)
        self.queue: list[tuple[float, int, _Work]] = []
        self.waiting = 0
        self.wake: Event | None = None
        self.backlogs = False  # a member may hold more than one work item (capacity >= 2)
        self.backlogged = 0  # work handed to busy members, not started: it waits too
        #: its ``[(time, queue length)]`` in the replication's run (set on first change)
        self.changes: list[tuple[float, int]] | None = None


class _Work:
    __slots__ = (
        "done",
        "event",
        "holder",
        "kind",
        "member",
        "pools",
        "priority",
        "record",
        "row_id",
        "spec",
    )

    def __init__(  # noqa: PLR0917 - a hot-path record, built in one place
        self,
        kind: str,
        row_id: str,
        spec: ActivitySpec | None,
        pools: list[_Pool],
        priority: float,
        record: ActivityRecord,
    ) -> None:
        self.kind = kind
        self.row_id = row_id
        self.spec = spec
        self.pools = pools
        self.priority = priority
        self.record = record
        self.done = False  # started or withdrawn: no longer in any queue
        self.member: _Member | None = None
        self.event: Event | None = None
        self.holder: _Member | None = None  # in this member's backlog, not started yet


class _Chooser:
    """Draws a flow id with fixed probabilities from its own stream, in batches."""

    __slots__ = ("_buf", "_cum", "_flows", "_i", "_rng")

    def __init__(self, flows: list[str], probs: list[float], rng: np.random.Generator) -> None:
        total = sum(probs)
        acc = 0.0
        self._cum: list[float] = []
        for p in probs:
            acc += p / total
            self._cum.append(acc)
        self._cum[-1] = 1.0
        self._flows = flows
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> str:
        if self._i >= len(self._buf):
            self._buf = self._rng.random(1024).tolist()
            self._i = 0
        u = self._buf[self._i]
        self._i += 1
        return self._flows[min(bisect.bisect_right(self._cum, u), len(self._flows) - 1)]


def _qualified(member: _Member, w: _Work) -> bool:
    need = w.spec.skills if w.spec is not None else None
    return not need or all(member.skills.get(k, 0) >= v for k, v in need.items())


def _skill_total(member: _Member, w: _Work) -> int:
    need = w.spec.skills if w.spec is not None else {}
    return sum(member.skills.get(k, 0) for k in need)
