"""Context built-ins and the boolean ``not``."""

from __future__ import annotations

from typing import Any

from liucheng.feel._builtins import BUILTINS, builtin, need_list
from liucheng.feel._runtime import null


def _need_context(v: Any, what: str = "context") -> dict[str, Any]:
    if type(v) is not dict:
        raise null(f"{what} must be a context")
    return v


@builtin("not", "negand")
def fnot(v: Any) -> Any:
    if type(v) is bool:
        return not v
    return None


@builtin("is defined", "value")
def is_defined(value: Any) -> Any:
    """Whether the argument names something (a Camunda extension).

    Calls written ``is defined(expr)`` are compiled as a special form that sees whether ``expr``
    refers to an unknown name or a missing context entry; this function serves the other
    forms (named arguments, the function as a value), where only the value is known.
    """
    return value is not None


@builtin("get value", "m, key")
def get_value(m: Any, key: Any) -> Any:
    ctx = _need_context(m, "m")
    if type(key) is list:
        cur: Any = ctx
        for k in key:
            if type(cur) is not dict or type(k) is not str:
                return None
            cur = cur.get(k)
        return cur
    if type(key) is not str:
        raise null("key must be a string")
    return ctx.get(key)


@builtin("get entries", "m")
def get_entries(m: Any) -> Any:
    return [{"key": k, "value": v} for k, v in _need_context(m, "m").items()]


def _put(ctx: dict[str, Any], keys: list[Any], value: Any) -> dict[str, Any]:
    k = keys[0]
    if type(k) is not str:
        raise null("keys must be strings")
    out = dict(ctx)
    if len(keys) == 1:
        out[k] = value
        return out
    inner = ctx.get(k)
    if inner is None:
        inner = {}
    if type(inner) is not dict:
        raise null(f"entry {k!r} is not a context")
    out[k] = _put(inner, keys[1:], value)
    return out


@builtin("context put", "context, key, value; context, keys, value")
def context_put(ctx: Any, key: Any, value: Any) -> Any:
    c = _need_context(ctx)
    if type(key) is list:
        if not key:
            raise null("keys must not be empty")
        return _put(c, key, value)
    if type(key) is not str:
        raise null("key must be a string")
    return _put(c, [key], value)


@builtin("context merge", "contexts")
def context_merge(contexts: Any) -> Any:
    out: dict[str, Any] = {}
    for c in need_list(contexts, "contexts"):
        out.update(_need_context(c, "each item"))
    return out


def _check_put_named(named: dict[str, Any]) -> str | None:
    if type(named.get("key")) is list:
        return "a list of keys goes in the 'keys' parameter"
    return None


BUILTINS["context put"].check_named = _check_put_named  # type: ignore[attr-defined]


@builtin("context", "entries")
def context(entries: Any) -> Any:
    out: dict[str, Any] = {}
    for e in need_list(entries, "entries"):
        if type(e) is not dict or "key" not in e or "value" not in e:
            raise null("each entry needs 'key' and 'value'")
        k = e["key"]
        if type(k) is not str:
            raise null("entry keys must be strings")
        if k in out:
            raise null(f"duplicate key {k!r}")
        out[k] = e["value"]
    return out
