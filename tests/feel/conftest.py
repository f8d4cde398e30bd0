"""Helpers for the FEEL tests."""

from __future__ import annotations

from typing import Any

from liucheng.feel import FeelWarning, evaluate


def ev(text: str, ctx: dict[str, Any] | None = None) -> Any:
    """Evaluate and return the value."""
    return evaluate(text, ctx)


def ev_warn(text: str, ctx: dict[str, Any] | None = None) -> tuple[Any, list[FeelWarning]]:
    """Evaluate and return the value and the warnings."""
    warnings: list[FeelWarning] = []
    return evaluate(text, ctx, warnings=warnings), warnings
