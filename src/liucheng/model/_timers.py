"""Syntax checks of timer values: ISO 8601 dates, durations, repeating intervals, cron."""

from __future__ import annotations

import re

__all__ = ["check_timer", "is_expression"]

_DURATION = re.compile(
    r"^-?P(?!$)(\d+(?:[.,]\d+)?Y)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?W)?(\d+(?:[.,]\d+)?D)?"
    r"(T(?=\d)(\d+(?:[.,]\d+)?H)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?S)?)?$"
)
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?(\[[\w/+\-]+\]|@[\w/+\-]+)?)?$"
)
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?/,\-#LW]+$")
_CRON_ZONE = re.compile(r"^(CRON_TZ|TZ)=[\w/+\-]+$", re.IGNORECASE)
# FEEL/JUEL-looking: a name, a call, a path, or a JUEL ${...}.
_EXPRESSION = re.compile(r"^(\$\{.*\}|#\{.*\}|[A-Za-z_][\w .]*(\(.*\))?)$", re.DOTALL)


def is_expression(text: str) -> bool:
    """Whether a timer value is an expression (``=...``, ``${...}`` or FEEL-looking)."""
    text = text.strip()
    if text.startswith("="):
        return bool(text[1:].strip())
    if text.startswith(("P", "R")) and not any(c in text for c in "( "):
        return False
    return bool(_EXPRESSION.match(text))


def _is_date(text: str) -> bool:
    return bool(_DATE_TIME.match(text))


def _is_duration(text: str) -> bool:
    return bool(_DURATION.match(text))


def _is_cron(text: str) -> bool:
    parts = text.split()
    if parts and _CRON_ZONE.match(parts[0]):  # CRON_TZ=Europe/Berlin 0 9 * * MON-FRI
        parts = parts[1:]
    return 5 <= len(parts) <= 7 and all(_CRON_FIELD.match(p) for p in parts)


def _is_cycle(text: str) -> bool:
    parts = text.split("/")
    if parts[0].startswith("R"):
        if not re.fullmatch(r"R\d*", parts[0]):
            return False
        rest = parts[1:]
    else:
        rest = parts
    if len(rest) == 1:
        return _is_duration(rest[0])
    if len(rest) == 2:
        a, b = rest
        return (_is_date(a) and (_is_duration(b) or _is_date(b))) or (
            _is_duration(a) and _is_date(b)
        )
    return False


def check_timer(kind: str, text: str) -> str | None:
    """Check a timer value; return ``None`` when fine, else what is expected.

    Args:
        kind: ``date``, ``duration`` or ``cycle``.
        text: The value as written.
    """
    value = text.strip()
    if not value:
        return "an empty timer value"
    if is_expression(value):
        return None
    if kind == "date" and _is_date(value):
        return None
    if kind == "duration" and _is_duration(value):
        return None
    if kind == "cycle" and (_is_cycle(value) or _is_cron(value)):
        return None
    expected = {
        "date": "an ISO 8601 date-time such as 2026-01-31T09:00:00Z",
        "duration": "an ISO 8601 duration such as PT1H or P2D",
        "cycle": "a repeating interval such as R3/PT10M, or a cron expression",
    }[kind]
    return f"{value!r} is not {expected} or an expression (=...)"
