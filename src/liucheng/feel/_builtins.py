"""Registry of FEEL built-in functions and the helpers the built-in modules share."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from liucheng.feel._runtime import Builtin, null
from liucheng.feel._types import FeelFunction

__all__ = ["BUILTINS", "builtin", "need_int", "need_list", "need_number", "need_str", "unwrap"]

BUILTINS: dict[str, FeelFunction] = {}


def builtin(
    name: str,
    params: str,
    *,
    required: int | None = None,
    variadic: bool = False,
    state: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a built-in.

    ``params`` is a comma-separated list of the spec's parameter names; overloads with other
    names follow after ``;`` (used for named invocation).
    """
    sets = [[p.strip() for p in alt.split(",") if p.strip()] for alt in params.split(";")]
    plist = sets[0]

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        req = len(plist) if required is None else required
        b = Builtin(name, plist, fn, req, variadic=variadic, wants_state=state)
        b.param_sets = sets
        BUILTINS[name] = b
        return fn

    return deco


def unwrap(v: Any) -> Any:
    """A singleton list stands for its element where a single value is expected."""
    if type(v) is list and len(v) == 1:
        return v[0]
    return v


def need_number(v: Any, what: str = "argument") -> Decimal:
    v = unwrap(v)
    if type(v) is not Decimal:
        raise null(f"{what} must be a number")
    return v


def need_int(v: Any, what: str = "argument") -> int:
    d = need_number(v, what)
    if d != d.to_integral_value():
        raise null(f"{what} must be a whole number")
    return int(d)


def need_str(v: Any, what: str = "argument") -> str:
    v = unwrap(v)
    if type(v) is not str:
        raise null(f"{what} must be a string")
    return v


def need_list(v: Any, what: str = "list") -> list[Any]:
    if type(v) is list:
        return v
    if v is None:
        raise null(f"{what} must be a list")
    return [v]


def _load() -> None:
    # The modules register themselves through @builtin on import.
    from liucheng.feel import (  # noqa: F401
        _bi_context,
        _bi_conversion,
        _bi_list,
        _bi_numeric,
        _bi_range,
        _bi_string,
        _bi_temporal,
    )


_load()
