"""Public entry points: compile (cached) and evaluate expressions and unary tests."""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from liucheng.feel._builtins import BUILTINS
from liucheng.feel._compile import Compiled, Compiler, TestFn
from liucheng.feel._parser import Node, Parser
from liucheng.feel._runtime import MISSING, Scope, State
from liucheng.feel._types import FeelEvaluationError, FeelSyntaxError, FeelWarning, to_feel

__all__ = [
    "Expression",
    "UnaryTests",
    "compile_expression",
    "compile_unary_tests",
    "evaluate",
    "set_default_clock",
]

Clock = Callable[[], _dt.datetime]

_KNOWN = frozenset(BUILTINS)
_PLAIN = (str, bool, Decimal)
_EMPTY: Mapping[str, Any] = {}
_default_clock: Clock | None = None
_MAX_VARIANTS = 16


def set_default_clock(clock: Clock | None) -> None:
    """Set the clock ``now()``/``today()`` read when an evaluation passes none (None: system)."""
    global _default_clock
    _default_clock = clock


def _names_of(context: Mapping[str, Any], limit: int = 2000) -> set[str]:
    """Keys of the context and of contexts nested in it (bounded), for name resolution."""
    out: set[str] = set()
    todo: list[Any] = [context]
    while todo and len(out) < limit:
        v = todo.pop()
        if isinstance(v, Mapping):
            for k, x in v.items():
                out.add(str(k))
                if isinstance(x, Mapping | list | tuple):
                    todo.append(x)
        elif isinstance(v, list | tuple) and v:
            todo.append(v[0])
    return out


def _run(fn: Callable[[Scope], Any], scope: Scope) -> Any:
    try:
        return fn(scope)
    except RecursionError:
        raise _depth_error() from None
    except MemoryError:
        raise _memory_error() from None


def _depth_error() -> FeelEvaluationError:
    return FeelEvaluationError(
        "expression too deeply nested or recursive to evaluate",
        code="feel.limit.depth",
        hint="check for unbounded recursion",
    )


def _memory_error() -> FeelEvaluationError:
    return FeelEvaluationError("expression needs too much memory", code="feel.limit.memory")


_T = TypeVar("_T")


def _guard(step: Callable[[], _T], text: str, source: str | None) -> _T:
    """Run a parse/compile step; Python's recursion limit becomes a clear syntax error."""
    try:
        return step()
    except RecursionError:
        raise FeelSyntaxError(
            "expression nested too deeply", text=text, position=0, source=source
        ) from None


def _parses_with(text: str, names: set[str], unary: bool = False) -> bool:
    """Would the text parse if the candidate names (all, or any one of them) were defined?"""
    trials = [frozenset(names)] + [frozenset({n}) for n in sorted(names)[:32]]
    for trial in trials:
        p = Parser(text, _KNOWN | trial)
        try:
            _guard(p.parse_unary_tests if unary else p.parse_expression_only, text, None)
        except FeelSyntaxError:
            continue
        return True
    return False


def _raiser(error: FeelSyntaxError) -> Compiled:
    def fail(scope: Scope) -> Any:
        raise error

    return fail


_NONE: frozenset[str] = frozenset()


class _Variants:
    """Re-parses of one text for evaluation contexts that define names with symbols in them."""

    def __init__(
        self, text: str, candidates: set[str], nested: set[str], source: str | None
    ) -> None:
        self.text = text
        self.candidates = frozenset(candidates)
        self.nested = frozenset(nested)
        self.source = source
        self.cache: dict[frozenset[str], Any] = {}

    def present(self, context: Mapping[str, Any]) -> frozenset[str]:
        found = {c for c in self.candidates if c in context}
        if not found and not self.nested:
            return _NONE
        if self.nested:
            names = _names_of(context)
            found.update(c for c in self.nested if c in names)
        return frozenset(found)


class Expression:
    """A compiled FEEL expression; evaluate it as often as needed.

    Attributes:
        text: The source text.
    """

    __slots__ = ("_fn", "_name", "_variants", "source", "text")

    def __init__(self, text: str, source: str | None = None) -> None:
        self.text = text
        self.source = source
        #: The name when the expression is one name only (read without a scope when present)
        self._name: str | None = None
        p = Parser(text, _KNOWN, source)
        try:
            node = _guard(p.parse_expression_only, text, source)
            if node[0] == "name" and not p.candidates:
                self._name = node[2]
            self._fn: Compiled = _guard(
                lambda: Compiler(text, BUILTINS, source).compile(node), text, source
            )
        except FeelSyntaxError as e:
            if not p.candidates or not _parses_with(text, p.candidates):
                raise
            # Perhaps a name with symbols ("Pre-bureau risk") that the evaluation context
            # defines: keep the error for contexts that do not.
            self._fn = _raiser(e)
        self._variants = (
            _Variants(text, p.candidates, p.nested_candidates, source) if p.candidates else None
        )

    def _select(self, context: Mapping[str, Any]) -> Compiled:
        variants = self._variants
        assert variants is not None
        present = variants.present(context)
        if not present:
            return self._fn
        fn = variants.cache.get(present)
        if fn is None:
            p = Parser(self.text, _KNOWN | present, self.source)
            try:
                node = _guard(p.parse_expression_only, self.text, self.source)
                fn = _guard(
                    lambda: Compiler(self.text, BUILTINS, self.source).compile(node),
                    self.text,
                    self.source,
                )
            except FeelSyntaxError:
                fn = self._fn
            if len(variants.cache) < _MAX_VARIANTS:
                variants.cache[present] = fn
        return fn

    def evaluate(
        self,
        context: Mapping[str, Any] | None = None,
        *,
        warnings: list[FeelWarning] | None = None,
        clock: Clock | None = None,
    ) -> Any:
        """Evaluate with the names in ``context``; null-per-spec problems go to ``warnings``."""
        ctx = _EMPTY if context is None else context
        name = self._name
        if name is not None:
            # what the compiled name lookup does when the context has the name (raw values
            # converted); otherwise (a built-in, an unknown name's warning) the general way
            v = ctx.get(name, MISSING)
            if v is not MISSING:
                if v is None or type(v) in _PLAIN:
                    return v
                return to_feel(v)
        fn = self._fn if self._variants is None or not ctx else self._select(ctx)
        # _run inlined: one call less per evaluation (the engine's scripts and conditions)
        try:
            return fn(Scope(ctx, None, State(warnings, clock or _default_clock), True))
        except RecursionError:
            raise _depth_error() from None
        except MemoryError:
            raise _memory_error() from None

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


