"""Evaluation state, scopes, function calls and the null-with-warning convention."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from liucheng.feel._types import FeelEvaluationError, FeelFunction, FeelWarning, to_feel

__all__ = [
    "MAX_CALL_DEPTH",
    "MAX_SIZE",
    "MAX_STEPS",
    "MISSING",
    "Builtin",
    "NullResult",
    "Scope",
    "State",
    "call_function",
    "null",
    "too_big",
]

#: Upper bound on iterations (for, filter, quantifiers, list building) in one evaluation.
MAX_STEPS = 1_000_000
#: Upper bound on the length of a string or list an evaluation may build.
MAX_SIZE = 10_000_000
#: Upper bound on nested FEEL function calls in one evaluation.
MAX_CALL_DEPTH = 400

MISSING: Any = object()


class NullResult(Exception):
    """Raised inside built-ins for "the result is null"; carries the warning."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def null(message: str, code: str = "feel.invalid_argument") -> NullResult:
    """A :class:`NullResult` to raise: ``raise null("...")``."""
    return NullResult(code, message)


def too_big() -> FeelEvaluationError:
    """The error for a string or list beyond :data:`MAX_SIZE`."""
    return FeelEvaluationError(
        f"value too large (more than {MAX_SIZE} characters or items)",
        code="feel.limit.size",
        hint="check for runaway string or list growth",
    )


