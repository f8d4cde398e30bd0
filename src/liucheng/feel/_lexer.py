"""FEEL tokenizer: turns text into tokens with positions (names are joined later, by the parser)."""

from __future__ import annotations

from typing import NamedTuple

from liucheng.feel._types import FeelSyntaxError

__all__ = ["KEYWORDS", "MAX_TEXT", "Token", "tokenize"]

#: Upper bound on expression size: keeps parsing and the name search bounded.
MAX_TEXT = 200_000

KEYWORDS = frozenset(
    {
        "and",
        "or",
        "in",
        "if",
        "then",
        "else",
        "for",
        "return",
        "some",
        "every",
        "satisfies",
        "between",
        "instance",
        "of",
        "function",
        "true",
        "false",
        "null",
        "external",
    }
)

_OPS3 = ("...",)
_OPS2 = ("..", "**", "<=", ">=", "!=", "->")
_OPS1 = frozenset("()[]{},:.+-*/<>=@'|")


class Token(NamedTuple):
    """One token: kind is ``name``, ``num``, ``str``, ``op``, ``temporal`` or ``eof``."""

    kind: str
    value: str
    start: int
    end: int
    space_before: bool


# NameStartChar ranges of the FEEL grammar (rule 28) above ASCII.
_START_RANGES = (
    (0xC0, 0xD6),
    (0xD8, 0xF6),
    (0xF8, 0x2FF),
    (0x370, 0x37D),
    (0x37F, 0x1FFF),
    (0x200C, 0x200D),
    (0x2070, 0x218F),
    (0x2C00, 0x2FEF),
    (0x3001, 0xD7FF),
    (0xF900, 0xFDCF),
    (0xFDF0, 0xFFFD),
    (0x10000, 0xEFFFF),
)
# Extra NamePartChar ranges (rule 29).
_PART_RANGES = ((0xB7, 0xB7), (0x300, 0x36F), (0x203F, 0x2040))


def _in_ranges(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def _is_name_start(c: str) -> bool:
    if c.isascii():
        return c.isalpha() or c == "_" or c == "?"
    return _in_ranges(ord(c), _START_RANGES)


def _is_name_part(c: str) -> bool:
    if c.isascii():
        return c.isalnum() or c == "_"
    code = ord(c)
    return _in_ranges(code, _START_RANGES) or _in_ranges(code, _PART_RANGES)


def tokenize(text: str) -> list[Token]:
    """Split FEEL ``text`` into tokens, skipping whitespace and comments."""
    if len(text) > MAX_TEXT:
        raise FeelSyntaxError(
            f"expression too long ({len(text)} characters, limit {MAX_TEXT})", text=text
        )
    out: list[Token] = []
    i = 0
    n = len(text)
    space = False
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            space = True
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j
            space = True
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            if j < 0:
                raise FeelSyntaxError(
                    "unterminated comment", text=text, position=i, expected="'*/'"
                )
            i = j + 2
            space = True
            continue
        start = i
        if c == '"':
            value, i = _string(text, i)
            out.append(Token("str", value, start, i, space))
        elif c == "@" and i + 1 < n and text[i + 1] == '"':
            value, i = _string(text, i + 1)
            out.append(Token("temporal", value, start, i, space))
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            i = _number_end(text, i)
            out.append(Token("num", text[start:i], start, i, space))
        elif _is_name_start(c):
            i += 1
            if c != "?":
                while i < n and _is_name_part(text[i]):
                    i += 1
            out.append(Token("name", text[start:i], start, i, space))
        else:
            two = text[i : i + 2]
            if text[i : i + 3] in _OPS3:
                i += 3
                out.append(Token("op", "...", start, i, space))
            elif two in _OPS2:
                i += 2
                out.append(Token("op", two, start, i, space))
            elif c in _OPS1:
                i += 1
                out.append(Token("op", c, start, i, space))
            else:
                raise FeelSyntaxError(
                    f"unexpected character {c!r}",
                    text=text,
                    position=i,
                    expected="a name, literal or operator",
                )
        space = False
    out.append(Token("eof", "", n, n, space))
    return out


def _number_end(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i].isdigit():
        i += 1
    if i + 1 < n and text[i] == "." and text[i + 1].isdigit():
        i += 1
        while i < n and text[i].isdigit():
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j].isdigit():
            while j < n and text[j].isdigit():
                j += 1
            i = j
    return i


_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def _string(text: str, i: int) -> tuple[str, int]:
    """Read a string literal starting at the quote at ``i``; return (value, end offset)."""
    start = i
    i += 1
    n = len(text)
    parts: list[str] = []
    while True:
        j = i
        while j < n and text[j] != '"' and text[j] != "\\":
            j += 1
        parts.append(text[i:j])
        if j >= n:
            raise FeelSyntaxError(
                "unterminated string literal", text=text, position=start, expected="'\"'"
            )
        if text[j] == '"':
            return _join_surrogates("".join(parts)), j + 1
        # backslash escape
        if j + 1 >= n:
            raise FeelSyntaxError(
                "unterminated string literal", text=text, position=start, expected="'\"'"
            )
        e = text[j + 1]
        if e in _ESCAPES:
            parts.append(_ESCAPES[e])
            i = j + 2
        elif e == "u" or e == "U":
            width = 4 if e == "u" else 6
            digits = text[j + 2 : j + 2 + width]
            if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise FeelSyntaxError(
                    "bad unicode escape",
                    text=text,
                    position=j,
                    expected=f"{width} hex digits after \\{e}",
                )
            code = int(digits, 16)
            if code > 0x10FFFF:
                raise FeelSyntaxError("unicode escape out of range", text=text, position=j)
            parts.append(chr(code))
            i = j + 2 + width
        else:
            # Unknown escapes keep the backslash, as several engines do.
            parts.append("\\" + e)
            i = j + 2


def _join_surrogates(s: str) -> str:
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in s):
        return s
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
