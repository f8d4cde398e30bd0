"""Helpers for engine tests: tiny BPMN documents and a ready engine on a manual clock."""

from __future__ import annotations

from liucheng.engine import Engine, ManualClock, MemoryStore

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" targetNamespace="t">\n'
)


def bpmn(body: str, pid: str = "p", roots: str = "") -> bytes:
    """A definitions document with one executable process ``pid`` holding ``body``."""
    return (
        HEAD
        + roots
        + f'<process id="{pid}" isExecutable="true">\n{body}\n</process>\n</definitions>'
    ).encode()


def flows(*pairs: str) -> str:
    """Sequence flows from ``"a->b"`` strings (ids ``f1``, ``f2``...; ``a->b:cond`` adds one)."""
    out = []
    for i, pair in enumerate(pairs, 1):
        head, _, cond = pair.partition(":")
        src, tgt = head.split("->")
        if cond:
            out.append(
                f'<sequenceFlow id="f{i}" sourceRef="{src}" targetRef="{tgt}">'
                f"<conditionExpression>{cond}</conditionExpression></sequenceFlow>"
            )
        else:
            out.append(f'<sequenceFlow id="f{i}" sourceRef="{src}" targetRef="{tgt}"/>')
    return "\n".join(out)


def engine_with(*docs: bytes, history: bool = True) -> tuple[Engine, ManualClock, MemoryStore]:
    """An engine on a fresh memory store with ``docs`` deployed."""
    clock = ManualClock()
    store = MemoryStore()
    engine = Engine(store, clock=clock, history=history)
    if docs:
        engine.deploy([(f"doc{i}.bpmn", d) for i, d in enumerate(docs)])
    return engine, clock, store


def completed(store: MemoryStore, instance_id: str | None = None) -> list[str]:
    """Element ids that completed, in order."""
    return [
        h.element_id
        for h in store.history
        if h.kind == "activity_end"
        and h.data
        and h.data.get("completed")
        and h.element_id
        and (instance_id is None or h.instance_id == instance_id)
    ]