class State:
    """Per-evaluation state shared by every scope: warnings, clock, budgets."""

    __slots__ = ("clock", "depth", "steps", "warnings")

    def __init__(
        self,
        warnings: list[FeelWarning] | None,
        clock: Callable[[], _dt.datetime] | None = None,
    ) -> None:
        self.warnings = warnings
        self.clock = clock
        self.steps = 0
        self.depth = 0

    def warn(self, code: str, message: str, position: int | None = None) -> None:
        if self.warnings is not None and len(self.warnings) < 1000:
            self.warnings.append(FeelWarning(code, message, position))

    def step(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > MAX_STEPS:
            raise FeelEvaluationError(
                f"evaluation exceeded {MAX_STEPS} iteration steps",
                code="feel.limit.steps",
                hint="iterate over smaller lists or ranges",
            )

    def now(self) -> _dt.datetime:
        if self.clock is not None:
            return self.clock()
        return _dt.datetime.now(_dt.UTC).astimezone()


_PLAIN = (str, bool, Decimal)


class Scope:
    """A frame of names. ``raw`` frames hold caller-supplied values (converted on lookup)."""

    __slots__ = ("parent", "raw", "state", "vars")

    def __init__(
        self, vars: Mapping[str, Any], parent: Scope | None, state: State, raw: bool = False
    ) -> None:
        self.vars = vars
        self.parent = parent
        self.state = state
        self.raw = raw

    def lookup(self, name: str) -> Any:
        s: Scope | None = self
        while s is not None:
            v = s.vars.get(name, MISSING)
            if v is not MISSING:
                if s.raw and v is not None and type(v) not in _PLAIN:
                    return to_feel(v)
                return v
            s = s.parent
        return MISSING

    def child(self, vars: dict[str, Any]) -> Scope:
        return Scope(vars, self, self.state)


class Builtin(FeelFunction):
    """A built-in function: ``required`` leading parameters must be given."""

    def __init__(
        self,
        name: str,
        parameters: list[str],
        implementation: Callable[..., Any],
        required: int,
        *,
        variadic: bool = False,
        wants_state: bool = False,
    ) -> None:
        super().__init__(parameters, implementation, name, None, wants_state, variadic)
        self.required = required
        #: Alternative parameter-name lists (overloads), tried for named invocation.
        self.param_sets: list[list[str]] = [list(parameters)]
        #: Extra check of named arguments: returns a problem message or None.
        self.check_named: Callable[[dict[str, Any]], str | None] | None = None


def _bind_named(
    fn: FeelFunction, named: dict[str, Any], state: State | None, position: int | None
) -> list[Any] | None:
    params = list(fn.parameters)
    if isinstance(fn, Builtin) and fn.check_named is not None:
        problem = fn.check_named(named)
        if problem is not None:
            if state is not None:
                state.warn("feel.invalid_argument", f"{fn.name}(): {problem}", position)
            return None
    if isinstance(fn, Builtin) and len(fn.param_sets) > 1:
        params = _choose_set(fn.param_sets, named) or params
    for key in named:
        if key not in params:
            if state is not None:
                state.warn(
                    "feel.invalid_argument",
                    f"function {fn.name or '<anonymous>'} has no parameter {key!r}",
                    position,
                )
            return None
    args: list[Any] = []
    last = -1
    for idx, p in enumerate(params):
        if p in named:
            last = idx
    for idx in range(last + 1):
        args.append(named.get(params[idx], None if not isinstance(fn, Builtin) else MISSING))
    return args


def _choose_set(sets: list[list[str]], named: dict[str, Any]) -> list[str] | None:
    from liucheng.feel._types import Range

    fits = [ps for ps in sets if all(k in ps for k in named)]
    if len(fits) <= 1:
        return fits[0] if fits else None
    for ps in fits:
        ok = True
        for k, v in named.items():
            if k.startswith("range") and type(v) is not Range and v is not None:
                ok = False
            if k.startswith("point") and type(v) is Range:
                ok = False
        if ok:
            return ps
    return fits[0]


def call_function(
    fn: Any,
    args: list[Any],
    named: dict[str, Any] | None,
    state: State | None,
    position: int | None = None,
) -> Any:
    """Invoke a FEEL function value; bad calls give null with a warning."""
    if not isinstance(fn, FeelFunction):
        if state is not None:
            state.warn("feel.not_a_function", "invoked value is not a function", position)
        return None
    if named is not None:
        bound = _bind_named(fn, named, state, position)
        if bound is None:
            return None
        args = bound
    name = fn.name or "<anonymous>"
    if isinstance(fn, Builtin):
        if fn.variadic:
            pass
        elif (
            len(args) > len(fn.parameters)
            or len(args) < fn.required
            or any(a is MISSING for a in args[: fn.required])
        ):
            if state is not None:
                state.warn(
                    "feel.invalid_argument",
                    f"{name}() takes {fn.required}..{len(fn.parameters)} arguments,"
                    f" got {len(args)}",
                    position,
                )
            return None
        else:
            while args and args[-1] is MISSING:
                args = args[:-1]
            args = [None if a is MISSING else a for a in args]
        st = state if state is not None else State(None)
        try:
            if fn.wants_state:
                result = fn.implementation(st, *args)
            else:
                result = fn.implementation(*args)
            if (type(result) is str or type(result) is list) and len(result) > MAX_SIZE:
                raise too_big()
            return result
        except NullResult as e:
            st.warn(e.code, f"{name}(): {e.message}", position)
            return None
        except (ArithmeticError, ValueError, TypeError, OverflowError, IndexError, KeyError) as e:
            st.warn("feel.invalid_argument", f"{name}(): {type(e).__name__}: {e}", position)
            return None
    # User-defined or caller-supplied functions.
    nparams = len(fn.parameters)
    if not fn.variadic:
        if len(args) > nparams:
            if state is not None:
                state.warn(
                    "feel.invalid_argument",
                    f"{name}() takes {nparams} arguments, got {len(args)}",
                    position,
                )
            return None
        if len(args) < nparams:
            args = args + [None] * (nparams - len(args))
    st = state if state is not None else State(None)
    st.depth += 1
    if st.depth > MAX_CALL_DEPTH:
        raise FeelEvaluationError(
            f"function calls nested deeper than {MAX_CALL_DEPTH}",
            code="feel.limit.depth",
            hint="check for unbounded recursion",
        )
    try:
        if fn.wants_state:
            return fn.implementation(st, *args)
        try:
            return to_feel(fn.implementation(*args))
        except (FeelEvaluationError, RecursionError):
            raise
        except Exception as e:
            from liucheng.errors import LiuchengError

            if isinstance(e, LiuchengError):
                raise
            raise FeelEvaluationError(
                f"function {name} failed: {type(e).__name__}: {e}", code="feel.function_failed"
            ) from e
    finally:
        st.depth -= 1
