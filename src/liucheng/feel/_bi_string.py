"""String built-ins, with XPath/XSD regular expressions translated by elementpath."""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any

import regex as _bounded  # type: ignore[import-untyped]
from elementpath.regex import translate_pattern

from liucheng.feel._builtins import builtin, need_int, need_list, need_number, need_str
from liucheng.feel._runtime import MAX_SIZE, null, too_big

_FLAG_MAP = {"s": re.S, "m": re.M, "i": re.I, "x": re.X}
_MAX_PATTERN = 10_000
# A repeated group (``(a+)+``, ``(a|aa)*``, ``(x*){2,}``) can backtrack exponentially, and
# Python's ``re`` cannot be interrupted. Such patterns run on the ``regex`` engine (same syntax
# and flags) with a time limit instead; a match that exceeds it gives null and a warning.
_REPEATED_GROUP = re.compile(r"\)(?:[*+]|\{\d*,)")
_REGEX_TIMEOUT = 1.0


class _Bounded:
    """A compiled pattern whose every match runs under :data:`_REGEX_TIMEOUT` seconds."""

    __slots__ = ("_rx", "groups")

    def __init__(self, translated: str, bits: int) -> None:
        self._rx = _bounded.compile(translated, bits)
        self.groups: int = self._rx.groups

    def _run(self, method: str, *args: Any) -> Any:
        try:
            out = getattr(self._rx, method)(*args, timeout=_REGEX_TIMEOUT)
            return list(out) if method == "finditer" else out
        except TimeoutError:
            raise null(
                f"regular expression needs more than {_REGEX_TIMEOUT:g} s "
                "(catastrophic backtracking)"
            ) from None

    def match(self, s: str) -> Any:
        return self._run("match", s)

    def search(self, s: str) -> Any:
        return self._run("search", s)

    def finditer(self, s: str) -> Any:
        return self._run("finditer", s)

    def sub(self, repl: Any, s: str) -> str:
        out: str = self._run("sub", repl, s)
        return out

    def split(self, s: str) -> list[Any]:
        out: list[Any] = self._run("split", s)
        return out


@functools.lru_cache(maxsize=512)
def _regex(pattern: str, flags: str) -> re.Pattern[str] | _Bounded:
    """Compile an XPath regex with XPath flags (s, m, i, x, q)."""
    if len(pattern) > _MAX_PATTERN:
        raise null("pattern too long")
    bits = 0
    literal = False
    for f in flags:
        if f == "q":
            literal = True
        elif f in _FLAG_MAP:
            bits |= _FLAG_MAP[f]
        else:
            raise null(f"unknown regex flag {f!r}")
    if literal:
        return re.compile(re.escape(pattern), bits & ~re.X)
    try:
        if bits & re.X:
            pattern = _strip_whitespace(pattern)
        translated = translate_pattern(pattern, bits & ~re.X, "1.0", True, True, True)
        compiled = re.compile(translated, bits & ~re.X)
        if _REPEATED_GROUP.search(translated):
            return _Bounded(translated, bits & ~re.X)
        return compiled
    except Exception as e:  # elementpath raises its own error types for bad patterns
        raise null(f"invalid regular expression {pattern!r}: {e}") from None


def _strip_whitespace(pattern: str) -> str:
    """The XPath ``x`` flag: drop whitespace outside character classes."""
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern) and pattern[i + 1] not in " \t\n\r":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]" and depth:
            depth -= 1
        if depth or c not in " \t\n\r":
            out.append(c)
        i += 1
    text = "".join(out)
    # Whitespace inside \p{...} escapes is dropped as well.
    return re.sub(
        r"\\([pP])\{([^}]*)\}", lambda m: f"\\{m.group(1)}{{{m.group(2).replace(' ', '')}}}", text
    )


def _flags(flags: Any) -> str:
    if flags is None:
        return ""
    return need_str(flags, "flags")


@builtin("substring", "string, start position, length", required=2)
def substring(s: Any, start: Any, length: Any = None) -> Any:
    s = need_str(s, "string")
    st = need_number(start, "start position")
    n = len(s)
    st_i = int(st)
    if st_i == 0:
        raise null("start position must not be 0")
    begin = st_i - 1 if st_i > 0 else max(n + st_i, 0)
    if length is None:
        return s[begin:]
    ln = need_number(length, "length")
    ln_i = int(ln)
    if ln_i < 0:
        raise null("length must not be negative")
    return s[begin : begin + ln_i]


@builtin("string length", "string")
def string_length(s: Any) -> Any:
    # Counted in UTF-16 code units, as the DMN TCK expects (an emoji counts 2), although
    # substring() indexes by code point.
    text = need_str(s, "string")
    return Decimal(len(text) + sum(1 for c in text if ord(c) > 0xFFFF))


@builtin("upper case", "string")
def upper_case(s: Any) -> Any:
    return need_str(s, "string").upper()


@builtin("lower case", "string")
def lower_case(s: Any) -> Any:
    return need_str(s, "string").lower()


