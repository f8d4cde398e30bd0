"""Errors of the organisation part (all below :class:`liucheng.errors.LiuchengError`)."""

from __future__ import annotations

from liucheng.errors import ValidationError

__all__ = ["CalendarError", "OrgValidationError", "SlaError"]


class OrgValidationError(ValidationError):
    """An organisation file or edit that breaks the model's rules (unknown ids, cycles, ...).

    ``details["problems"]`` lists every problem found, each with ``message`` and, where known,
    ``file`` and ``line``; the error's own message, file and line are those of the first problem.
    """

    default_code = "org.invalid"


class CalendarError(ValidationError):
    """A business-calendar file or duration that cannot be used."""

    default_code = "calendar.invalid"


class SlaError(ValidationError):
    """An SLA clock whose event list is not a valid history (e.g. resume without pause)."""

    default_code = "sla.invalid"
