"""The user-task lifecycle, comments, attachments, the task list, dates and priorities
(each BPMN test also runs with the engine rebuilt from the store mid-way)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from liucheng.engine import Page
from liucheng.errors import EngineError, NotFoundError, ValidationError

from .conftest import MONDAY, World, user_task_process


def test_claim_unclaim_delegate_resolve_complete(world: Any, reload_midway: bool) -> None:
    w: World = world()
    w.engine.deploy([("p.bpmn", user_task_process('camunda:candidateGroups="queue"'))])
    pid = w.engine.start_process("p")
    task = w.engine.tasks(instance_id=pid)[0]
    assert task.assignee is None and task.candidate_groups == ["queue"]
    w.engine.claim(task.id, "a1")
    with pytest.raises(EngineError) as exc:
        w.engine.claim(task.id, "a2")
    assert exc.value.code == "engine.task.claimed"
    if reload_midway:
        w.reload()
    w.engine.unclaim(task.id)
    assert w.engine.get_task(task.id).assignee is None  # type: ignore[union-attr]
    w.engine.claim(task.id, "a2")
    w.engine.delegate(task.id, "lead")
    t = w.engine.get_task(task.id)
    assert t is not None and (t.owner, t.assignee, t.delegation) == ("a2", "lead", "pending")
    with pytest.raises(EngineError) as exc:
        w.engine.complete_task(task.id)
    assert exc.value.code == "engine.task.delegated"
    if reload_midway:
        w.reload()
    w.engine.resolve_task(task.id, {"advice": "refund"})
    t = w.engine.get_task(task.id)
    assert t is not None and (t.owner, t.assignee, t.delegation) == ("a2", "a2", "resolved")
    assert w.engine.variables(pid)["advice"] == "refund"
    w.engine.complete_task(task.id, actor="a2")
    assert w.engine.is_ended(pid)
    kinds = [h.kind for h in w.engine.history(instance_id=pid) if h.kind.startswith("task_")]
    assert kinds.count("task_claim") == 2
    for k in ("task_unclaim", "task_delegate", "task_resolve", "task_complete"):
        assert k in kinds
    with pytest.raises(NotFoundError) as nf:
        w.engine.resolve_task(task.id)
    assert nf.value.code == "engine.task.not_found"


def test_comments_and_attachments_outlive_the_task(world: Any, reload_midway: bool) -> None:
    w: World = world()
    w.engine.deploy([("p.bpmn", user_task_process('camunda:assignee="a1"'))])
    pid = w.engine.start_process("p")
    tid = w.engine.tasks(instance_id=pid)[0].id
    w.engine.add_comment(tid, "called the customer", author="a1")
    w.clock.advance(dt.timedelta(minutes=5))
    if reload_midway:
        w.reload()
    w.engine.add_comment(tid, "waiting for the invoice", author="a1")
    w.engine.add_attachment(tid, "invoice.pdf", content=b"%PDF-1.4", content_type="application/pdf")
    w.engine.add_attachment(tid, "ticket", url="https://example.org/t/1")
    with pytest.raises(ValidationError):
        w.engine.add_attachment(tid, "nothing")
    with pytest.raises(ValidationError):
        w.engine.add_comment(tid, "   ")
    w.engine.complete_task(tid)
    assert [c.message for c in w.engine.comments(tid)] == [
        "called the customer",
        "waiting for the invoice",
    ]
    atts = w.engine.attachments(tid)
    assert [(a.name, a.content, a.url) for a in atts] == [
        ("invoice.pdf", b"%PDF-1.4", None),
        ("ticket", None, "https://example.org/t/1"),
    ]
    assert len(w.engine.history(instance_id=pid, kind="task_comment")) == 2


def test_due_follow_up_and_priority_use_the_engine_clock(world: Any) -> None:
    attrs = (
        'camunda:dueDate="=now() + duration(sla)" camunda:followUpDate="P1D" '
        'camunda:priority="=if vip then 90 else 40"'
    )
    w: World = world(start=dt.datetime(2015, 9, 21, 14, 30, tzinfo=dt.UTC))
    w.engine.deploy([("p.bpmn", user_task_process(attrs))])
    pid = w.engine.start_process("p", {"sla": "PT4H", "vip": True})
    t = w.engine.tasks(instance_id=pid)[0]
    assert t.due_at == dt.datetime(2015, 9, 21, 18, 30, tzinfo=dt.UTC)
    assert t.follow_up_at == dt.datetime(2015, 9, 22, 14, 30, tzinfo=dt.UTC)
    assert t.priority == 90


def test_zeebe_task_schedule_and_due_in_business_time(world: Any) -> None:
    inner = (
        '<extensionElements><zeebe:taskSchedule dueDate="=now() + duration(&quot;PT2H&quot;)" '
        'followUpDate="2025-03-05T10:00:00Z"/><zeebe:priorityDefinition priority="70"/>'
        "</extensionElements>"
    )
    w: World = world(start=dt.datetime(2025, 3, 3, 15, 0, tzinfo=dt.UTC))  # 16:00 Berlin
    w.engine.deploy([("p.bpmn", user_task_process(inner=inner))])
    t = w.engine.tasks(instance_id=w.engine.start_process("p"))[0]
    assert t.due_at == dt.datetime(2025, 3, 3, 17, 0, tzinfo=dt.UTC)
    assert t.follow_up_at == dt.datetime(2025, 3, 5, 10, 0, tzinfo=dt.UTC)
    assert t.priority == 70
    # the same due date counted on the office calendar (08-17 Berlin): 1h today, 1h tomorrow
    w.engine.deploy(
        [("q.bpmn", user_task_process('liucheng:calendar="office" camunda:dueDate="PT2H"', "q"))]
    )
    t2 = w.engine.tasks(instance_id=w.engine.start_process("q"))[0]
    assert t2.due_at == dt.datetime(2025, 3, 4, 8, 0, tzinfo=dt.UTC)  # 09:00 Berlin


def _seed(w: World) -> dict[str, str]:
    docs = [
        (
            "a.bpmn",
            user_task_process('camunda:candidateGroups="queue" camunda:priority="10"', "pa"),
        ),
        ("b.bpmn", user_task_process('camunda:assignee="a1" camunda:priority="80"', "pb")),
        ("c.bpmn", user_task_process('camunda:candidateUsers="a2" camunda:dueDate="PT1H"', "pc")),
        (
            "d.bpmn",
            user_task_process('camunda:candidateGroups="leads" camunda:priority="60"', "pd"),
        ),
    ]
    w.engine.deploy(docs)
    ids = {}
    for key in ("pa", "pb", "pc", "pd"):
        pid = w.engine.start_process(key)
        ids[key] = w.engine.tasks(instance_id=pid)[0].id
        w.clock.advance(dt.timedelta(minutes=1))
    return ids


def test_task_list_queries(world: Any) -> None:
    w: World = world()
    ids = _seed(w)
    tl = w.engine.task_list
    assert [t.id for t in tl(user="a1", mine=True)] == [ids["pb"]]
    assert [t.id for t in tl(user="a1", candidate=True)] == [ids["pa"]]
    assert [t.id for t in tl(user="a2", candidate=True)] == [ids["pa"], ids["pc"]]
    assert [t.id for t in tl(user="lead", candidate=True)] == [ids["pd"]]
    assert [t.id for t in tl(unassigned=True)] == [ids["pa"], ids["pc"], ids["pd"]]
    assert [t.id for t in tl(process="pc")] == [ids["pc"]]
    assert tl(overdue=True) == []
    w.clock.advance(dt.timedelta(hours=2))
    assert [t.id for t in tl(overdue=True)] == [ids["pc"]]
    assert [t.priority for t in tl(sort="-priority")] == [80, 60, 50, 10]
    assert next(t.id for t in tl(sort=("due_at", "-priority"))) == ids["pc"]
    assert [t.priority for t in tl(min_priority=50, max_priority=70)] == [50, 60]
    assert [t.priority for t in tl(sort="priority", page=Page(1, 2))] == [50, 60]
    assert [t.id for t in tl(name_like="wor", process="pa")] == [ids["pa"]]
    with pytest.raises(ValidationError):
        tl(sort="colour")
    with pytest.raises(ValidationError):
        tl(mine=True)


def test_update_task_and_unknown_task(world: Any) -> None:
    w: World = world()
    ids = _seed(w)
    w.engine.update_task(ids["pa"], priority=99, due_at=dt.datetime(2025, 3, 10, 12))
    t = w.engine.get_task(ids["pa"])
    assert t is not None and t.priority == 99
    assert t.due_at == dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC)
    with pytest.raises(NotFoundError):
        w.engine.claim("nope", "a1")
    assert w.clock.now() > MONDAY
