"""Authorisation enforced in the Python API: outsiders cannot see, claim or complete a task;
refusals raise and are recorded in history."""

from __future__ import annotations

from typing import Any

import pytest

from liucheng.errors import AuthorizationError
from liucheng.org import policy_from_dict

from .conftest import World, user_task_process

POLICY = policy_from_dict(
    {
        "admins": {"users": ["boss"]},
        "grants": [
            {"action": "process.start", "resource": "process:p", "role": "agent"},
            {"action": "task.see", "resource": "task:p/*", "role": "team-lead"},
            {"action": "org.admin", "resource": "org", "user": "lead", "effect": "deny"},
        ],
    }
)


def _setup(world: Any) -> tuple[World, str]:
    w: World = world()
    w.engine.set_authorization(POLICY)
    w.engine.deploy([("p.bpmn", user_task_process('camunda:candidateUsers="a1,a2"'))])
    pid = w.engine.as_user("a1").start_process("p")
    return w, pid


def _refusals(w: World) -> list[Any]:
    return w.engine.history(kind="authorization_refused")


def test_outsider_cannot_see_claim_or_complete(world: Any, reload_midway: bool) -> None:
    w, pid = _setup(world)
    tid = w.engine.tasks(instance_id=pid)[0].id
    outsider = w.engine.as_user("a3")  # an agent, but not a candidate
    assert outsider.tasks() == []
    assert outsider.task_list() == []
    for attempt in (
        lambda: outsider.get_task(tid),
        lambda: outsider.claim(tid),
        lambda: outsider.complete_task(tid),
    ):
        with pytest.raises(AuthorizationError) as exc:
            attempt()
        assert exc.value.code == "auth.forbidden"
    refused = _refusals(w)
    assert [r.data["action"] for r in refused if r.data] == ["task.see", "task.claim", "task.work"]
    assert all(r.actor == "a3" and r.instance_id == pid for r in refused)
    if reload_midway:
        w.reload()
    # nothing changed: still open, unassigned
    t = w.engine.get_task(tid)
    assert t is not None and t.assignee is None
    candidate = w.engine.as_user("a2")
    assert [x.id for x in candidate.tasks()] == [tid]
    with pytest.raises(AuthorizationError):
        candidate.complete_task(tid)  # a candidate must claim first
    candidate.claim(tid)
    with pytest.raises(AuthorizationError):
        w.engine.as_user("a1").claim(tid)  # held by a2 now
    candidate.add_comment(tid, "on it")
    candidate.complete_task(tid)
    assert w.engine.is_ended(pid)
    assert len(_refusals(w)) == 5


def test_grants_admins_and_denies(world: Any) -> None:
    w, pid = _setup(world)
    tid = w.engine.tasks(instance_id=pid)[0].id
    with pytest.raises(AuthorizationError):
        w.engine.as_user("lead").start_process("p")  # no grant for team leads
    assert w.engine.as_user("lead").get_task(tid).id == tid  # task.see grant
    with pytest.raises(AuthorizationError):
        w.engine.as_user("lead").claim(tid)  # seeing is not claiming
    with pytest.raises(AuthorizationError):
        w.engine.as_user("lead").rebalance()  # denied explicitly
    with pytest.raises(AuthorizationError):
        w.engine.as_user("a1").deploy([("q.bpmn", user_task_process(pid="q"))])
    boss = w.engine.as_user("boss")
    boss.deploy([("q.bpmn", user_task_process(pid="q"))])
    boss.claim(tid)
    boss.complete_task(tid)
    assert w.engine.is_ended(pid)
    assert {r.data["action"] for r in _refusals(w) if r.data} == {
        "process.start",
        "task.claim",
        "org.admin",
        "definitions.admin",
    }


def test_lane_role_members_are_candidates(world: Any) -> None:
    from liucheng.org import organisation_from_dict

    from .conftest import bpmn, org_data

    org = organisation_from_dict(org_data(3, processes=[{"id": "p", "lanes": {"Desk": "agent"}}]))
    w: World = world(org=org)
    w.engine.set_authorization(POLICY)
    lanes = (
        '<laneSet id="ls"><lane id="L" name="Desk"><flowNodeRef>t</flowNodeRef></lane></laneSet>'
    )
    doc = bpmn(
        '<startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>'
        '<userTask id="t" name="Work"/><sequenceFlow id="f2" sourceRef="t" targetRef="e"/>'
        '<endEvent id="e"/>',
        lanes=lanes,
    )
    w.engine.deploy([("p.bpmn", doc)])
    pid = w.engine.as_user("a3").start_process("p")
    assert w.engine.variables(pid)["initiator"] == "a3"
    tid = w.engine.tasks(instance_id=pid)[0].id
    w.engine.as_user("a1").claim(tid)  # an agent: the lane's role
    with pytest.raises(AuthorizationError):
        w.engine.as_user("boss2").get_task(tid)


def test_history_needs_a_grant(world: Any) -> None:
    w, pid = _setup(world)
    with pytest.raises(AuthorizationError):
        w.engine.as_user("a1").history(pid)
    events = w.engine.as_user("boss").history(pid)
    assert events and events[0].kind == "process_start"
    assert [r.data["resource"] for r in _refusals(w) if r.data] == ["history:p"]
