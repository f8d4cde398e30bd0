"""FEEL parser: recursive descent with precedence climbing, producing a small tuple AST.

Names in FEEL may contain spaces and the symbols ``. / - + * '`` (``Full Name``, ``Pre-bureau
risk``). The parser resolves them by longest match against the names it knows: built-in function
names, names declared earlier in the expression (context keys, parameters, iteration variables)
and names supplied by the caller (``known``). Without a match, adjacent plain words are joined
(two names side by side are never valid FEEL otherwise). Each span it could not resolve but that
would have formed a name is recorded in ``candidates``; the expression re-parses with those names
when an evaluation context actually contains one of them.

AST nodes are tuples ``(kind, position, *fields)``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from liucheng.feel._lexer import KEYWORDS, Token, tokenize
from liucheng.feel._types import FeelSyntaxError

__all__ = ["MAX_DEPTH", "Node", "Parser", "contains_input_ref", "parse_expression_text"]

Node = tuple[Any, ...]

#: Nesting limit for the parser (and so for the compiled tree): deep input is an error, not a crash.
MAX_DEPTH = 120

_NAME_SYMBOLS = frozenset({".", "/", "-", "+", "*", "'"})
#: Keywords that end a name: only these can follow a name in valid FEEL. Other keywords
#: ("of", "for", "null"...) may sit inside a multi-word name such as ``Years of Service``.
_NAME_STOP = frozenset({"and", "or", "in", "then", "else", "return", "satisfies", "between"})
_CMP_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_MAX_NAME_TOKENS = 24

_TYPE_NAMES_MULTI = (
    ("date", "and", "time"),
    ("days", "and", "time", "duration"),
    ("years", "and", "months", "duration"),
)


class Parser:
    """Parse one FEEL text; see module docstring for how names are resolved."""

    def __init__(self, text: str, known: frozenset[str] | set[str], source: str | None = None):
        self.text = text
        self.source = source
        self.tokens: list[Token] = tokenize(text)
        self.i = 0
        self.known = known
        self.declared: set[str] = set()
        self.candidates: set[str] = set()
        #: Candidates met in paths or filters: they may name entries of nested contexts.
        self.nested_candidates: set[str] = set()
        self.filter_depth = 0
        self.depth = 0
        self.bracket = 0
        self.no_filter_bracket = -1

    # ----------------------------------------------------------------- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        j = min(self.i + k, len(self.tokens) - 1)
        return self.tokens[j]

    def error(self, message: str, expected: str | None = None, tok: Token | None = None) -> None:
        t = tok or self.tok
        raise FeelSyntaxError(
            message, text=self.text, position=t.start, expected=expected, source=self.source
        )

    def describe(self, t: Token) -> str:
        if t.kind == "eof":
            return "end of expression"
        return f"{t.value!r}" if t.kind != "str" else "a string"

    def is_op(self, value: str) -> bool:
        t = self.tokens[self.i]
        return t.kind == "op" and t.value == value

    def is_kw(self, value: str) -> bool:
        t = self.tokens[self.i]
        return t.kind == "name" and t.value == value

    def expect_op(self, value: str) -> Token:
        t = self.tok
        if t.kind != "op" or t.value != value:
            self.error(f"unexpected {self.describe(t)}", expected=f"'{value}'")
        self.i += 1
        return t

    def expect_kw(self, value: str) -> Token:
        t = self.tok
        if t.kind != "name" or t.value != value:
            self.error(f"unexpected {self.describe(t)}", expected=f"'{value}'")
        self.i += 1
        return t

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.error(f"expression nested too deeply (limit {MAX_DEPTH})")

    # ----------------------------------------------------------------- entry points
    def parse_expression_only(self) -> Node:
        node = self.expression()
        if self.tok.kind != "eof":
            self.error(f"unexpected {self.describe(self.tok)}", expected="end of expression")
        return node

    def parse_unary_tests(self) -> Node:
        """Unary tests: ``-``, ``not(tests)`` or a comma-separated list of tests."""
        t = self.tok
        if t.kind == "op" and t.value == "-" and self.peek().kind == "eof":
            return ("dash", t.start)
        nxt = self.peek()
        if t.kind == "name" and t.value == "not" and nxt.kind == "op" and nxt.value == "(":
            save = self.i
            self.i += 2
            try:
                tests = self.test_list(")")
            except FeelSyntaxError:
                tests = None
            if tests is not None and self.is_op(")") and self.peek().kind == "eof":
                self.i += 1
                return ("not_tests", t.start, tests)
            self.i = save
            self.candidates.clear()
            self.nested_candidates.clear()
        tests = self.test_list("eof")
        if self.tok.kind != "eof":
            self.error(f"unexpected {self.describe(self.tok)}", expected="',' or end of tests")
        return ("tests", t.start, tests)

    def test_list(self, end: str) -> list[Node]:
        tests = [self.expression()]
        while self.is_op(","):
            self.i += 1
            tests.append(self.expression())
        if end != "eof" and not self.is_op(end):
            self.error(f"unexpected {self.describe(self.tok)}", expected=f"',' or '{end}'")
        return tests

    # ----------------------------------------------------------------- expressions
    def expression(self) -> Node:
        self.enter()
        try:
            t = self.tok
            if t.kind == "name":
                v = t.value
                nxt = self.peek()
                if v == "if":
                    return self.if_expr()
                if v == "for" and nxt.kind == "name" and not self._known_span_at(self.i):
                    return self.for_expr()
                if (
                    (v == "some" or v == "every")
                    and nxt.kind == "name"
                    and not self._known_span_at(self.i)
                ):
                    return self.quantified(v)
                if v == "function" and nxt.kind == "op" and nxt.value == "(":
                    return self.function_def()
            return self.disjunction()
        finally:
            self.depth -= 1

    def _known_span_at(self, i: int) -> bool:
        """True if a known multi-token name starts at token ``i`` (e.g. ``every day``)."""
        _, text = self._longest_known(i)
        return text is not None and " " in text

    def if_expr(self) -> Node:
        pos = self.tok.start
        self.i += 1
        cond = self.expression()
        self.expect_kw("then")
        then = self.expression()
        self.expect_kw("else")
        other = self.expression()
        return ("if", pos, cond, then, other)

    def iteration_contexts(self, allow_range: bool) -> list[tuple[str, Node]]:
        out: list[tuple[str, Node]] = []
        while True:
            name = self.binding_name()
            self.expect_kw("in")
            src = self.expression()
            if allow_range and self.is_op(".."):
                pos = self.tok.start
                self.i += 1
                hi = self.expression()
                src = ("iter_range", pos, src, hi)
            out.append((name, src))
            self.declared.add(name)
            if not self.is_op(","):
                return out
            self.i += 1

    def binding_name(self, allow_dot: bool = False) -> str:
        """A declared name (iteration variable, parameter): tokens up to a delimiter.

        ``allow_dot`` admits qualified names (``model.decision``), which name the parameters of
        imported decision services in named invocations.
        """
        symbols = _NAME_SYMBOLS if allow_dot else _NAME_SYMBOLS - {"."}
        t = self.tok
        if t.kind != "name" or t.value in KEYWORDS:
            self.error(f"unexpected {self.describe(t)}", expected="a name")
        parts = [t.value]
        self.i += 1
        while True:
            t = self.tok
            if t.kind == "name" and t.value not in _NAME_STOP:
                parts.append((" " if t.space_before else "") + t.value)
            elif t.kind == "num" or (t.kind == "op" and t.value in symbols):
                nxt = self.peek()
                if nxt.kind not in ("name", "num"):
                    break
                parts.append((" " if t.space_before else "") + t.value)
            else:
                break
            self.i += 1
        return "".join(parts)

    def for_expr(self) -> Node:
        pos = self.tok.start
        self.i += 1
        saved = set(self.declared)
        ctxs = self.iteration_contexts(allow_range=True)
        self.declared.add("partial")
        self.expect_kw("return")
        body = self.expression()
        self.declared = saved
        return ("for", pos, ctxs, body)

    def quantified(self, kind: str) -> Node:
        pos = self.tok.start
        self.i += 1
        saved = set(self.declared)
        ctxs = self.iteration_contexts(allow_range=False)
        self.expect_kw("satisfies")
        body = self.expression()
        self.declared = saved
        return ("quant", pos, kind, ctxs, body)

    def function_def(self) -> Node:
        pos = self.tok.start
        self.i += 2
        saved = set(self.declared)
        params: list[tuple[str, Any]] = []
        if not self.is_op(")"):
            while True:
                name = self.binding_name()
                typ = None
                if self.is_op(":"):
                    self.i += 1
                    typ = self.type_expr()
                params.append((name, typ))
                self.declared.add(name)
                if self.is_op(","):
                    self.i += 1
                    continue
                break
        self.expect_op(")")
        if self.is_kw("external"):
            self.i += 1
            body = self.expression()
            self.declared = saved
            return ("fundef", pos, params, body, True)
        body = self.expression()
        self.declared = saved
        return ("fundef", pos, params, body, False)

    def disjunction(self) -> Node:
        left = self.conjunction()
        while self.is_kw("or"):
            pos = self.tok.start
            self.i += 1
            right = self.conjunction()
            left = ("or", pos, left, right)
        return left

    def conjunction(self) -> Node:
        left = self.comparison()
        while self.is_kw("and"):
            pos = self.tok.start
            self.i += 1
            right = self.comparison()
            left = ("and", pos, left, right)
        return left

    def comparison(self) -> Node:
        left = self.additive()
        while True:
            t = self.tok
            if t.kind == "op" and t.value in _CMP_OPS:
                self.i += 1
                right = self.additive()
                left = ("cmp", t.start, t.value, left, right)
            elif t.kind == "name" and t.value == "between":
                self.i += 1
                lo = self.additive()
                self.expect_kw("and")
                hi = self.additive()
                left = ("between", t.start, left, lo, hi)
            elif t.kind == "name" and t.value == "in":
                self.i += 1
                if self.is_op("("):
                    rhs = self.primary()
                    tests = list(rhs[2]) if rhs[0] == "tuple" else [rhs]
                else:
                    tests = [self.additive()]
                left = ("in", t.start, left, tests)
            elif t.kind == "name" and t.value == "instance" and self.peek().value == "of":
                self.i += 2
                typ = self.type_expr()
                left = ("instance", t.start, left, typ)
            else:
                return left

    def additive(self) -> Node:
        left = self.multiplicative()
        while True:
            t = self.tok
            if t.kind == "op" and (t.value == "+" or t.value == "-"):
                self.i += 1
                right = self.multiplicative()
                left = ("arith", t.start, t.value, left, right)
            else:
                return left

    def multiplicative(self) -> Node:
        left = self.power()
        while True:
            t = self.tok
            if t.kind == "op" and (t.value == "*" or t.value == "/"):
                self.i += 1
                right = self.power()
                left = ("arith", t.start, t.value, left, right)
            else:
                return left

    def power(self) -> Node:
        left = self.unary()
        while self.is_op("**"):
            pos = self.tok.start
            self.i += 1
            right = self.unary()
            left = ("arith", pos, "**", left, right)
        return left

    def unary(self) -> Node:
        t = self.tok
        if t.kind == "op" and t.value == "-":
            self.enter()
            self.i += 1
            operand = self.unary()
            self.depth -= 1
            if operand[0] == "num":
                return ("num", t.start, -operand[2])
            return ("neg", t.start, operand)
        if t.kind == "op" and t.value == "+":
            self.i += 1
            return self.unary()
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            t = self.tok
            if t.kind != "op":
                return node
            if t.value == "[":
                if self.no_filter_bracket == self.bracket:
                    return node
                self.i += 1
                self.bracket += 1
                self.filter_depth += 1
                cond = self.expression()
                self.filter_depth -= 1
                self.bracket -= 1
                self.expect_op("]")
                node = ("filter", t.start, node, cond)
            elif t.value == "(":
                node = self.call(node)
            elif t.value == ".":
                self.i += 1
                nt = self.tok
                if nt.kind != "name":
                    self.error(f"unexpected {self.describe(nt)}", expected="a name after '.'")
                name = self.name_at(nested=True)
                node = ("path", t.start, node, name)
            else:
                return node

    def call(self, fn: Node) -> Node:
        pos = self.tok.start
        self.i += 1
        self.bracket += 1
        positional: list[Node] = []
        named: list[tuple[str, Node]] = []
        if not self.is_op(")"):
            is_named = self._named_arg_ahead()
            while True:
                if is_named:
                    name = self.binding_name(allow_dot=True)
                    self.expect_op(":")
                    named.append((name, self.expression()))
                else:
                    positional.append(self.expression())
                if self.is_op(","):
                    self.i += 1
                    continue
                break
        self.bracket -= 1
        self.expect_op(")")
        if named:
            return ("call", pos, fn, None, named)
        return ("call", pos, fn, positional, None)

    def _named_arg_ahead(self) -> bool:
        j = self.i
        while j < len(self.tokens) - 1:
            t = self.tokens[j]
            if t.kind == "name" or t.kind == "num" or (t.kind == "op" and t.value in _NAME_SYMBOLS):
                j += 1
                continue
            return t.kind == "op" and t.value == ":" and j > self.i
        return False

    # ----------------------------------------------------------------- primaries
    def primary(self) -> Node:
        t = self.tok
        k = t.kind
        if k == "num":
            self.i += 1
            try:
                return ("num", t.start, Decimal(t.value))
            except ArithmeticError:
                self.error("bad number", tok=t)
        if k == "str":
            self.i += 1
            return ("str", t.start, t.value)
        if k == "temporal":
            self.i += 1
            return ("temporal", t.start, t.value)
        if k == "name":
            v = t.value
            if v == "true" or v == "false":
                self.i += 1
                return ("bool", t.start, v == "true")
            if v == "null":
                self.i += 1
                return ("null", t.start)
            if v == "function" and self.peek().value == "(":
                return self.function_def()
            if v in ("if", "for", "some", "every"):
                return self.expression()
            if v in KEYWORDS and not self._known_span_at(self.i):
                self.error(f"unexpected keyword {v!r}", expected="an expression")
            return ("name", t.start, self.name_at())
        if k == "op":
            v = t.value
            if v == "(":
                return self.paren()
            if v == "[":
                return self.bracket_open()
            if v == "]":
                return self.range_from(False)
            if v == "{":
                return self.context()
            if v in _CMP_OPS:
                self.i += 1
                self.enter()
                operand = self.additive()
                self.depth -= 1
                return ("utest", t.start, v, operand)
            if (
                v == "-"
                and self.peek().kind in ("op", "eof")
                and self.peek().value in (",", ")", "")
            ):
                self.i += 1
                return ("dash", t.start)
        self.error(f"unexpected {self.describe(t)}", expected="an expression")
        raise AssertionError("unreachable")  # pragma: no cover

    def paren(self) -> Node:
        start = self.tok.start
        self.i += 1
        self.enter()
        self.bracket += 1
        try:
            first = self.expression()
            if self.is_op(".."):
                self.i += 1
                return self._range_rest(start, False, first)
            if self.is_op(","):
                items = [first]
                while self.is_op(","):
                    self.i += 1
                    items.append(self.expression())
                self.bracket -= 1
                self.expect_op(")")
                self.bracket += 1
                return ("tuple", start, items)
            self.bracket -= 1
            self.expect_op(")")
            self.bracket += 1
            return first
        finally:
            self.bracket -= 1
            self.depth -= 1

    def bracket_open(self) -> Node:
        start = self.tok.start
        self.i += 1
        self.enter()
        self.bracket += 1
        try:
            if self.is_op("]"):
                self.bracket -= 1
                self.i += 1
                self.bracket += 1
                return ("list", start, [])
            first = self.expression()
            if self.is_op(".."):
                self.i += 1
                return self._range_rest(start, True, first)
            items = [first]
            while self.is_op(","):
                self.i += 1
                items.append(self.expression())
            self.bracket -= 1
            self.expect_op("]")
            self.bracket += 1
            return ("list", start, items)
        finally:
            self.bracket -= 1
            self.depth -= 1

    def range_from(self, start_included: bool) -> Node:
        start = self.tok.start
        self.i += 1
        self.enter()
        self.bracket += 1
        try:
            lo = self.expression()
            self.expect_op("..")
            return self._range_rest(start, start_included, lo)
        finally:
            self.bracket -= 1
            self.depth -= 1

    def _range_rest(self, start: int, start_included: bool, lo: Node) -> Node:
        saved = self.no_filter_bracket
        self.no_filter_bracket = self.bracket
        hi = self.expression()
        self.no_filter_bracket = saved
        t = self.tok
        if t.kind == "op" and t.value == "]":
            end_included = True
        elif t.kind == "op" and t.value in (")", "["):
            end_included = False
        else:
            self.error(
                f"unexpected {self.describe(t)}", expected="']', ')' or '[' to end the range"
            )
        self.i += 1
        return ("range", start, start_included, lo, hi, end_included)

    def context(self) -> Node:
        start = self.tok.start
        self.i += 1
        self.enter()
        saved = set(self.declared)
        entries: list[tuple[str, Node]] = []
        seen: set[str] = set()
        try:
            if self.is_op("}"):
                self.i += 1
                return ("context", start, entries)
            while True:
                t = self.tok
                if t.kind == "str":
                    key = t.value
                    self.i += 1
                elif t.kind == "name":
                    key = self._context_key()
                else:
                    self.error(f"unexpected {self.describe(t)}", expected="a context key")
                if key in seen:
                    self.error(f"duplicate context key {key!r}", tok=t)
                seen.add(key)
                self.expect_op(":")
                self.declared.add(key)
                entries.append((key, self.expression()))
                if self.is_op(","):
                    self.i += 1
                    continue
                self.expect_op("}")
                return ("context", start, entries)
        finally:
            self.declared = saved
            self.depth -= 1

    def _context_key(self) -> str:
        """Context keys run up to the ':' and may contain any name symbols and keywords."""
        parts: list[str] = []
        first = True
        while True:
            t = self.tok
            if t.kind == "op" and t.value == ":":
                break
            if t.kind == "name" or t.kind == "num" or (t.kind == "op" and t.value in _NAME_SYMBOLS):
                parts.append(("" if first or not t.space_before else " ") + t.value)
                first = False
                self.i += 1
                continue
            self.error(f"unexpected {self.describe(t)}", expected="':' after the context key")
        return "".join(parts)

    # ----------------------------------------------------------------- names
    def _span_text(self, i: int, j: int) -> str:
        toks = self.tokens
        parts = [toks[i].value]
        for k in range(i + 1, j + 1):
            t = toks[k]
            parts.append((" " if t.space_before else "") + t.value)
        return "".join(parts)

    def _longest_known(self, i: int, nested: bool = False) -> tuple[int, str | None]:
        """Longest span from token ``i`` whose text is a known name: (last index, text)."""
        toks = self.tokens
        # A name may even start with a keyword ("in a list") when the context defines it.
        special = toks[i].value in KEYWORDS
        best: tuple[int, str | None] = (i, None)
        known = self.known
        declared = self.declared
        limit = min(len(toks) - 1, i + _MAX_NAME_TOKENS)
        j = i
        text = toks[i].value
        if text in known or text in declared:
            best = (i, text)
        while j + 1 < limit:
            t = toks[j + 1]
            if not (
                t.kind == "name" or t.kind == "num" or (t.kind == "op" and t.value in _NAME_SYMBOLS)
            ):
                break
            j += 1
            text += (" " if t.space_before else "") + t.value
            if t.kind == "op" or t.value in _NAME_STOP:
                special = True
            if t.kind != "op" and (text in known or text in declared):
                best = (j, text)
            elif special and t.kind == "name" and t.value not in KEYWORDS:
                # Could be a name if the evaluation context defines it ("Pre-bureau risk",
                # a BKM parameter called "Person.Gender").
                self.candidates.add(text)
                if (nested or self.filter_depth) and "." not in text:
                    self.nested_candidates.add(text)
        return best

    def name_at(self, nested: bool = False) -> str:
        i = self.i
        last, text = self._longest_known(i, nested)
        if text is not None and last > i:
            self.i = last + 1
            return text
        toks = self.tokens
        parts = [toks[i].value]
        j = i + 1
        while True:
            t = toks[j]
            if (t.kind == "name" and t.value not in _NAME_STOP) or (
                t.kind == "num" and t.space_before
            ):
                # A number after a name is part of it ("Extra days case 1"): two operands
                # side by side are never valid FEEL otherwise.
                if t.value == "instance" and toks[j + 1].value == "of":
                    break
                parts.append((" " if t.space_before else "") + t.value)
                j += 1
            elif (
                t.kind == "op"
                and t.value == "'"
                and not t.space_before
                and toks[j + 1].kind == "name"
                and not toks[j + 1].space_before
            ):
                # An apostrophe is never an operator: "Applicant's age".
                parts.append("'" + toks[j + 1].value)
                j += 2
            else:
                break
        self.i = j
        return "".join(parts)

    # ----------------------------------------------------------------- types
    def type_expr(self) -> Any:
        t = self.tok
        if t.kind != "name":
            self.error(f"unexpected {self.describe(t)}", expected="a type")
        for multi in _TYPE_NAMES_MULTI:
            n = len(multi)
            if all(
                self.peek(k).kind == "name" and self.peek(k).value == multi[k] for k in range(n)
            ):
                self.i += n
                return ("t", " ".join(multi))
        v = t.value
        if v in ("list", "range") and self.peek().value == "<":
            self.i += 2
            inner = self.type_expr()
            self._close_angle()
            return ("tlist" if v == "list" else "trange", inner)
        if v == "context" and self.peek().value == "<":
            self.i += 2
            fields: list[tuple[str, Any]] = []
            if not self.is_op(">"):
                while True:
                    key = self.binding_name()
                    self.expect_op(":")
                    fields.append((key, self.type_expr()))
                    if self.is_op(","):
                        self.i += 1
                        continue
                    break
            self._close_angle()
            return ("tcontext", fields)
        if v == "function" and self.peek().value == "<":
            self.i += 2
            params: list[Any] = []
            if not self.is_op(">"):
                while True:
                    params.append(self.type_expr())
                    if self.is_op(","):
                        self.i += 1
                        continue
                    break
            self._close_angle()
            self.expect_op("->")
            return ("tfunction", params, self.type_expr())
        name = self.binding_name()
        while self.is_op("."):
            self.i += 1
            name += "." + self.binding_name()
        return ("t", name)

    def _close_angle(self) -> None:
        t = self.tok
        if t.kind == "op" and t.value == ">":
            self.i += 1
            return
        if t.kind == "op" and t.value == ">=":
            # '>=' closing a type followed by '=': not valid, report clearly.
            self.error("unexpected '>='", expected="'>'")
        self.error(f"unexpected {self.describe(t)}", expected="'>' to close the type")


def contains_input_ref(node: Any) -> bool:
    """True if the AST mentions the unary-test input ``?`` (outside nested functions)."""
    if isinstance(node, tuple):
        if len(node) >= 3 and node[0] == "name" and node[2] == "?":
            return True
        return any(contains_input_ref(c) for c in node[1:])
    if isinstance(node, list):
        return any(contains_input_ref(c) for c in node)
    return False


def parse_expression_text(text: str, known: frozenset[str]) -> tuple[Node, set[str]]:
    """Parse ``text`` as an expression; return the AST and the candidate names it met."""
    p = Parser(text, known)
    return p.parse_expression_only(), p.candidates
