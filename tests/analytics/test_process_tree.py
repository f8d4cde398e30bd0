"""Process trees: printing, folding, activities."""

from __future__ import annotations

from liucheng.analytics.mining import Operator, ProcessTree
from liucheng.analytics.mining.process_tree import fold, tau


def leaf(a: str) -> ProcessTree:
    return ProcessTree(label=a)


def node(op: Operator, *kids: ProcessTree) -> ProcessTree:
    return ProcessTree(op, None, kids)


def test_str_uses_pm4py_notation() -> None:
    t = node(Operator.SEQUENCE, leaf("a"), node(Operator.XOR, leaf("b"), tau()))
    assert str(t) == "->( 'a', X( 'b', tau ) )"


def test_fold_flattens_same_operators_and_drops_tau_in_sequence() -> None:
    t = node(
        Operator.SEQUENCE,
        node(Operator.SEQUENCE, leaf("a"), tau()),
        node(Operator.XOR, node(Operator.XOR, leaf("b"), tau()), tau()),
    )
    f = fold(t)
    assert f.operator is Operator.SEQUENCE
    assert f.children[0] == leaf("a")
    xor = f.children[1]
    assert xor.operator is Operator.XOR
    assert sum(1 for c in xor.children if c.is_tau) == 1
    assert xor.activities() == {"b"}


def test_fold_replaces_single_child_and_keeps_loops() -> None:
    loop = node(Operator.LOOP, leaf("a"), tau())
    assert fold(node(Operator.PARALLEL, loop)) == loop
    assert fold(node(Operator.SEQUENCE, tau(), tau())).is_tau


def test_leaves_and_activities() -> None:
    t = node(Operator.PARALLEL, leaf("x"), node(Operator.LOOP, leaf("y"), tau()))
    assert [lf.label for lf in t.leaves()] == ["x", "y", None]
    assert t.activities() == {"x", "y"}
