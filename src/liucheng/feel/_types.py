"""FEEL value types, warnings, errors and conversion to and from plain Python values."""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from liucheng.errors import FeelError
from liucheng.feel._bigdate import vtype

__all__ = [
    "DECIMAL_CONTEXT",
    "FeelEvaluationError",
    "FeelFunction",
    "FeelSyntaxError",
    "FeelType",
    "FeelWarning",
    "Range",
    "YearsMonthsDuration",
    "from_feel",
    "to_feel",
]

#: DMN numbers are IEEE 754-2008 decimal128: 34 significant digits, round half even.
DECIMAL_CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=6144,
    Emin=-6143,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


@dataclass(frozen=True, slots=True)
class FeelWarning:
    """A problem met during evaluation that the spec turns into null.

    Attributes:
        code: Stable code, e.g. ``"feel.unknown_name"``.
        message: What happened.
        position: 0-based offset in the expression text, when known.
    """

    code: str
    message: str
    position: int | None = None


class FeelSyntaxError(FeelError):
    """FEEL text that cannot be parsed.

    Attributes:
        position: 0-based offset of the offending token.
        line: 1-based line of the offending token.
        column: 1-based column of the offending token.
        expected: What the parser expected there.
    """

    default_code = "feel.syntax"
    default_hint = "check the FEEL expression near the position given"

    def __init__(
        self,
        message: str,
        *,
        text: str = "",
        position: int = 0,
        expected: str | None = None,
        source: str | None = None,
    ) -> None:
        self.position = position
        self.line = text.count("\n", 0, position) + 1
        self.column = position - (text.rfind("\n", 0, position) + 1) + 1
        self.expected = expected
        self.text = text
        full = f"{message} at line {self.line}, column {self.column} (offset {position})"
        if expected:
            full += f"; expected {expected}"
        super().__init__(
            full,
            file=source,
            line=self.line,
            details={"position": position, "column": self.column, "expected": expected},
        )


class FeelEvaluationError(FeelError):
    """An evaluation fault that the spec does not turn into null (limits, broken functions)."""

    default_code = "feel.evaluation"


@dataclass(frozen=True, slots=True, order=True)
class YearsMonthsDuration:
    """A FEEL years and months duration, held as a whole number of months."""

    months: int

    @property
    def years_part(self) -> int:
        """Whole years (sign of the duration)."""
        return int(self.months / 12)

    @property
    def months_part(self) -> int:
        """Months beyond the whole years (sign of the duration)."""
        return self.months - self.years_part * 12

    def __str__(self) -> str:
        m = self.months
        if m == 0:
            return "P0M"
        sign = "-" if m < 0 else ""
        y, mo = divmod(abs(m), 12)
        out = sign + "P"
        if y:
            out += f"{y}Y"
        if mo:
            out += f"{mo}M"
        return out


@dataclass(frozen=True, slots=True)
class Range:
    """A FEEL range (interval); ``None`` for an end means unbounded."""

    start: Any
    end: Any
    start_included: bool
    end_included: bool
    #: The comparison operator when the range came from a unary test value such as ``< 10``
    #: (``"<"``, ``"<="``, ``">"``, ``">="``, ``"="``, ``"!="``); ``None`` for interval literals.
    op: str | None = None

    def __str__(self) -> str:
        if self.op is not None:
            bound = self.end if self.op in ("<", "<=") else self.start
            return f"{self.op} {bound}"
        lo = "[" if self.start_included else "("
        hi = "]" if self.end_included else ")"
        return f"{lo}{self.start}..{self.end}{hi}"


@dataclass(eq=False)
class FeelFunction:
    """A function value callable from FEEL and from Python.

    Args:
        parameters: Parameter names, in order.
        implementation: Python callable taking the arguments positionally.
        name: Optional name used in messages.
    """

    parameters: Sequence[str]
    implementation: Callable[..., Any]
    name: str | None = None
    #: Set for user-defined FEEL functions: the parameter types (name -> type text or None).
    parameter_types: Sequence[Any] | None = field(default=None, repr=False)
    #: When true the implementation also receives the evaluation state as first argument.
    wants_state: bool = field(default=False, repr=False)
    #: When true, extra positional arguments are collected by the implementation (var-args).
    variadic: bool = field(default=False, repr=False)

    def __call__(self, *args: Any) -> Any:
        return self.invoke(list(args))

    def invoke(self, args: Sequence[Any], named: Mapping[str, Any] | None = None) -> Any:
        """Call with positional ``args`` or ``named`` arguments (missing ones are None)."""
        from liucheng.feel._runtime import call_function

        named_feel = {k: to_feel(v) for k, v in named.items()} if named else None
        return call_function(self, [to_feel(a) for a in args], named_feel, None)


@dataclass(frozen=True, slots=True)
class FeelType:
    """A named type defined outside FEEL (e.g. a DMN item definition) for ``instance of``.

    Put it into the evaluation context under its name; ``x instance of tName`` then calls
    ``check(x)``.
    """

    name: str
    check: Callable[[Any], bool]


_SIMPLE = (str, bool, Decimal, _dt.date, _dt.time, _dt.timedelta, YearsMonthsDuration, Range)


def to_feel(value: Any) -> Any:
    """Convert a plain Python/JSON value to its FEEL representation.

    ``int``/``float`` become ``Decimal``; tuples and lists become lists; mappings become dicts
    with string keys; everything else that is a FEEL value is returned unchanged.
    """
    if value is None:
        return None
    if type(value) is int:  # the usual variable (counters, amounts): no vtype lookup
        return Decimal(value)
    t = vtype(value)
    if t is bool or t is str or t is Decimal:
        return value
    if t is int:
        return Decimal(value)
    if t is float:
        if math.isnan(value) or math.isinf(value):
            return None
        return Decimal(str(value))
    if t is list or t is tuple:
        return [to_feel(v) for v in value]
    if t is dict:
        return {str(k): to_feel(v) for k, v in value.items()}
    if isinstance(value, (*_SIMPLE, FeelFunction)):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return Decimal(int(value))
    if isinstance(value, float):
        return to_feel(float(value))
    if isinstance(value, Mapping):
        return {str(k): to_feel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_feel(v) for v in value]
    if callable(value):
        return FeelFunction(_param_names(value), value, getattr(value, "__name__", None))
    return value


def _param_names(fn: Callable[..., Any]) -> list[str]:
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def from_feel(value: Any, *, json_safe: bool = False) -> Any:
    """Convert a FEEL value to plain Python.

    Decimals stay Decimals unless ``json_safe`` is set: then integral numbers become ``int`` and
    others ``float``, temporal values and durations become ISO strings, ranges become dicts.
    """
    if value is None or type(value) is bool or type(value) is str:
        return value
    if isinstance(value, Decimal):
        if not json_safe:
            return value
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, list):
        return [from_feel(v, json_safe=json_safe) for v in value]
    if isinstance(value, dict):
        return {k: from_feel(v, json_safe=json_safe) for k, v in value.items()}
    if not json_safe:
        return value
    from liucheng.feel._values import feel_string

    if isinstance(value, Range):
        return {
            "start": from_feel(value.start, json_safe=True),
            "end": from_feel(value.end, json_safe=True),
            "start_included": value.start_included,
            "end_included": value.end_included,
        }
    if isinstance(value, FeelFunction):
        return f"function {value.name or '<anonymous>'}"
    return feel_string(value)
