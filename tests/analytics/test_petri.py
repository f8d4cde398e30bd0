"""Petri nets: tree conversion, silent-step reduction, soundness checking."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from liucheng.analytics.mining import (
    Operator,
    PetriNet,
    ProcessTree,
    align,
    check_soundness,
    reduce_silent,
    to_petri_net,
)
from liucheng.analytics.mining.process_tree import tau
from tests.analytics.test_petri_support import make_log

LABELS = "abcdefgh"


@st.composite
def trees(draw: st.DrawFn, depth: int = 3) -> ProcessTree:
    if depth == 0 or draw(st.booleans()):
        label = draw(st.sampled_from([*LABELS, None]))
        return ProcessTree(label=label)
    op = draw(st.sampled_from(list(Operator)))
    n = 2 if op is Operator.LOOP else draw(st.integers(2, 3))
    return ProcessTree(op, None, tuple(draw(trees(depth - 1)) for _ in range(n)))


def _runs(tree: ProcessTree) -> list[list[str]]:
    """A few words of the tree's language (first/only loop iteration, all choices)."""
    if tree.operator is None:
        return [[tree.label]] if tree.label else [[]]
    kids = [_runs(c) for c in tree.children]
    if tree.operator is Operator.XOR:
        return [r for k in kids for r in k]
    if tree.operator is Operator.LOOP:
        once = kids[0]
        twice = [a + r + b for a in kids[0][:1] for r in kids[1][:1] for b in kids[0][:1]]
        return once + twice
    out: list[list[str]] = [[]]
    for k in kids:  # sequence and (one interleaving of) concurrency
        out = [a + b for a in out for b in k][:8]
    return out


@settings(max_examples=40, deadline=None)
@given(trees())
def test_tree_nets_are_sound_and_accept_the_tree_language(tree: ProcessTree) -> None:
    for reduce in (False, True):
        net = to_petri_net(tree, reduce=reduce)
        assert check_soundness(net, 20_000).sound is not False
        words = [w for w in _runs(tree) if w][:6]
        if words:
            res = align(make_log(words), net)
            assert res.average_trace_fitness == 1.0


def test_reduction_removes_silent_steps_of_loops() -> None:
    tree = ProcessTree(
        Operator.SEQUENCE,
        None,
        (ProcessTree(label="a"), ProcessTree(Operator.LOOP, None, (ProcessTree(label="b"), tau()))),
    )
    full = to_petri_net(tree, reduce=False)
    small = reduce_silent(full)
    silent = lambda n: sum(1 for t in n.transitions if t.label is None)  # noqa: E731
    assert silent(small) < silent(full)
    assert check_soundness(small).sound is True
    assert small.labels == full.labels == {"a", "b"}


def test_soundness_detects_deadlock_and_dead_transition() -> None:
    net = PetriNet()
    src, p1, p2, snk = (net.add_place(n) for n in ("source", "p1", "p2", "sink"))
    split = net.add_transition("a")
    net.arc_in(src, split)
    net.arc_out(split, p1)
    join = net.add_transition("b")  # needs p1 and p2, but p2 is never marked
    net.arc_in(p1, join)
    net.arc_in(p2, join)
    net.arc_out(join, snk)
    net.initial, net.final = {src: 1}, {snk: 1}
    report = check_soundness(net)
    assert report.sound is False
    assert any("cannot reach" in p for p in report.problems)
    assert any("dead transitions" in p for p in report.problems)


def test_soundness_detects_improper_completion() -> None:
    net = PetriNet()
    src, p, snk = (net.add_place(n) for n in ("source", "p", "sink"))
    t = net.add_transition("a")  # puts a token in the sink and leaves one behind
    net.arc_in(src, t)
    net.arc_out(t, p)
    net.arc_out(t, snk)
    net.initial, net.final = {src: 1}, {snk: 1}
    assert check_soundness(net).sound is False
