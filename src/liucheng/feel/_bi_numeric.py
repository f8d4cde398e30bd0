"""Numeric built-ins."""

from __future__ import annotations

import datetime as _dt
import decimal
import secrets
from decimal import Decimal
from typing import Any

from liucheng.feel._builtins import builtin, need_number
from liucheng.feel._runtime import null
from liucheng.feel._types import DECIMAL_CONTEXT, YearsMonthsDuration

_CTX = DECIMAL_CONTEXT


_NO_SCALE: Any = object()


def _round(n: Any, scale: Any, mode: str) -> Decimal:
    d = need_number(n, "n")
    if scale is None:
        raise null("scale is null")
    s = 0 if scale is _NO_SCALE else int(need_number(scale, "scale"))
    if s < -6111 or s > 6176:
        raise null("scale out of range")
    try:
        return d.quantize(Decimal(1).scaleb(-s), rounding=mode, context=_CTX)
    except decimal.InvalidOperation:
        # More digits than the precision holds: the number is already exact at this scale.
        return d


@builtin("decimal", "n, scale")
def fdecimal(n: Any, scale: Any) -> Any:
    return _round(n, scale, decimal.ROUND_HALF_EVEN)


@builtin("floor", "n, scale", required=1)
def floor(n: Any, scale: Any = _NO_SCALE) -> Any:
    return _round(n, scale, decimal.ROUND_FLOOR)


@builtin("ceiling", "n, scale", required=1)
def ceiling(n: Any, scale: Any = _NO_SCALE) -> Any:
    return _round(n, scale, decimal.ROUND_CEILING)


@builtin("round up", "n, scale", required=1)
def round_up(n: Any, scale: Any = _NO_SCALE) -> Any:
    return _round(n, scale, decimal.ROUND_UP)


@builtin("round down", "n, scale", required=1)
def round_down(n: Any, scale: Any = _NO_SCALE) -> Any:
    return _round(n, scale, decimal.ROUND_DOWN)


@builtin("round half up", "n, scale", required=1)
def round_half_up(n: Any, scale: Any = _NO_SCALE) -> Any:
    return _round(n, scale, decimal.ROUND_HALF_UP)


@builtin("round half down", "n, scale", required=1)
def round_half_down(n: Any, scale: Any = _NO_SCALE) -> Any:
    return _round(n, scale, decimal.ROUND_HALF_DOWN)


@builtin("abs", "n")
def fabs(n: Any) -> Any:
    if type(n) is _dt.timedelta:
        return abs(n)
    if type(n) is YearsMonthsDuration:
        return YearsMonthsDuration(abs(n.months))
    return abs(need_number(n, "n"))


@builtin("modulo", "dividend, divisor")
def modulo(a: Any, b: Any) -> Any:
    a = need_number(a, "dividend")
    b = need_number(b, "divisor")
    if b == 0:
        raise null("division by zero")
    q = _CTX.divide(a, b).to_integral_value(rounding=decimal.ROUND_FLOOR)
    return _CTX.subtract(a, _CTX.multiply(b, q))


@builtin("sqrt", "number")
def sqrt(n: Any) -> Any:
    d = need_number(n, "number")
    if d < 0:
        raise null("square root of a negative number")
    return _CTX.sqrt(d)


@builtin("log", "number")
def log(n: Any) -> Any:
    d = need_number(n, "number")
    if d <= 0:
        raise null("logarithm of a number that is not positive")
    return _CTX.ln(d)


@builtin("exp", "number")
def exp(n: Any) -> Any:
    return _CTX.exp(need_number(n, "number"))


@builtin("odd", "number")
def odd(n: Any) -> Any:
    d = need_number(n, "number")
    if d != d.to_integral_value():
        return False
    return int(d) % 2 == 1


@builtin("even", "number")
def even(n: Any) -> Any:
    d = need_number(n, "number")
    if d != d.to_integral_value():
        return False
    return int(d) % 2 == 0


_RANDOM_DIGITS = 16


@builtin("random number", "")
def random_number() -> Any:
    """A number drawn uniformly from [0, 1) (Camunda/Trisotech extension)."""
    return Decimal(secrets.randbelow(10**_RANDOM_DIGITS)).scaleb(-_RANDOM_DIGITS)