@builtin("substring before", "string, match")
def substring_before(s: Any, m: Any) -> Any:
    s, m = need_str(s, "string"), need_str(m, "match")
    i = s.find(m)
    return "" if i < 0 else s[:i]


@builtin("substring after", "string, match")
def substring_after(s: Any, m: Any) -> Any:
    s, m = need_str(s, "string"), need_str(m, "match")
    i = s.find(m)
    return "" if i < 0 else s[i + len(m) :]


def _replacement(rep: str, literal: bool) -> Any:
    """Translate an XPath replacement string ($1, \\$, \\\\) to a function for re.sub."""
    if literal:
        return lambda m: rep
    parts: list[Any] = []
    i = 0
    buf = ""
    while i < len(rep):
        c = rep[i]
        if c == "\\":
            if i + 1 < len(rep) and rep[i + 1] in "\\$":
                buf += rep[i + 1]
                i += 2
                continue
            raise null("invalid replacement string: bad '\\'")
        if c == "$":
            j = i + 1
            while j < len(rep) and rep[j].isdigit():
                j += 1
            if j == i + 1:
                raise null("invalid replacement string: '$' without group number")
            parts.append(buf)
            buf = ""
            parts.append(int(rep[i + 1 : j]))
            i = j
            continue
        buf += c
        i += 1
    parts.append(buf)
    if len(parts) == 1:
        # No group references: a plain string (escaped for re.sub) is much faster.
        return buf.replace("\\", "\\\\")

    def expand(m: re.Match[str]) -> str:
        out = []
        ngroups = m.re.groups
        for p in parts:
            if isinstance(p, int):
                # XPath: take the longest group number that exists.
                num = p
                tail = ""
                while num > ngroups and num >= 10:
                    tail = str(num % 10) + tail
                    num //= 10
                if num <= ngroups:
                    out.append(m.group(num) or "")
                out.append(tail)
            else:
                out.append(p)
        return "".join(out)

    return expand


@builtin("replace", "input, pattern, replacement, flags", required=3)
def replace(s: Any, pattern: Any, rep: Any, flags: Any = None) -> Any:
    s = need_str(s, "input")
    pattern = need_str(pattern, "pattern")
    rep = need_str(rep, "replacement")
    fl = _flags(flags)
    rx = _regex(pattern, fl)
    if rx.match(""):
        raise null("pattern matches the empty string")
    if len(s) * max(len(rep), 1) > MAX_SIZE:
        # Check the size of the result before building it.
        matches = sum(1 for _ in rx.finditer(s))
        if len(s) + matches * len(rep) > MAX_SIZE:
            raise too_big()
    return rx.sub(_replacement(rep, "q" in fl), s)


@builtin("matches", "input, pattern, flags", required=2)
def matches(s: Any, pattern: Any, flags: Any = None) -> Any:
    s = need_str(s, "input")
    rx = _regex(need_str(pattern, "pattern"), _flags(flags))
    return rx.search(s) is not None


@builtin("contains", "string, match")
def contains(s: Any, m: Any) -> Any:
    return need_str(m, "match") in need_str(s, "string")


@builtin("starts with", "string, match")
def starts_with(s: Any, m: Any) -> Any:
    return need_str(s, "string").startswith(need_str(m, "match"))


@builtin("ends with", "string, match")
def ends_with(s: Any, m: Any) -> Any:
    return need_str(s, "string").endswith(need_str(m, "match"))


@builtin("split", "string, delimiter")
def split(s: Any, d: Any) -> Any:
    s = need_str(s, "string")
    rx = _regex(need_str(d, "delimiter"), "")
    if rx.match(""):
        raise null("delimiter matches the empty string")
    return rx.split(s) if rx.groups == 0 else list(rx.split(s))[:: rx.groups + 1]


@builtin("extract", "string, pattern")
def extract(s: Any, pattern: Any) -> Any:
    s = need_str(s, "string")
    rx = _regex(need_str(pattern, "pattern"), "")
    return [m.group(0) for m in rx.finditer(s)]


@builtin("string join", "list, delimiter", required=1)
def string_join(lst: Any, delimiter: Any = None) -> Any:
    items = need_list(lst)
    sep = "" if delimiter is None else need_str(delimiter, "delimiter")
    out = []
    for x in items:
        if x is None:
            continue
        if type(x) is not str:
            raise null("string join needs a list of strings")
        out.append(x)
    return sep.join(out)


@builtin("pad left", "string, length, character", required=2)
def pad_left(s: Any, length: Any, ch: Any = None) -> Any:
    s = need_str(s, "string")
    n = need_int(length, "length")
    c = " " if ch is None else need_str(ch, "character")
    if len(c) != 1 or n > 1_000_000:
        raise null("bad padding")
    return s.rjust(n, c)


@builtin("pad right", "string, length, character", required=2)
def pad_right(s: Any, length: Any, ch: Any = None) -> Any:
    s = need_str(s, "string")
    n = need_int(length, "length")
    c = " " if ch is None else need_str(ch, "character")
    if len(c) != 1 or n > 1_000_000:
        raise null("bad padding")
    return s.ljust(n, c)