class UnaryTests:
    """Compiled FEEL unary tests (a decision table input entry, or the right side of ``in``).

    Attributes:
        text: The source text.
    """

    __slots__ = ("_compiled", "_variants", "source", "text")

    def __init__(self, text: str, source: str | None = None) -> None:
        self.text = text
        self.source = source
        p = Parser(text, _KNOWN, source)
        try:
            self._compiled = self._build(p)
        except FeelSyntaxError as e:
            if not p.candidates or not _parses_with(text, p.candidates, unary=True):
                raise
            error = e

            def fail(value: Any, scope: Scope) -> bool | None:
                raise error

            self._compiled = (False, [fail])
        self._variants = (
            _Variants(text, p.candidates, p.nested_candidates, source) if p.candidates else None
        )

    def _build(self, p: Parser) -> tuple[bool, list[TestFn] | None]:
        text, source = self.text, self.source
        node: Node = _guard(p.parse_unary_tests, text, source)
        comp = Compiler(text, BUILTINS, source)
        if node[0] == "dash":
            return False, None
        tests = _guard(lambda: [comp.compile_test(t) for t in node[2]], text, source)
        return node[0] == "not_tests", tests

    def _select(self, context: Mapping[str, Any]) -> tuple[bool, list[TestFn] | None]:
        variants = self._variants
        assert variants is not None
        present = variants.present(context)
        if not present:
            return self._compiled
        compiled = variants.cache.get(present)
        if compiled is None:
            try:
                compiled = self._build(Parser(self.text, _KNOWN | present, self.source))
            except FeelSyntaxError:
                compiled = self._compiled
            if len(variants.cache) < _MAX_VARIANTS:
                variants.cache[present] = compiled
        return compiled

    def test(
        self,
        value: Any,
        context: Mapping[str, Any] | None = None,
        *,
        warnings: list[FeelWarning] | None = None,
        clock: Clock | None = None,
    ) -> bool:
        """True iff ``value`` satisfies the tests (a test that is null does not match)."""
        if self._variants is None or not context:
            negated, tests = self._compiled
        else:
            negated, tests = self._select(context)
        if tests is None:
            return True
        v = value if value is None or type(value) in _PLAIN else to_feel(value)
        state = State(warnings, clock or _default_clock)
        scope = Scope(_EMPTY if context is None else context, None, state, True)
        result: bool | None = False
        try:
            for t in tests:
                r = t(v, scope)
                if r is True:
                    result = True
                    break
                if r is None:
                    result = None
        except RecursionError:
            raise FeelEvaluationError(
                "unary tests too deeply nested to evaluate", code="feel.limit.depth"
            ) from None
        if negated:
            return result is False
        return result is True

    def __repr__(self) -> str:
        return f"UnaryTests({self.text!r})"


@functools.lru_cache(maxsize=4096)
def _cached_expression(text: str) -> Expression:
    return Expression(text)


@functools.lru_cache(maxsize=4096)
def _cached_tests(text: str) -> UnaryTests:
    return UnaryTests(text)


def compile_expression(text: str, *, source: str | None = None) -> Expression:
    """Parse and compile ``text`` once (LRU-cached by text).

    Raises:
        FeelSyntaxError: The text is not a FEEL expression.
    """
    if not isinstance(text, str):
        raise FeelSyntaxError("FEEL expression must be a string", text="")
    try:
        return _cached_expression(text)
    except FeelSyntaxError as e:
        if source is not None:
            e.file = source
        raise


def compile_unary_tests(text: str, *, source: str | None = None) -> UnaryTests:
    """Parse and compile unary tests ``text`` once (LRU-cached by text).

    Raises:
        FeelSyntaxError: The text is not valid unary tests.
    """
    if not isinstance(text, str):
        raise FeelSyntaxError("FEEL unary tests must be a string", text="")
    try:
        return _cached_tests(text)
    except FeelSyntaxError as e:
        if source is not None:
            e.file = source
        raise


def evaluate(
    text: str,
    context: Mapping[str, Any] | None = None,
    *,
    warnings: list[FeelWarning] | None = None,
    clock: Clock | None = None,
) -> Any:
    """Compile (cached) and evaluate ``text`` in ``context``."""
    return compile_expression(text).evaluate(context, warnings=warnings, clock=clock)
