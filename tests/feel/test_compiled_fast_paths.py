"""The compiler's shortcuts give what the general evaluation gives.

A context literal whose entries name no earlier entry is built without a scope of its own; a
lone name is read without a scope; number arithmetic and comparisons skip the operator dispatch.
Each case is checked against the semantics the general path defines.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from liucheng.feel import FeelWarning, _ops, compile_expression
from liucheng.feel._types import FeelFunction


def _eval(text: str, ctx: dict[str, Any] | None = None) -> tuple[Any, list[str]]:
    warnings: list[FeelWarning] = []
    value = compile_expression(text).evaluate(ctx, warnings=warnings)
    return value, [w.code for w in warnings]


def test_context_entries_see_earlier_entries_not_later_ones() -> None:
    assert _eval("{a: 1, b: a + 1}", {"a": 7})[0] == {"a": 1, "b": 2}
    # a later entry is not visible yet: the outer ``a`` is
    assert _eval("{b: a + 1, a: 1}", {"a": 7})[0] == {"b": 8, "a": 1}
    assert _eval("{counter: counter + 1}", {"counter": 4})[0] == {"counter": 5}
    # nested: the inner context sees the outer one's earlier entries
    assert _eval("{x: 2, y: {z: x * 3}}")[0] == {"x": 2, "y": {"z": 6}}


def test_context_functions_keep_the_context_scope() -> None:
    got, _ = _eval("{f: function(x) g(x), g: function(y) y * 2, r: f(3)}")
    assert got["r"] == 6
    assert isinstance(got["f"], FeelFunction)


def test_context_entry_iterations_and_filters() -> None:
    got, _ = _eval("{x: 1, y: for i in [1, 2] return i + x}", {"x": 10})
    assert got == {"x": 1, "y": [2, 3]}
    got, _ = _eval("{a: [1, 2, 3][item > limit], limit: 0}", {"limit": 1})
    assert got == {"a": [2, 3], "limit": 0}


def test_context_unknown_name_warns_either_way() -> None:
    assert _eval("{a: nope + 1}") == ({"a": None}, ["feel.unknown_name"])


def test_a_lone_name() -> None:
    assert _eval("n", {"n": 3}) == (Decimal(3), [])
    assert _eval("n", {"n": 2.5}) == (Decimal("2.5"), [])
    assert _eval("n", {"n": [1, "x"]}) == ([Decimal(1), "x"], [])
    assert _eval("n", {"n": None}) == (None, [])
    assert _eval("n", {"n": True}) == (True, [])
    assert _eval("n", {}) == (None, ["feel.unknown_name"])
    # a built-in's name is the function unless the context defines it
    assert isinstance(_eval("count", {})[0], FeelFunction)
    assert _eval("count", {"count": 1})[0] == Decimal(1)


_BIG = Decimal("9E+6144")
_PAIRS = [
    (Decimal(1), Decimal(2)),
    (Decimal("1.5"), Decimal("-2.25")),
    (_BIG, _BIG),  # overflow: null with a warning
    (Decimal("1E-6143"), Decimal("1E-6143")),
    (Decimal(10) ** 40, Decimal(3)),  # rounded to 34 digits
]


@pytest.mark.parametrize("op, fn", [("+", _ops.add), ("-", _ops.subtract), ("*", _ops.multiply)])
@pytest.mark.parametrize("a, b", _PAIRS)
def test_number_arithmetic_as_the_operators(op: str, fn: Any, a: Decimal, b: Decimal) -> None:
    got, warnings = _eval(f"a {op} b", {"a": a, "b": b})
    want = fn(a, b)
    assert got == want
    assert type(got) is type(want)
    assert warnings == ([] if want is not None else ["feel.invalid_operation"])


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_comparisons(op: str) -> None:
    for a, b in [(1, 2), (2, 2), (3, 2)]:
        want = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        assert _eval(f"a {op} b", {"a": a, "b": b}) == (want, [])
    assert _eval(f'"a" {op} "b"')[0] == {"<": True, "<=": True, ">": False, ">=": False}[op]
    assert _eval(f'1 {op} "b"')[0] is None
    assert _eval(f"null {op} 1")[0] is None
