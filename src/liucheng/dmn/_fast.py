"""Fast paths for the unary tests that fill most decision tables.

String, number and boolean literals, comparisons with a number and number intervals are
checked directly in Python, with exactly FEEL's result (a null or wrongly typed input does not
match). Anything else goes to the FEEL unary tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

__all__ = ["fast_test"]

_NUM = r"-?\d+(?:\.\d+)?"
_STRING_RE = re.compile(r'^"([^"\\]*)"$')
_NUM_RE = re.compile(rf"^{_NUM}$")
_CMP_RE = re.compile(rf"^(<=|>=|<|>|=)\s*({_NUM})$")
_RANGE_RE = re.compile(rf"^([\[\(\]])\s*({_NUM})\s*\.\.\s*({_NUM})\s*([\]\)\[])$")

Check = Callable[[Any], bool]


def _number(text: str) -> Decimal:
    return Decimal(text)  # only called on texts matching _NUM


def _single(text: str) -> Check | None:
    t = text.strip()
    m = _STRING_RE.match(t)
    if m:
        s = m.group(1)
        return lambda v: type(v) is str and v == s
    if t == "true":
        # as FEEL: "true" equals a true input, and as an expression test it matches other
        # non-boolean inputs too; false and null do not match
        return lambda v: v is not None and v is not False
    if t == "false":
        return lambda v: v is False
    if _NUM_RE.match(t):
        n = _number(t)
        return lambda v: type(v) is Decimal and v == n
    m = _CMP_RE.match(t)
    if m:
        op, n = m.group(1), _number(m.group(2))
        if op == "<":
            return lambda v: type(v) is Decimal and v < n
        if op == "<=":
            return lambda v: type(v) is Decimal and v <= n
        if op == ">":
            return lambda v: type(v) is Decimal and v > n
        if op == ">=":
            return lambda v: type(v) is Decimal and v >= n
        return lambda v: type(v) is Decimal and v == n
    m = _RANGE_RE.match(t)
    if m:
        lo, hi = _number(m.group(2)), _number(m.group(3))
        lo_in = m.group(1) == "["
        hi_in = m.group(4) == "]"
        if lo_in and hi_in:
            return lambda v: type(v) is Decimal and lo <= v <= hi
        if lo_in:
            return lambda v: type(v) is Decimal and lo <= v < hi
        if hi_in:
            return lambda v: type(v) is Decimal and lo < v <= hi
        return lambda v: type(v) is Decimal and lo < v < hi
    return None


def fast_test(text: str, parts: list[str]) -> Check | None:
    """A Python check equivalent to unary tests ``text`` (split in ``parts``), if simple."""
    checks = [_single(p) for p in parts]
    if not checks or any(c is None for c in checks):
        return None
    ready: list[Check] = [c for c in checks if c is not None]
    if len(ready) == 1:
        return ready[0]
    return lambda v: any(c(v) for c in ready)


def literal_key(value: Any) -> tuple[str, Any] | None:
    """The equality key of a string, number or boolean value (``None`` for other values)."""
    t = type(value)
    if t is str:
        return ("s", value)
    if t is Decimal:
        return ("n", value) if value.is_finite() else None
    if t is bool:
        return ("b", value)
    return None


def literal_keys(parts: list[str]) -> list[tuple[str, Any]] | None:
    """Equality keys when every part is a string, number or ``false`` literal.

    (``true`` is left out: as an expression test it matches every input.)
    """
    keys: list[tuple[str, Any]] = []
    for part in parts:
        t = part.strip()
        m = _STRING_RE.match(t)
        if m:
            keys.append(("s", m.group(1)))
        elif t == "false":
            keys.append(("b", False))
        elif _NUM_RE.match(t):
            keys.append(("n", Decimal(t)))
        else:
            return None
    return keys or None
