"""Fixtures for people's-work tests: an engine with an organisation on each store, reloadable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from liucheng.engine import Engine, ManualClock, MemoryStore
from liucheng.org import organisation_from_dict

UTC = dt.UTC
# Monday 2025-03-03 10:00 Berlin (09:00 UTC): everyone on the office calendar is on shift.
MONDAY = dt.datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
    'xmlns:liucheng="https://liucheng.dev/schema/bpmn/1.0" targetNamespace="t">\n'
)


def bpmn(body: str, pid: str = "p", lanes: str = "", roots: str = "") -> bytes:
    """One executable process ``pid`` with ``body`` (and an optional laneSet)."""
    return (
        HEAD
        + roots
        + f'<process id="{pid}" isExecutable="true">{lanes}\n{body}\n</process>\n</definitions>'
    ).encode()


def user_task_process(attrs: str = "", pid: str = "p", inner: str = "") -> bytes:
    """start -> user task ``t`` (with ``attrs``) -> end."""
    return bpmn(
        '<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        f'<userTask id="t" name="Work" {attrs}>{inner}</userTask>'
        '<sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/>',
        pid,
    )


def org_data(people: int = 4, **extra: Any) -> dict[str, Any]:
    """A small organisation: a head, a lead and ``people`` agents (a1, a2, ...)."""
    agents = [
        {
            "id": f"a{i}",
            "name": f"Agent {i}",
            "department": "desk",
            "roles": ["agent"],
            "groups": ["queue"],
            "calendar": "office",
        }
        for i in range(1, people + 1)
    ]
    data: dict[str, Any] = {
        "timezone": "Europe/Berlin",
        "calendars": {
            "office": {"timezone": "Europe/Berlin", "week": {"mon-fri": ["08:00-17:00"]}},
            "always": {"timezone": "UTC", "week": {"all": ["00:00-24:00"]}},
        },
        "departments": [
            {"id": "company", "name": "Company", "head": "boss"},
            {"id": "desk", "name": "Desk", "parent": "company", "head": "lead"},
        ],
        "roles": ["agent", "team-lead"],
        "groups": ["queue", "leads"],
        "people": [
            {"id": "boss", "name": "Boss", "department": "company", "calendar": "always"},
            {
                "id": "lead",
                "name": "Lead",
                "department": "desk",
                "roles": ["team-lead"],
                "groups": ["leads"],
                "calendar": "always",
            },
            *agents,
        ],
        "processes": [],
    }
    data.update(extra)
    return data


@dataclass
class World:
    """An engine factory over one store; :meth:`reload` makes a fresh engine on the same store."""

    make_store: Callable[[], Any]
    clock: ManualClock
    org: Any
    store: Any = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    engine: Engine = field(init=False)

    def __post_init__(self) -> None:
        self.store = self.make_store()
        self.engine = self._new()

    def _new(self) -> Engine:
        eng = Engine(self.store, clock=self.clock, organisation=self.org, **self.kwargs)
        old = getattr(self, "engine", None)
        if old is not None:
            eng.slas = list(old.slas)
            eng.forms = dict(old.forms)
            eng.authorization = old.authorization
            eng.organisation = old.organisation
        return eng

    def reload(self) -> Engine:
        """Drop every in-memory cache: a new engine over the same stored state."""
        self.engine = self._new()
        return self.engine


@pytest.fixture(params=["memory", "sqlite"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def world(
    store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., World]]:
    """``world(org=..., **engine kwargs)`` → a :class:`World` on the parametrised store."""

    opened: list[Any] = []

    def make_store() -> Any:
        if store_kind == "memory":
            return MemoryStore()
        from liucheng.store import SqlStore

        if store_kind == "postgresql":
            store = SqlStore(request.getfixturevalue("pg_url"))
        else:
            store = SqlStore(f"sqlite:///{tmp_path / 'work.db'}")
        opened.append(store)
        return store

    def build(org: Any = None, start: dt.datetime = MONDAY, **kwargs: Any) -> World:
        organisation = org if org is not None else organisation_from_dict(org_data())
        return World(make_store, ManualClock(start), organisation, kwargs=kwargs)

    try:
        yield build
    finally:
        for store in opened:
            store.dispose()


@pytest.fixture(params=[False, True], ids=["straight", "reloaded"])
def reload_midway(request: pytest.FixtureRequest) -> bool:
    """BPMN behaviour tests run twice: the second time the engine is rebuilt mid-way."""
    return bool(request.param)
