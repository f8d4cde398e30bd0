"""Compiling boxed expressions into closures ``(context, run) -> value``.

Every FEEL text of a model is compiled once (``compile_expression`` / ``compile_unary_tests``); a
FEEL syntax error does not stop the model from loading: it is kept as a problem of the model and
makes the expression evaluate to null with an error.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from liucheng.errors import DmnError, FeelError
from liucheng.feel import (
    FeelFunction,
    FeelWarning,
    Range,
    compile_expression,
    compile_unary_tests,
)

from ._types import DmnType
from .model import (
    Conditional,
    Context,
    DecisionTable,
    DmnExpression,
    Filter,
    FunctionDefinition,
    Invocation,
    Iterator,
    ListExpression,
    LiteralExpression,
    Relation,
    UnsupportedExpression,
)

if TYPE_CHECKING:
    from ._tables import CompiledTable

__all__ = ["Compiled", "Compiler", "RunState", "Tests"]


def _is_feel(language: str) -> bool:
    """FEEL in any of its URIs (OMG FEEL 2014, DMN 1.2–1.5 FEEL namespaces) or by name."""
    return "feel" in language.strip().lower()


class RunState(Protocol):
    """What compiled expressions need from an evaluation run."""

    warnings: list[FeelWarning]

    def error(self, message: str, *, element_id: str | None = None) -> None:
        """Record an evaluation error (the value concerned becomes null)."""


Compiled = Callable[[dict[str, Any], RunState], Any]


class Tests(Protocol):
    """Compiled unary tests (``liucheng.feel.UnaryTests`` or a stand-in)."""

    text: str

    def test(
        self,
        value: Any,
        context: Any = None,  # noqa: PT028 - mirrors UnaryTests.test
        *,
        warnings: list[FeelWarning] | None = None,  # noqa: PT028
    ) -> bool:
        """Whether ``value`` passes the tests."""


def _null(ctx: dict[str, Any], run: RunState) -> Any:
    return None


class Compiler:
    """Compiles the boxed expressions of one model.

    Args:
        file: Model file, for messages.
        resolve_type: Turns a ``typeRef`` into a :class:`DmnType`.
        default_language: The model's ``expressionLanguage``; only FEEL is evaluated.
    """

    def __init__(
        self,
        file: str | None,
        resolve_type: Callable[[str | None], DmnType],
        default_language: str | None = None,
    ) -> None:
        self.file = file
        self.resolve_type = resolve_type
        #: the model's ``expressionLanguage`` (FEEL when absent)
        self.default_language = default_language
        self.problems: list[DmnError] = []

    # -- FEEL ----------------------------------------------------------------------------------

    def problem(self, exc: Exception, line: int | None, element_id: str | None) -> DmnError:
        err = DmnError(
            str(exc.message if isinstance(exc, FeelError) else exc),
            code="dmn.feel.syntax" if isinstance(exc, FeelError) else "dmn.unsupported",
            file=self.file,
            line=line,
            element_id=element_id,
            hint=exc.hint if isinstance(exc, FeelError) else None,
        )
        self.problems.append(err)
        return err

    def feel(self, text: str, line: int | None = None, element_id: str | None = None) -> Compiled:
        """A FEEL expression; empty text is null."""
        if not text.strip():
            return _null
        try:
            expr = compile_expression(text, source=self.file)
        except FeelError as exc:
            return self._failing(self.problem(exc, line, element_id))

        def run_feel(ctx: dict[str, Any], run: RunState) -> Any:
            return expr.evaluate(ctx, warnings=run.warnings)

        return run_feel

    def unary(
        self, text: str | None, line: int | None = None, element_id: str | None = None
    ) -> Tests | None:
        """Unary tests, or ``None`` for a missing or ``-`` text (matches anything)."""
        if text is None or not text.strip() or text.strip() == "-":
            return None
        try:
            return compile_unary_tests(text, source=self.file)
        except FeelError as exc:
            err = self.problem(exc, line, element_id)
            return _FailingTests(text, err)

    @staticmethod
    def _failing(err: DmnError) -> Compiled:
        def fail(ctx: dict[str, Any], run: RunState) -> Any:
            run.error(err.message, element_id=err.element_id)
            return None

        return fail

    # -- typing --------------------------------------------------------------------------------

    def typed(self, fn: Compiled, type_ref: str | None, what: str) -> Compiled:
        """Wrap ``fn`` so its result is coerced to ``type_ref`` (non-conforming -> null)."""
        dtype = self.resolve_type(type_ref)
        if dtype.is_any:
            return fn

        def coerce(ctx: dict[str, Any], run: RunState) -> Any:
            value = fn(ctx, run)
            conv, ok = dtype.coerce(value)
            if not ok:
                run.error(f"{what}: value does not conform to type {type_ref}")
            return conv

        return coerce

    # -- boxed expressions ---------------------------------------------------------------------

    def expression(self, expr: DmnExpression | None) -> Compiled:
        """Compile any boxed expression (``None`` is null)."""
        if expr is None:
            return _null
        if isinstance(expr, LiteralExpression):
            lang = expr.expression_language or self.default_language
            if lang is not None and not _is_feel(lang):
                return self._failing(
                    self.problem(
                        ValueError(f"expression language {lang!r} is not supported"),
                        expr.line,
                        expr.id,
                    )
                )
            return self.feel(expr.text, expr.line, expr.id)
        if isinstance(expr, DecisionTable):
            from ._tables import compile_table

            table: CompiledTable = compile_table(expr, self)
            return table.evaluate
        if isinstance(expr, Context):
            return self.context(expr)
        if isinstance(expr, ListExpression):
            items = [self.expression(i) for i in expr.items]
            return lambda ctx, run: [f(ctx, run) for f in items]
        if isinstance(expr, Relation):
            names = [c.name for c in expr.columns]
            rows = [[self.expression(cell) for cell in row] for row in expr.rows]
            return lambda ctx, run: [
                {n: f(ctx, run) for n, f in zip(names, row, strict=True)} for row in rows
            ]
        if isinstance(expr, Invocation):
            return self.invocation(expr)
        if isinstance(expr, FunctionDefinition):
            return self.function(expr, None)
        if isinstance(expr, Conditional):
            return self.conditional(expr)
        if isinstance(expr, Iterator):
            return self.iterator(expr)
        if isinstance(expr, Filter):
            return self.filter(expr)
        if isinstance(expr, UnsupportedExpression):
            return self._failing(self.problem(ValueError(expr.reason), expr.line, expr.id))
        return self._failing(
            self.problem(ValueError(f"unsupported expression {type(expr).__name__}"), None, None)
        )

    def context(self, expr: Context) -> Compiled:
        entries: list[tuple[str | None, Compiled]] = []
        for entry in expr.entries:
            fn = self.expression(entry.value)
            if entry.variable is not None:
                fn = self.typed(
                    fn, entry.variable.type_ref, f"context entry {entry.variable.name!r}"
                )
                entries.append((entry.variable.name, fn))
            else:
                entries.append((None, fn))

        def run_context(ctx: dict[str, Any], run: RunState) -> Any:
            local = dict(ctx)
            result: dict[str, Any] = {}
            for name, fn in entries:
                value = fn(local, run)
                if name is None:
                    return value
                local[name] = value
                result[name] = value
            return result

        return run_context

    def invocation(self, expr: Invocation) -> Compiled:
        callee = self.expression(expr.callee)
        bindings = [(b.parameter.name, self.expression(b.expression)) for b in expr.bindings]

        def invoke(ctx: dict[str, Any], run: RunState) -> Any:
            fn = callee(ctx, run)
            if not isinstance(fn, FeelFunction):
                run.error(f"invocation: {fn!r} is not a function", element_id=expr.id)
                return None
            named = {name: f(ctx, run) for name, f in bindings}
            return fn.invoke([], named)

        return invoke

    def function(
        self, expr: FunctionDefinition, name: str | None, result_type: DmnType | None = None
    ) -> Compiled:
        """A function definition: evaluates to a :class:`FeelFunction` closed over the context.

        ``result_type`` (e.g. a BKM's declared function type's output) also coerces the result.
        """
        if expr.kind.upper() != "FEEL":
            err = self.problem(
                ValueError(f"function kind {expr.kind} is not supported (only FEEL)"),
                expr.line,
                expr.id,
            )
            return self._failing(err)
        params = [p.name for p in expr.parameters]
        ptypes = [self.resolve_type(p.type_ref) for p in expr.parameters]
        body = self.expression(expr.body)
        if expr.body is not None:
            body = self.typed(body, expr.body.type_ref, f"function {name or ''}")
        body = self.typed(body, expr.type_ref, f"function {name or ''}")
        if result_type is not None and not result_type.is_any:
            inner = body

            def body(ctx: dict[str, Any], run: RunState) -> Any:
                conv, ok = result_type.coerce(inner(ctx, run))
                if not ok:
                    run.error(f"{name or 'function'}: result does not conform to its type")
                return conv

        def make(ctx: dict[str, Any], run: RunState) -> Any:
            def call(*args: Any) -> Any:
                local = dict(ctx)
                for pname, ptype, value in zip(params, ptypes, args, strict=False):
                    conv, ok = ptype.coerce(value)
                    if not ok:
                        # a wrongly typed argument makes the invocation an error (null)
                        run.error(f"{name or 'function'}: argument {pname!r} has the wrong type")
                        return None
                    local[pname] = conv
                for pname in params[len(args) :]:
                    local.setdefault(pname, None)
                return body(local, run)

            return FeelFunction(params, call, name)

        return make

    def conditional(self, expr: Conditional) -> Compiled:
        cond = self.expression(expr.condition)
        then = self.expression(expr.then)
        other = self.expression(expr.otherwise)

        def run_if(ctx: dict[str, Any], run: RunState) -> Any:
            test = cond(ctx, run)
            if test is True:
                return then(ctx, run)
            if test is None or test is False:
                return other(ctx, run)
            run.error(f"conditional: the condition is not a boolean: {test!r}", element_id=expr.id)
            return None

        return run_if

    def iterator(self, expr: Iterator) -> Compiled:
        source = self.expression(expr.source)
        body = self.expression(expr.body)
        var = expr.variable
        kind = expr.kind

        def run_iter(ctx: dict[str, Any], run: RunState) -> Any:
            items = _as_items(source(ctx, run))
            if items is None:
                run.error(f"{kind}: the 'in' value is not a list", element_id=expr.id)
                return None
            results: list[Any] = []
            for item in items:
                local = dict(ctx)
                local[var] = item
                if kind == "for":
                    local["partial"] = list(results)
                results.append(body(local, run))
            if kind == "for":
                return results
            if kind == "some":
                if any(r is True for r in results):
                    return True
                return False if all(r is False for r in results) else None
            if any(r is False for r in results):
                return False
            return True if all(r is True for r in results) else None

        return run_iter

    def filter(self, expr: Filter) -> Compiled:
        source = self.expression(expr.source)
        match = self.expression(expr.match)

        def run_filter(ctx: dict[str, Any], run: RunState) -> Any:
            value = source(ctx, run)
            if value is None:
                return None
            items = value if isinstance(value, list) else [value]
            out = []
            for item in items:
                local = dict(ctx)
                if isinstance(item, dict):
                    local.update(item)
                local["item"] = item
                if match(local, run) is True:
                    out.append(item)
            return out

        return run_filter


def _as_items(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, Range):
        lo, hi = value.start, value.end
        if isinstance(lo, Decimal) and isinstance(hi, Decimal) and lo == lo.to_integral_value():
            step = 1 if hi >= lo else -1
            a, b = int(lo), int(hi)
            if not value.start_included:
                a += step
            end = b + step if value.end_included else b
            return [Decimal(i) for i in range(a, end, step)]
        return None
    if value is None:
        return None
    return [value]


class _FailingTests:
    """Stands in for unary tests that did not compile: never matches, records an error."""

    def __init__(self, text: str, err: DmnError) -> None:
        self.text = text
        self._err = err

    def test(
        self,
        value: Any,
        context: Any = None,
        *,
        warnings: list[FeelWarning] | None = None,
    ) -> bool:
        if warnings is not None:
            warnings.append(FeelWarning("dmn.feel.syntax", self._err.message, None))
        return False
