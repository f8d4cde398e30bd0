"""Range built-ins (DMN 1.3+ interval algebra): before, after, meets, overlaps, includes..."""

from __future__ import annotations

from typing import Any

from liucheng.feel._builtins import builtin
from liucheng.feel._runtime import null
from liucheng.feel._types import Range
from liucheng.feel._values import feel_compare

_LOW = object()
_HIGH = object()


def _c(a: Any, b: Any) -> int:
    """Compare values where _LOW/_HIGH stand for unbounded ends."""
    if a is b and (a is _LOW or a is _HIGH):
        return 0
    if a is _LOW or b is _HIGH:
        return -1
    if a is _HIGH or b is _LOW:
        return 1
    r = feel_compare(a, b)
    if r is None:
        raise null("values are not comparable")
    return r


class _R:
    __slots__ = ("e", "ei", "s", "si")

    def __init__(self, r: Range) -> None:
        if r.op == "!=":
            raise null("a '!=' test is not a range")
        self.s = _LOW if r.start is None else r.start
        self.e = _HIGH if r.end is None else r.end
        self.si = r.start_included
        self.ei = r.end_included


def _kinds(a: Any, b: Any) -> tuple[bool, bool]:
    if a is None or b is None:
        raise null("arguments must not be null")
    return type(a) is Range, type(b) is Range


@builtin("before", "point1, point2; point, range; range, point; range1, range2")
def before(a: Any, b: Any) -> Any:
    ra, rb = _kinds(a, b)
    if not ra and not rb:
        return _c(a, b) < 0
    if not ra:
        r = _R(b)
        return _c(a, r.s) < 0 or (_c(a, r.s) == 0 and not r.si)
    if not rb:
        r = _R(a)
        return _c(r.e, b) < 0 or (_c(r.e, b) == 0 and not r.ei)
    x, y = _R(a), _R(b)
    return _c(x.e, y.s) < 0 or ((not x.ei or not y.si) and _c(x.e, y.s) == 0)


@builtin("after", "point1, point2; point, range; range, point; range1, range2")
def after(a: Any, b: Any) -> Any:
    ra, rb = _kinds(a, b)
    if not ra and not rb:
        return _c(a, b) > 0
    if not ra:
        r = _R(b)
        return _c(a, r.e) > 0 or (_c(a, r.e) == 0 and not r.ei)
    if not rb:
        r = _R(a)
        return _c(r.s, b) > 0 or (_c(r.s, b) == 0 and not r.si)
    x, y = _R(a), _R(b)
    return _c(x.s, y.e) > 0 or ((not x.si or not y.ei) and _c(x.s, y.e) == 0)


def _two_ranges(a: Any, b: Any) -> tuple[_R, _R]:
    if type(a) is not Range or type(b) is not Range:
        raise null("arguments must be ranges")
    return _R(a), _R(b)


@builtin("meets", "range1, range2")
def meets(a: Any, b: Any) -> Any:
    x, y = _two_ranges(a, b)
    return x.ei and y.si and _c(x.e, y.s) == 0


@builtin("met by", "range1, range2")
def met_by(a: Any, b: Any) -> Any:
    x, y = _two_ranges(a, b)
    return x.si and y.ei and _c(x.s, y.e) == 0


@builtin("overlaps", "range1, range2")
def overlaps(a: Any, b: Any) -> Any:
    x, y = _two_ranges(a, b)
    c1 = _c(x.e, y.s)
    c2 = _c(x.s, y.e)
    return (c1 > 0 or (c1 == 0 and x.ei and y.si)) and (c2 < 0 or (c2 == 0 and x.si and y.ei))


def _overlaps_before(x: _R, y: _R) -> bool:
    c_ss = _c(x.s, y.s)
    c_es = _c(x.e, y.s)
    c_ee = _c(x.e, y.e)
    return (
        (c_ss < 0 or (c_ss == 0 and x.si and not y.si))
        and (c_es > 0 or (c_es == 0 and x.ei and y.si))
        and (c_ee < 0 or (c_ee == 0 and (not x.ei or y.ei)))
    )


