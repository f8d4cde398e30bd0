"""List built-ins."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from liucheng.feel._builtins import builtin, need_int, need_list, need_number
from liucheng.feel._runtime import State, call_function, null
from liucheng.feel._types import DECIMAL_CONTEXT, FeelFunction
from liucheng.feel._values import feel_compare, feel_eq

_CTX = DECIMAL_CONTEXT


def _items(args: tuple[Any, ...]) -> list[Any]:
    """Variadic list functions: one list argument, or the arguments themselves."""
    if len(args) == 1 and type(args[0]) is list:
        return args[0]
    if len(args) == 0:
        raise null("needs at least one argument")
    if len(args) == 1 and args[0] is None:
        raise null("argument is null")
    return list(args)


def _numbers(items: list[Any]) -> list[Decimal]:
    for x in items:
        if type(x) is not Decimal:
            raise null("all items must be numbers")
    return items


def _contains(items: list[Any], v: Any) -> bool:
    return any(feel_eq(x, v) is True for x in items)


@builtin("list contains", "list, element")
def list_contains(lst: Any, e: Any) -> Any:
    return _contains(need_list(lst), e)


@builtin("count", "list", variadic=True)
def count(*args: Any) -> Any:
    return Decimal(len(_items(args)))


def _extreme(args: tuple[Any, ...], sign: int) -> Any:
    items = _items(args)
    if not items:
        return None
    best = items[0]
    for x in items[1:]:
        c = feel_compare(x, best)
        if c is None:
            raise null("items are not comparable")
        if c * sign > 0:
            best = x
    if len(items) == 1 and feel_compare(best, best) is None:
        raise null("item is not comparable")
    return best


@builtin("min", "list", variadic=True)
def fmin(*args: Any) -> Any:
    return _extreme(args, -1)


@builtin("max", "list", variadic=True)
def fmax(*args: Any) -> Any:
    return _extreme(args, 1)


@builtin("sum", "list", variadic=True)
def fsum(*args: Any) -> Any:
    items = _numbers(_items(args))
    if not items:
        return None
    total = Decimal(0)
    for x in items:
        total = _CTX.add(total, x)
    return total


@builtin("mean", "list", variadic=True)
def mean(*args: Any) -> Any:
    items = _numbers(_items(args))
    if not items:
        return None
    total = Decimal(0)
    for x in items:
        total = _CTX.add(total, x)
    return _CTX.divide(total, Decimal(len(items)))


@builtin("median", "list", variadic=True)
def median(*args: Any) -> Any:
    items = sorted(_numbers(_items(args)))
    n = len(items)
    if n == 0:
        return None
    if n % 2:
        return items[n // 2]
    return _CTX.divide(_CTX.add(items[n // 2 - 1], items[n // 2]), Decimal(2))


@builtin("stddev", "list", variadic=True)
def stddev(*args: Any) -> Any:
    items = _numbers(_items(args))
    n = len(items)
    if n < 2:
        return None
    m = _CTX.divide(sum(items, Decimal(0)), Decimal(n))
    var = _CTX.divide(sum(((x - m) ** 2 for x in items), Decimal(0)), Decimal(n - 1))
    return _CTX.sqrt(var)


@builtin("mode", "list", variadic=True)
def mode(*args: Any) -> Any:
    items = _numbers(_items(args))
    if not items:
        return []
    counts: dict[Decimal, int] = {}
    for x in items:
        counts[x] = counts.get(x, 0) + 1
    top = max(counts.values())
    return sorted(x for x, c in counts.items() if c == top)


@builtin("product", "list", variadic=True)
def product(*args: Any) -> Any:
    items = _numbers(_items(args))
    if not items:
        return None
    out = Decimal(1)
    for x in items:
        out = _CTX.multiply(out, x)
    return out


@builtin("all", "list", variadic=True)
def fall(*args: Any) -> Any:
    items = _items(args)
    unknown = False
    for x in items:
        if x is False:
            return False
        if x is not True:
            unknown = True
    return None if unknown else True


@builtin("any", "list", variadic=True)
def fany(*args: Any) -> Any:
    items = _items(args)
    unknown = False
    for x in items:
        if x is True:
            return True
        if x is not False:
            unknown = True
    return None if unknown else False


def _position(items: list[Any], pos: Any, *, insert: bool = False) -> int:
    p = need_int(pos, "position")
    n = len(items) + (1 if insert else 0)
    if p > 0 and p <= max(n, 0) and (p <= len(items) or insert):
        return p - 1
    if p < 0 and -p <= len(items):
        return len(items) + p
    raise null(f"position {p} out of range")


@builtin("sublist", "list, start position, length", required=2)
def sublist(lst: Any, start: Any, length: Any = None) -> Any:
    items = need_list(lst)
    b = _position(items, start)
    if length is None:
        return items[b:]
    ln = need_int(length, "length")
    if ln < 0 or b + ln > len(items):
        raise null("length out of range")
    return items[b : b + ln]


@builtin("append", "list, item", variadic=True)
def append(*args: Any) -> Any:
    if not args:
        raise null("needs a list")
    return need_list(args[0]) + list(args[1:])


@builtin("concatenate", "list", variadic=True)
def concatenate(*args: Any) -> Any:
    out: list[Any] = []
    for a in args:
        if type(a) is not list:
            raise null("every argument must be a list")
        out.extend(a)
    return out


@builtin("insert before", "list, position, newItem")
def insert_before(lst: Any, pos: Any, item: Any) -> Any:
    items = need_list(lst)
    i = _position(items, pos)
    return [*items[:i], item, *items[i:]]


@builtin("remove", "list, position")
def remove(lst: Any, pos: Any) -> Any:
    items = need_list(lst)
    i = _position(items, pos)
    return items[:i] + items[i + 1 :]


@builtin("reverse", "list")
def reverse(lst: Any) -> Any:
    return list(reversed(need_list(lst)))


@builtin("index of", "list, match")
def index_of(lst: Any, match: Any) -> Any:
    return [Decimal(i + 1) for i, x in enumerate(need_list(lst)) if feel_eq(x, match) is True]


def _distinct(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in items:
        if not _contains(out, x):
            out.append(x)
    return out


@builtin("union", "list", variadic=True)
def union(*args: Any) -> Any:
    out: list[Any] = []
    for a in args:
        out.extend(need_list(a))
    return _distinct(out)


@builtin("distinct values", "list")
def distinct_values(lst: Any) -> Any:
    return _distinct(need_list(lst))


def _flatten(items: list[Any], out: list[Any], depth: int) -> None:
    if depth > 200:
        raise null("list nested too deeply")
    for x in items:
        if type(x) is list:
            _flatten(x, out, depth + 1)
        else:
            out.append(x)


@builtin("flatten", "list")
def flatten(lst: Any) -> Any:
    out: list[Any] = []
    _flatten(need_list(lst), out, 0)
    return out


@builtin("sort", "list, precedes", required=1, state=True)
def sort(state: State, lst: Any, precedes: Any = None) -> Any:
    items = need_list(lst)
    if precedes is None:
        for x in items[1:]:
            if feel_compare(x, items[0]) is None:
                raise null("items are not comparable")
        if len(items) == 1:
            return list(items)
        return sorted(items, key=functools.cmp_to_key(lambda a, b: feel_compare(a, b) or 0))
    if not isinstance(precedes, FeelFunction):
        raise null("precedes must be a function")

    def cmp(a: Any, b: Any) -> int:
        if call_function(precedes, [a, b], None, state) is True:
            return -1
        if call_function(precedes, [b, a], None, state) is True:
            return 1
        return 0

    return sorted(items, key=functools.cmp_to_key(cmp))


@builtin("list replace", "list, position, newItem; list, match, newItem", state=True)
def list_replace(state: State, lst: Any, pos: Any, item: Any) -> Any:
    items = need_list(lst)
    if isinstance(pos, FeelFunction):
        return [item if call_function(pos, [x, item], None, state) is True else x for x in items]
    i = _position(items, pos)
    return [*items[:i], item, *items[i + 1 :]]


@builtin("is empty", "list")
def is_empty(lst: Any) -> Any:
    return len(need_list(lst)) == 0


_ = need_number
