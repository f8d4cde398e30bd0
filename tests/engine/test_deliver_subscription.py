"""Engine.deliver_to_subscription: one subscription row receives its message or signal."""

from __future__ import annotations

from liucheng.engine import Engine

from .helpers import bpmn, completed, engine_with, flows

ROOTS = '<message id="m" name="reply"/><signal id="sg" name="go"/>'
TWO_WAITS = bpmn(
    '<startEvent id="s"/><parallelGateway id="fork"/>'
    '<intermediateCatchEvent id="wa"><messageEventDefinition messageRef="m"/>'
    "</intermediateCatchEvent>"
    '<intermediateCatchEvent id="wb"><messageEventDefinition messageRef="m"/>'
    "</intermediateCatchEvent>"
    '<intermediateCatchEvent id="wg"><signalEventDefinition signalRef="sg"/>'
    "</intermediateCatchEvent>"
    '<userTask id="a"/><userTask id="b"/><userTask id="g"/>'
    '<endEvent id="ea"/><endEvent id="eb"/><endEvent id="eg"/>'
    + flows(
        "s->fork",
        "fork->wa",
        "fork->wb",
        "fork->wg",
        "wa->a",
        "wb->b",
        "wg->g",
        "a->ea",
        "b->eb",
        "g->eg",
    ),
    roots=ROOTS,
)


def _sub(engine: Engine, pid: str, element: str) -> str:
    (row,) = [s for s in engine.subscriptions(instance_id=pid) if s.element_id == element]
    return str(row.id)


def test_a_message_goes_to_the_one_wait_named() -> None:
    engine, _, store = engine_with(TWO_WAITS)
    pid = engine.start_process("p")
    other = engine.start_process("p")
    assert engine.deliver_to_subscription(_sub(engine, pid, "wb"), {"answer": 42}) is True
    # only that wait moved on: the same message's other wait, and the other case, still wait
    assert sorted(t.element_id for t in engine.tasks(instance_id=pid)) == ["b"]
    assert {s.element_id for s in engine.subscriptions(instance_id=pid)} == {"wa", "wg"}
    assert {s.element_id for s in engine.subscriptions(instance_id=other)} == {"wa", "wb", "wg"}
    assert engine.variables(pid)["answer"] == 42
    assert "wb" in completed(store, pid)
    assert "wa" not in completed(store, pid)


def test_a_signal_goes_to_its_wait_only_and_a_gone_wait_receives_nothing() -> None:
    engine, _, _ = engine_with(TWO_WAITS)
    pid = engine.start_process("p")
    other = engine.start_process("p")
    sub = _sub(engine, pid, "wg")
    assert engine.deliver_to_subscription(sub) is True
    assert [t.element_id for t in engine.tasks(instance_id=pid)] == ["g"]
    assert engine.tasks(instance_id=other) == []  # no broadcast
    assert "answer" not in engine.variables(pid)
    assert engine.deliver_to_subscription(sub) is False  # already delivered
    assert engine.deliver_to_subscription("no-such-row") is False
    cancelled = _sub(engine, other, "wa")
    engine.cancel_instance(other)
    assert engine.deliver_to_subscription(cancelled) is False
    assert engine.deliver_to_subscription(_sub(engine, pid, "wa")) is True
    assert sorted(t.element_id for t in engine.tasks(instance_id=pid)) == ["a", "g"]