@builtin("overlaps before", "range1, range2")
def overlaps_before(a: Any, b: Any) -> Any:
    x, y = _two_ranges(a, b)
    return _overlaps_before(x, y)


@builtin("overlaps after", "range1, range2")
def overlaps_after(a: Any, b: Any) -> Any:
    x, y = _two_ranges(a, b)
    return _overlaps_before(y, x)


def _finishes(x: _R, y: _R) -> bool:
    c_ss = _c(x.s, y.s)
    return x.ei == y.ei and _c(x.e, y.e) == 0 and (c_ss > 0 or (c_ss == 0 and (not x.si or y.si)))


@builtin("finishes", "point, range; range1, range2")
def finishes(a: Any, b: Any) -> Any:
    ra, rb = _kinds(a, b)
    if not rb:
        raise null("second argument must be a range")
    if not ra:
        r = _R(b)
        return r.ei and _c(a, r.e) == 0
    return _finishes(_R(a), _R(b))


@builtin("finished by", "range, point; range1, range2")
def finished_by(a: Any, b: Any) -> Any:
    ra, rb = _kinds(a, b)
    if not ra:
        raise null("first argument must be a range")
    if not rb:
        r = _R(a)
        return r.ei and _c(b, r.e) == 0
    return _finishes(_R(b), _R(a))


def _includes_point(r: _R, p: Any) -> bool:
    cs = _c(r.s, p)
    ce = _c(r.e, p)
    return (cs < 0 and ce > 0) or (cs == 0 and r.si) or (ce == 0 and r.ei)


def _includes(x: _R, y: _R) -> bool:
    c_ss = _c(x.s, y.s)
    c_ee = _c(x.e, y.e)
    return (c_ss < 0 or (c_ss == 0 and (x.si or not y.si))) and (
        c_ee > 0 or (c_ee == 0 and (x.ei or not y.ei))
    )


@builtin("includes", "range, point; range1, range2")
def includes(a: Any, b: Any) -> Any:
    ra, rb = _kinds(a, b)
    if not ra:
        raise null("first argument must be a range")
    if not rb:
        return _includes_point(_R(a), b)
    return _includes(_R(a), _R(b))


@builtin("during", "point, range; range1, range2")
def during(a: Any, b: Any) -> Any:
    ra, rb = _kinds(a, b)
    if not rb:
        raise null("second argument must be a range")
    if not ra:
        return _includes_point(_R(b), a)
    return _includes(_R(b), _R(a))


def _starts(x: _R, y: _R) -> bool:
    c_ee = _c(x.e, y.e)
    return _c(x.s, y.s) == 0 and x.si == y.si and (c_ee < 0 or (c_ee == 0 and (not x.ei or y.ei)))


@builtin("starts", "point, range; range1, range2")
def starts(a: Any, b: Any) -> Any:
    ra, rb = _kinds(a, b)
    if not rb:
        raise null("second argument must be a range")
    if not ra:
        r = _R(b)
        return r.si and _c(r.s, a) == 0
    return _starts(_R(a), _R(b))


@builtin("started by", "range, point; range1, range2")
def started_by(a: Any, b: Any) -> Any:
    ra, rb = _kinds(a, b)
    if not ra:
        raise null("first argument must be a range")
    if not rb:
        r = _R(a)
        return r.si and _c(r.s, b) == 0
    return _starts(_R(b), _R(a))


@builtin("coincides", "point1, point2; range1, range2")
def coincides(a: Any, b: Any) -> Any:
    ra, rb = _kinds(a, b)
    if ra != rb:
        raise null("arguments must both be points or both be ranges")
    if not ra:
        return _c(a, b) == 0
    x, y = _R(a), _R(b)
    return _c(x.s, y.s) == 0 and _c(x.e, y.e) == 0 and x.si == y.si and x.ei == y.ei
