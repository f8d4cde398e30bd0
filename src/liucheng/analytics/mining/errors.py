"""Errors raised by the process-mining algorithms."""

from __future__ import annotations

from liucheng.errors import LiuchengError

__all__ = ["MiningError"]


class MiningError(LiuchengError):
    """A mining input (log, model, parameter) that the algorithms cannot work with."""

    default_code = "mining.invalid"
