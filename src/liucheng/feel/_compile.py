"""Compile the FEEL AST into a tree of Python closures ``f(scope) -> value``."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from liucheng.feel import _ops
from liucheng.feel._bigdate import vtype
from liucheng.feel._parser import Node, contains_input_ref
from liucheng.feel._paths import get_path, instance_of
from liucheng.feel._runtime import MISSING, Scope, State, call_function
from liucheng.feel._types import (
    DECIMAL_CONTEXT,
    FeelFunction,
    FeelSyntaxError,
    Range,
    to_feel,
)
from liucheng.feel._values import (
    feel_compare,
    feel_eq,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_time,
    type_name,
)

__all__ = ["Compiled", "Compiler", "TestFn"]

Compiled = Callable[[Scope], Any]
TestFn = Callable[[Any, Scope], "bool | None"]

_D = Decimal
_PLAIN = (str, bool, Decimal)
_ONE = Decimal(1)


#: Number-and-number arithmetic of :mod:`._ops` (its first branch), for the compiled fast path.
_DECIMAL_OPS: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "+": DECIMAL_CONTEXT.add,
    "-": DECIMAL_CONTEXT.subtract,
    "*": DECIMAL_CONTEXT.multiply,
}


def _may_see(node: Any, keys: set[str]) -> bool:
    """Whether an AST subtree looks up one of ``keys`` by name or defines a function.

    Conservative: any ``name`` node naming a key counts, wherever it is bound.
    """
    if type(node) is tuple:
        if node and node[0] == "fundef":
            return True
        if len(node) >= 3 and node[0] == "name" and node[2] in keys:
            return True
        return any(_may_see(c, keys) for c in node)
    if type(node) is list:
        return any(_may_see(c, keys) for c in node)
    return False


def _temporal(text: str) -> Any:
    if text.startswith(("P", "-P")):
        return parse_duration(text)
    if "T" in text:
        return parse_datetime(text)
    if ":" in text:
        return parse_time(text)
    return parse_date(text)


class Compiler:
    """Turns AST nodes into closures. ``builtins`` maps names to built-in function values."""

    def __init__(self, text: str, builtins: dict[str, FeelFunction], source: str | None) -> None:
        self.text = text
        self.builtins = builtins
        self.source = source
        #: ids of AST nodes whose value is a compile-time constant.
        self.constants: set[int] = set()

    def syntax(self, node: Node, message: str, expected: str | None = None) -> FeelSyntaxError:
        return FeelSyntaxError(
            message, text=self.text, position=node[1], expected=expected, source=self.source
        )

    # ------------------------------------------------------------------ dispatch
    def compile(self, node: Node) -> Compiled:
        method = getattr(self, "c_" + node[0], None)
        if method is None:
            raise self.syntax(node, f"unexpected {node[0]}")
        result: Compiled = method(node)
        kind = node[0]
        if kind in _LITERALS:
            self.constants.add(id(node))
        elif kind in _FOLDABLE and self._children_constant(node):
            # Literal-only subtrees ([1..10], -5, 2 * 3) are evaluated once, here.
            value = result(Scope({}, None, State(None)))
            if value is not None:
                self.constants.add(id(node))
                return lambda env: value
        return result

    def _children_constant(self, node: Node) -> bool:
        kind = node[0]
        c = self.constants
        if kind == "temporal":
            return True
        if kind == "range" or kind == "arith":
            return id(node[3]) in c and id(node[4]) in c
        return id(node[-1]) in c

    def c_num(self, node: Node) -> Compiled:
        v = node[2]
        return lambda env: v

    c_str = c_num
    c_bool = c_num

    def c_null(self, node: Node) -> Compiled:
        return lambda env: None

    def c_temporal(self, node: Node) -> Compiled:
        v = _temporal(node[2])
        if v is None:
            text = node[2]
            pos = node[1]

            def bad(env: Scope) -> Any:
                env.state.warn("feel.invalid_literal", f"invalid temporal literal @{text!r}", pos)

            return bad
        return lambda env: v

    def c_tuple(self, node: Node) -> Compiled:
        raise self.syntax(node, "a parenthesised list of tests is only allowed after 'in'")

    def c_dash(self, node: Node) -> Compiled:
        raise self.syntax(node, "'-' is only allowed as a unary test", expected="an expression")

    def c_name(self, node: Node) -> Compiled:
        name = node[2]
        pos = node[1]
        builtin = self.builtins.get(name)

        def lookup(env: Scope) -> Any:
            v = env.vars.get(name, MISSING)
            if v is not MISSING:
                if env.raw and v is not None and type(v) not in _PLAIN:
                    if type(v) is int:  # the usual variable: to_feel's first case, inlined
                        return _D(v)
                    return to_feel(v)
                return v
            v = env.lookup(name)
            if v is MISSING:
                if builtin is not None:
                    return builtin
                env.state.warn("feel.unknown_name", f"unknown name {name!r}", pos)
                return None
            return v

        return lookup

    def c_neg(self, node: Node) -> Compiled:
        f = self.compile(node[2])
        neg = _ops.negate
        return lambda env: neg(f(env))

    def c_arith(self, node: Node) -> Compiled:
        op = node[2]
        fa = self.compile(node[3])
        fb = self.compile(node[4])
        fn = {
            "+": _ops.add,
            "-": _ops.subtract,
            "*": _ops.multiply,
            "/": _ops.divide,
            "**": _ops.power,
        }[op]
        pos = node[1]
        fast = _DECIMAL_OPS.get(op)

        def arith(env: Scope) -> Any:
            a = fa(env)
            b = fb(env)
            if fast is not None and type(a) is _D and type(b) is _D:
                # number and number, the usual case: _ops' first branch without its dispatch
                # (anything unusual - an error, a non-finite result - goes the general way)
                try:
                    r = fast(a, b)
                except Exception:
                    r = None
                if r is not None and r.is_finite():
                    return r
            r = fn(a, b)
            if r is None and a is not None and b is not None:
                env.state.warn(
                    "feel.invalid_operation",
                    f"cannot apply {op!r} to {type_name(a)} and {type_name(b)}",
                    pos,
                )
            return r

        return arith

    def c_cmp(self, node: Node) -> Compiled:
        op = node[2]
        fa = self.compile(node[3])
        fb = self.compile(node[4])
        if op == "=":

            def eq(env: Scope) -> Any:
                return feel_eq(fa(env), fb(env))

            return eq
        if op == "!=":

            def ne(env: Scope) -> Any:
                r = feel_eq(fa(env), fb(env))
                return None if r is None else not r

            return ne
        test: Callable[[int], bool] = {
            "<": lambda c: c < 0,
            "<=": lambda c: c <= 0,
            ">": lambda c: c > 0,
            ">=": lambda c: c >= 0,
        }[op]
        if op == ">":

            def gt(env: Scope) -> Any:
                a = fa(env)
                b = fb(env)
                if type(a) is _D and type(b) is _D:
                    return a > b
                c = feel_compare(a, b)
                return None if c is None else c > 0

            return gt
        if op == "<":

            def lt(env: Scope) -> Any:
                a = fa(env)
                b = fb(env)
                if type(a) is _D and type(b) is _D:
                    return a < b
                c = feel_compare(a, b)
                return None if c is None else c < 0

            return lt

        if op == ">=":

            def ge(env: Scope) -> Any:
                a = fa(env)
                b = fb(env)
                if type(a) is _D and type(b) is _D:
                    return a >= b
                c = feel_compare(a, b)
                return None if c is None else c >= 0

            return ge
        if op == "<=":

            def le(env: Scope) -> Any:
                a = fa(env)
                b = fb(env)
                if type(a) is _D and type(b) is _D:
                    return a <= b
                c = feel_compare(a, b)
                return None if c is None else c <= 0

            return le

        def cmp(env: Scope) -> Any:
            c = feel_compare(fa(env), fb(env))
            return None if c is None else test(c)

        return cmp

    def c_and(self, node: Node) -> Compiled:
        fa = self.compile(node[2])
        fb = self.compile(node[3])

        def conj(env: Scope) -> Any:
            a = fa(env)
            if a is False:
                return False
            b = fb(env)
            if b is False:
                return False
            if a is True and b is True:
                return True
            return None

        return conj

    def c_or(self, node: Node) -> Compiled:
        fa = self.compile(node[2])
        fb = self.compile(node[3])

        def disj(env: Scope) -> Any:
            a = fa(env)
            if a is True:
                return True
            b = fb(env)
            if b is True:
                return True
            if a is False and b is False:
                return False
            return None

        return disj

    def c_between(self, node: Node) -> Compiled:
        fe, flo, fhi = self.compile(node[2]), self.compile(node[3]), self.compile(node[4])

        def between(env: Scope) -> Any:
            e = fe(env)
            c1 = feel_compare(e, flo(env))
            c2 = feel_compare(e, fhi(env))
            if c1 is None or c2 is None:
                if (c1 is not None and c1 < 0) or (c2 is not None and c2 > 0):
                    return False
                return None
            return c1 >= 0 and c2 <= 0

        return between

    def c_in(self, node: Node) -> Compiled:
        fe = self.compile(node[2])
        tests = [self.compile_test(t, in_expression=True) for t in node[3]]
        if len(tests) == 1:
            t0 = tests[0]
            return lambda env: t0(fe(env), env)

        def in_tests(env: Scope) -> Any:
            v = fe(env)
            unknown = False
            for t in tests:
                r = t(v, env)
                if r is True:
                    return True
                if r is None:
                    unknown = True
            return None if unknown else False

        return in_tests

    def c_instance(self, node: Node) -> Compiled:
        fe = self.compile(node[2])
        typ = node[3]
        return lambda env: instance_of(fe(env), typ, env)

    def c_if(self, node: Node) -> Compiled:
        fc, ft, fo = self.compile(node[2]), self.compile(node[3]), self.compile(node[4])
        return lambda env: ft(env) if fc(env) is True else fo(env)

    # ------------------------------------------------------------------ iteration
    def _iter_source(self, src: Node) -> Callable[[Scope], Iterator[Any] | None]:
        if src[0] == "iter_range":
            flo, fhi = self.compile(src[2]), self.compile(src[3])
            pos = src[1]

            def rng(env: Scope) -> Iterator[Any] | None:
                lo, hi = flo(env), fhi(env)
                it = _range_iter(lo, hi, True, True)
                if it is None:
                    env.state.warn("feel.invalid_operation", "cannot iterate that range", pos)
                return it

            return rng
        f = self.compile(src)
        pos = src[1]

        def values(env: Scope) -> Iterator[Any] | None:
            v = f(env)
            if type(v) is list:
                return iter(v)
            if type(v) is Range:
                it = _range_iter(v.start, v.end, v.start_included, v.end_included)
                if it is None:
                    env.state.warn("feel.invalid_operation", "cannot iterate that range", pos)
                return it
            if v is None:
                return None
            return iter([v])

        return values

    def c_for(self, node: Node) -> Compiled:
        ctxs = [(name, self._iter_source(src)) for name, src in node[2]]
        body = self.compile(node[3])

        def for_loop(env: Scope) -> Any:
            out: list[Any] = []
            state = env.state
            failed = False

            def rec(k: int, scope: Scope) -> None:
                nonlocal failed
                name, src = ctxs[k]
                it = src(scope)
                if it is None:
                    failed = True
                    return
                for v in it:
                    state.step()
                    inner = scope.child({name: v, "partial": out})
                    if k + 1 == len(ctxs):
                        out.append(body(inner))
                    else:
                        rec(k + 1, inner)
                    if failed:
                        return

            rec(0, env)
            return None if failed else out

        return for_loop

    def c_quant(self, node: Node) -> Compiled:
        every = node[2] == "every"
        ctxs = [(name, self._iter_source(src)) for name, src in node[3]]
        body = self.compile(node[4])

        def quant(env: Scope) -> Any:
            state = env.state
            failed = False

            def rec(k: int, scope: Scope) -> bool:
                """True when the quantifier is decided (a witness/counter-example found)."""
                nonlocal failed
                name, src = ctxs[k]
                it = src(scope)
                if it is None:
                    failed = True
                    return True
                for v in it:
                    state.step()
                    inner = scope.child({name: v})
                    if k + 1 == len(ctxs):
                        r = body(inner)
                        if every and r is not True:
                            return True
                        if not every and r is True:
                            return True
                    elif rec(k + 1, inner):
                        return True
                return False

            decided = rec(0, env)
            if failed:
                return None
            return (not decided) if every else decided

        return quant

    # ------------------------------------------------------------------ structures
    def c_list(self, node: Node) -> Compiled:
        fs = [self.compile(e) for e in node[2]]
        return lambda env: [f(env) for f in fs]

    def c_context(self, node: Node) -> Compiled:
        entries = [(k, self.compile(e)) for k, e in node[2]]
        earlier: set[str] = set()
        flat = True
        for k, e in node[2]:
            if _may_see(e, earlier):
                flat = False
                break
            earlier.add(k)
        if flat:
            # No entry names an entry before it (those it would see), and none defines a
            # function (which would keep the context's scope): each entry gives the same value
            # in the enclosing scope, without a scope for the context.

            def flat_context(env: Scope) -> Any:
                d: dict[str, Any] = {}
                for k, f in entries:
                    d[k] = f(env)
                return d

            return flat_context

        def context(env: Scope) -> Any:
            d: dict[str, Any] = {}
            inner = env.child(d)
            for k, f in entries:
                d[k] = f(inner)
            return d

        return context

    def c_range(self, node: Node) -> Compiled:
        si, ei = node[2], node[5]
        flo, fhi = self.compile(node[3]), self.compile(node[4])
        pos = node[1]

        def rng(env: Scope) -> Any:
            lo, hi = flo(env), fhi(env)
            if lo is not None and hi is not None:
                if type(lo) is not type(hi) or feel_compare(lo, hi) is None:
                    env.state.warn("feel.invalid_range", "range ends are not comparable", pos)
                    return None
            elif lo is None and hi is None:
                return None
            return Range(lo, hi, si, ei)

        return rng

    def c_utest(self, node: Node) -> Compiled:
        op = node[2]
        f = self.compile(node[3])

        def utest(env: Scope) -> Any:
            v = f(env)
            return _utest_range(op, v)

        return utest

    def c_filter(self, node: Node) -> Compiled:
        fb = self.compile(node[2])
        cond_node = node[3]
        fc = self.compile(cond_node)
        pos = node[1]

        def filt(env: Scope) -> Any:
            base = fb(env)
            if base is None:
                return None
            items = base if type(base) is list else [base]
            out: list[Any] = []
            state = env.state
            if not items:
                # An index into an empty list is null; a condition on it gives [].
                probe = fc(Scope({"item": None}, env, State(None)))
                if type(probe) is _D:
                    state.warn("feel.index", "index into an empty list", pos)
                    return None
                return out
            for idx, item in enumerate(items):
                state.step()
                vars = {"item": item}
                if type(item) is dict:
                    vars.update(item)
                r = fc(env.child(vars))
                if idx == 0 and type(r) is _D:
                    return _index(items, r, state, pos)
                if r is True:
                    out.append(item)
            return out

        return filt

    def c_path(self, node: Node) -> Compiled:
        fb = self.compile(node[2])
        name = node[3]
        pos = node[1]

        def path(env: Scope) -> Any:
            return get_path(fb(env), name, env.state, pos)

        return path

    def c_call(self, node: Node) -> Compiled:
        if (
            node[2][0] == "name"
            and node[2][2] == "is defined"
            and node[3] is not None
            and len(node[3]) == 1
        ):
            return self._is_defined(node)
        ffn = self.compile(node[2])
        pos = node[1]
        if node[3] is not None:
            fargs = [self.compile(a) for a in node[3]]

            def call(env: Scope) -> Any:
                fn = ffn(env)
                if fn is None or not isinstance(fn, FeelFunction):
                    env.state.warn("feel.not_a_function", "invoked value is not a function", pos)
                    return None
                return call_function(fn, [f(env) for f in fargs], None, env.state, pos)

            return call
        fnamed = [(k, self.compile(a)) for k, a in node[4]]

        def call_named(env: Scope) -> Any:
            fn = ffn(env)
            if fn is None or not isinstance(fn, FeelFunction):
                env.state.warn("feel.not_a_function", "invoked value is not a function", pos)
                return None
            return call_function(fn, [], {k: f(env) for k, f in fnamed}, env.state, pos)

        return call_named

    def _is_defined(self, node: Node) -> Compiled:
        """``is defined(expr)``: false when ``expr`` meets an unknown name or missing entry."""
        ffn = self.compile(node[2])
        farg = self.compile(node[3][0])
        builtin = self.builtins.get("is defined")
        pos = node[1]

        def is_defined(env: Scope) -> Any:
            fn = ffn(env)
            if fn is not builtin:  # the name is bound to something else in this context
                if fn is None or not isinstance(fn, FeelFunction):
                    env.state.warn("feel.not_a_function", "invoked value is not a function", pos)
                    return None
                return call_function(fn, [farg(env)], None, env.state, pos)
            state = env.state
            outer = state.warnings
            state.warnings = []
            try:
                farg(env)
                seen = state.warnings
            finally:
                state.warnings = outer
            return not any(w.code == "feel.unknown_name" for w in seen)

        return is_defined

    def c_fundef(self, node: Node) -> Compiled:
        params = [p for p, _ in node[2]]
        types = [t for _, t in node[2]]
        external = node[4]
        if external:

            def ext(env: Scope) -> Any:
                def impl(state: State, *args: Any) -> Any:
                    state.warn("feel.external", "external functions are not supported")

                return FeelFunction(params, impl, "external", types, True)

            return ext
        body = self.compile(node[3])

        def fundef(env: Scope) -> Any:
            def impl(state: State, *args: Any) -> Any:
                for t, a in zip(types, args, strict=False):
                    if t is not None and a is not None and not instance_of(a, t, env):
                        state.warn("feel.invalid_argument", "argument does not match its type")
                        return None
                scope = Scope(dict(zip(params, args, strict=False)), env, state)
                return body(scope)

            return FeelFunction(params, impl, None, types, True)

        return fundef

    # ------------------------------------------------------------------ unary tests
    def compile_test(self, node: Node, in_expression: bool = False) -> TestFn:
        """A closure ``(input, scope) -> bool | None`` for one unary test."""
        kind = node[0]
        if kind == "dash":
            return lambda v, env: True
        if kind == "utest":
            op = node[2]
            f = self.compile(node[3])
            needs_input = contains_input_ref(node)

            def utest(v: Any, env: Scope) -> bool | None:
                b = f(env.child({"?": v}) if needs_input else env)
                if op == "=":
                    return feel_eq(v, b)
                if op == "!=":
                    r = feel_eq(v, b)
                    return None if r is None else not r
                c = feel_compare(v, b)
                if c is None:
                    return None
                if op == "<":
                    return c < 0
                if op == "<=":
                    return c <= 0
                if op == ">":
                    return c > 0
                return c >= 0

            return utest
        f = self.compile(node)
        uses_input = contains_input_ref(node)

        def expr_test(v: Any, env: Scope) -> bool | None:
            r = f(env.child({"?": v}) if uses_input else env)
            if uses_input and type(r) is bool:
                return r
            return _match_value(v, r)

        return expr_test


_LITERALS = frozenset({"num", "str", "bool", "null"})
_FOLDABLE = frozenset({"range", "utest", "neg", "arith", "temporal"})


def _match_value(v: Any, r: Any) -> bool | None:
    t = vtype(r)
    if t is list:
        if type(v) is list and feel_eq(v, r) is True:
            return True
        for x in r:
            if type(x) is Range:
                if _ops.in_range(v, x) is True:
                    return True
            elif feel_eq(v, x) is True:
                return True
        return False
    if t is Range:
        return _ops.in_range(v, r)
    if t is bool and type(v) is not bool and v is not None:
        return bool(r)
    return feel_eq(v, r)


def _utest_range(op: str, v: Any) -> Range | None:
    if v is None and op not in ("=", "!="):
        return None
    if op == "<":
        return Range(None, v, False, False, "<")
    if op == "<=":
        return Range(None, v, False, True, "<=")
    if op == ">":
        return Range(v, None, False, False, ">")
    if op == ">=":
        return Range(v, None, True, False, ">=")
    if op == "=":
        return Range(v, v, True, True, "=")
    return Range(v, v, False, False, "!=")


def _index(items: list[Any], r: Decimal, state: State, pos: int) -> Any:
    if r != r.to_integral_value():
        state.warn("feel.index", "list index is not an integer", pos)
        return None
    i = int(r)
    n = len(items)
    if i > 0 and i <= n:
        return items[i - 1]
    if i < 0 and -i <= n:
        return items[n + i]
    state.warn("feel.index", f"list index {i} out of range 1..{n}", pos)
    return None


def _range_iter(lo: Any, hi: Any, lo_inc: bool, hi_inc: bool) -> Iterator[Any] | None:
    if type(lo) is _D and type(hi) is _D:
        if lo != lo.to_integral_value() or hi != hi.to_integral_value():
            return None
        a, b = int(lo), int(hi)
        step = 1 if b >= a else -1
        if not lo_inc:
            a += step
        end = b + step if hi_inc else b
        return (Decimal(i) for i in range(a, end, step))
    if type(lo) is _dt.date and type(hi) is _dt.date:
        one = _dt.timedelta(days=1)
        step_d = one if hi >= lo else -one
        days = abs((hi - lo).days)
        first = 0 if lo_inc else 1
        last = days if hi_inc else days - 1
        return (lo + step_d * k for k in range(first, last + 1))
    return None
