"""Expressions in models: FEEL (compiled once) or literal values (attributes without ``=``)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from liucheng.errors import EngineError, LiuchengError

__all__ = ["FEEL_CLOCK", "Expr", "StructureExpr", "feel", "maybe_feel", "to_plain"]

#: The clock FEEL's ``now()``/``today()`` read while the engine runs a command (the engine's
#: injected clock; ``None`` outside commands: the FEEL default).
FEEL_CLOCK: ContextVar[Callable[[], _dt.datetime] | None] = ContextVar(
    "liucheng_engine_feel_clock", default=None
)


def to_plain(value: Any) -> Any:
    """A FEEL result as a JSON-ready variable value (integral numbers become ``int``)."""
    t = type(value)
    if t is str or t is bool or t is int or value is None:
        return value
    if t is Decimal:
        if value.is_finite():
            # (one decimal operation instead of to_integral_value, a comparison and int())
            n, d = value.as_integer_ratio()
            return n if d == 1 else float(value)
    elif t is dict:
        # a script's result context: its numbers converted here, not one call per entry
        out: dict[Any, Any] = {}
        for k, v in value.items():
            tv = type(v)
            if tv is Decimal and v.is_finite():
                n, d = v.as_integer_ratio()
                out[k] = n if d == 1 else float(v)
            elif tv is str or tv is bool or tv is int or v is None:
                out[k] = v
            else:
                out[k] = to_plain(v)
        return out
    elif t is list:
        return [to_plain(v) for v in value]
    from liucheng.feel import from_feel

    return from_feel(value, json_safe=True)


class Expr:
    """One expression of a model: either a constant or compiled FEEL text.

    A FEEL syntax error does not stop deployment of the rest of the model; it is raised (as an
    :class:`~liucheng.errors.EngineError` naming the element) when the expression is evaluated.

    Attributes:
        text: The source text.
        element_id: The element the expression belongs to (for errors).
    """

    __slots__ = ("_compiled", "_const", "_error", "element_id", "is_const", "text")

    def __init__(
        self, text: str, *, element_id: str | None = None, const: Any = None, is_const: bool = False
    ) -> None:
        self.text = text
        self.element_id = element_id
        self.is_const = is_const
        self._const = const
        self._compiled: Any = None
        self._error: LiuchengError | None = None
        if not is_const:
            try:
                from liucheng.feel import compile_expression

                self._compiled = compile_expression(text, source=element_id)
            except LiuchengError as exc:
                self._error = exc

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """The value in ``context`` (raw FEEL value: numbers are ``Decimal``).

        Raises:
            EngineError: The FEEL text does not compile or fails to evaluate.
        """
        if self.is_const:
            return self._const
        if self._error is not None:
            raise EngineError(
                f"expression '{self.text}' is not valid FEEL: {self._error.message}",
                code="engine.expression.invalid",
                element_id=self.element_id,
                hint="fix the FEEL expression in the model",
            )
        try:
            return self._compiled.evaluate(context, clock=FEEL_CLOCK.get())
        except LiuchengError as exc:
            raise self._failed(exc.message) from exc
        except Exception as exc:  # an evaluator fault must not escape as a traceback
            raise self._failed(f"{type(exc).__name__}: {exc}") from exc

    def value(self, context: Mapping[str, Any]) -> Any:
        """The value as a plain JSON-ready Python value."""
        compiled = self._compiled
        if compiled is None:  # a constant, or FEEL that did not compile
            return to_plain(self.evaluate(context))
        try:  # evaluate() inlined: one call less for every script and mapping
            raw = compiled.evaluate(context, clock=FEEL_CLOCK.get())
        except LiuchengError as exc:
            raise self._failed(exc.message) from exc
        except Exception as exc:  # an evaluator fault must not escape as a traceback
            raise self._failed(f"{type(exc).__name__}: {exc}") from exc
        return to_plain(raw)

    def _failed(self, message: str) -> EngineError:
        return EngineError(
            f"expression '{self.text}' failed: {message}",
            code="engine.expression.failed",
            element_id=self.element_id,
            hint="check the variables the expression uses",
        )

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"


class StructureExpr(Expr):
    """A ``camunda:list``/``camunda:map`` value: nested lists/dicts of expressions."""

    __slots__ = ("structure",)

    def __init__(self, structure: Any, element_id: str | None = None) -> None:
        super().__init__("<structure>", element_id=element_id, const=None, is_const=True)
        self.structure = structure

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """The structure with every expression evaluated."""
        return _walk(self.structure, context)


def _walk(value: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(value, Expr):
        return value.evaluate(context)
    if isinstance(value, list):
        return [_walk(v, context) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, context) for k, v in value.items()}
    return value


def feel(text: str | None, element_id: str | None = None) -> Expr | None:
    """A FEEL expression (a leading ``=`` is dropped); ``None`` for empty text."""
    if text is None:
        return None
    t = text.strip()
    if t.startswith("="):
        t = t[1:].strip()
    if not t:
        return None
    return Expr(t, element_id=element_id)


def maybe_feel(text: str | None, element_id: str | None = None) -> Expr | None:
    """An attribute value: FEEL when it starts with ``=``, else the literal string."""
    if text is None:
        return None
    t = text.strip()
    if t.startswith("="):
        return feel(t, element_id)
    return Expr(text, element_id=element_id, const=text, is_const=True)
