"""The built-in function library."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from liucheng.feel import Range, YearsMonthsDuration
from tests.feel.conftest import ev, ev_warn

CASES = [
    # conversion
    ('date("2012-12-25")', dt.date(2012, 12, 25)),
    ("date(2012, 12, 25)", dt.date(2012, 12, 25)),
    ("date(year: 2012, month: 12, day: 25)", dt.date(2012, 12, 25)),
    ('date(date and time("2012-12-25T11:00:00"))', dt.date(2012, 12, 25)),
    ('date("2012-13-25")', None),
    ('time("23:59:00")', dt.time(23, 59)),
    ("time(23, 59, 0)", dt.time(23, 59)),
    (
        'time(14, 30, 0, duration("PT1H"))',
        dt.time(14, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    ),
    ('time("10:00:00.123456")', dt.time(10, 0, 0, 123456)),
    ('date and time("2012-12-24T23:59:00")', dt.datetime(2012, 12, 24, 23, 59)),
    ('date and time(date("2012-12-24"), time("23:59:00"))', dt.datetime(2012, 12, 24, 23, 59)),
    ('date and time("2012-12-24")', dt.datetime(2012, 12, 24)),
    ('number("1 000,0", " ", ",")', D("1000.0")),
    ('number(from: "1,000.5", grouping separator: ",", decimal separator: ".")', D("1000.5")),
    ('number("12a")', None),
    ("string(1.1)", "1.1"),
    ("string(1.10)", "1.1"),
    ("string(100)", "100"),
    ('string(date("2020-01-02"))', "2020-01-02"),
    ('string(duration("P1DT2H"))', "P1DT2H"),
    ('string(duration("P14M"))', "P1Y2M"),
    ('string([1, "a"])', '[1, "a"]'),
    ("string({a: 1})", "{a: 1}"),
    ("string(null)", None),
    ('duration("P2DT20H14M")', dt.timedelta(days=2, hours=20, minutes=14)),
    ('duration("-PT1H")', -dt.timedelta(hours=1)),
    ('duration("P1Y")', YearsMonthsDuration(12)),
    ('duration("xyz")', None),
    ('years and months duration(date("2011-12-22"), date("2013-08-24"))', YearsMonthsDuration(20)),
    ('years and months duration(date("2013-08-24"), date("2011-12-22"))', YearsMonthsDuration(-20)),
    ('range("[1..10)")', Range(D(1), D(10), True, False)),
    ('range("[3..1]")', None),
    ('range(">= 10")', None),
    # string
    ('substring("foobar", 3)', "obar"),
    ('substring("foobar", 3, 3)', "oba"),
    ('substring("foobar", -2, 1)', "a"),
    ('substring(string: "foobar", start position: 2, length: 2)', "oo"),
    ('substring("\U0001f40eab", 2)', "ab"),
    ('string length("\U0001f40eab")', D(4)),
    ('upper case("aBc4")', "ABC4"),
    ('lower case("aBc4")', "abc4"),
    ('substring before("foobar", "bar")', "foo"),
    ('substring before("foobar", "xyz")', ""),
    ('substring after("foobar", "ob")', "ar"),
    ('replace("abcd", "(ab)|(a)", "[1=$1][2=$2]")', "[1=ab][2=]cd"),
    ('replace("abc", "b", "x\\\\\\\\y")', "ax\\yc"),
    ('replace("abc", "b", "x\\\\y")', None),
    ('replace("a.b", ".", "!", "q")', "a!b"),
    ('replace("AAA", "a", "b", "i")', "bbb"),
    ('contains("foobar", "oba")', True),
    ('contains("foobar", "of")', False),
    ('starts with("foobar", "fo")', True),
    ('ends with("foobar", "r")', True),
    ('matches("foobar", "^fo*b")', True),
    ('matches("hello world", "hello\\ sworld", "x")', True),
    ('matches("abc", "\\p{Lu}")', False),
    ('matches("abc", "[")', None),
    ('split("John Doe", "\\s")', ["John", "Doe"]),
    ('split("a;b;;c", ";")', ["a", "b", "", "c"]),
    ('string join(["a", "b", "c"], "_and_")', "a_and_b_and_c"),
    ('string join(["a", null, "c"])', "ac"),
    ("string join([1])", None),
    ('extract("abc123def456", "[0-9]+")', ["123", "456"]),
    ('upper case(["a"])', "A"),
    # list
    ("list contains([1, 2, 3], 2)", True),
    ("list contains([1, null], null)", True),
    ("count([1, 2, 3])", D(3)),
    ("min([1, 2, 3])", D(1)),
    ("min(3, 1, 2)", D(1)),
    ('max("a", "c", "b")', "c"),
    ("max([])", None),
    ('min(1, "a")', None),
    ("sum([1, 2, 3])", D(6)),
    ("sum(1, 2, 3)", D(6)),
    ("sum([])", None),
    ("mean([1, 2, 3])", D(2)),
    ("median(8, 2, 5, 3, 4)", D(4)),
    ("median([6, 1, 2, 3])", D("2.5")),
    ("mode(6, 3, 9, 6, 6)", [D(6)]),
    ("mode([6, 1, 9, 6, 1])", [D(1), D(6)]),
    ("mode([])", []),
    ("stddev(2, 4, 7, 5)", D("2.081665999466132735282297706979931")),
    ("stddev([1])", None),
    ("all([false, null, true])", False),
    ("all([true, null])", None),
    ("all([])", True),
    ("any([false, null, true])", True),
    ("any([])", False),
    ("sublist([4, 5, 6], 1, 2)", [D(4), D(5)]),
    ("sublist([4, 5, 6], -2)", [D(5), D(6)]),
    ("append([1], 2, 3)", [D(1), D(2), D(3)]),
    ("concatenate([1, 2], [3])", [D(1), D(2), D(3)]),
    ("insert before([1, 3], 2, 2)", [D(1), D(2), D(3)]),
    ("remove([1, 2, 3], 2)", [D(1), D(3)]),
    ("remove([1, 2, 3], 4)", None),
    ("reverse([1, 2, 3])", [D(3), D(2), D(1)]),
    ("index of([1, 2, 3, 2], 2)", [D(2), D(4)]),
    ("union([1, 2], [2, 3])", [D(1), D(2), D(3)]),
    ("distinct values([1, 2, 3, 2, 1])", [D(1), D(2), D(3)]),
    ("flatten([[1, 2], [[3]], 4])", [D(1), D(2), D(3), D(4)]),
    ("product([2, 3, 4])", D(24)),
    ("sort([3, 1, 4, 2])", [D(1), D(2), D(3), D(4)]),
    ("sort([3, 1, 4, 2], function(x, y) x > y)", [D(4), D(3), D(2), D(1)]),
    ("sort(list: [3, 1], precedes: function(x, y) x < y)", [D(1), D(3)]),
    ('sort([1, "a"])', None),
    ("list replace([1, 2, 3], 2, 9)", [D(1), D(9), D(3)]),
    ("list replace([1, 2, 3], function(item, newItem) item > 1, 0)", [D(1), D(0), D(0)]),
    # numeric
    ("decimal(1/3, 2)", D("0.33")),
    ("decimal(2.5, 0)", D(2)),
    ("floor(1.5)", D(1)),
    ("floor(-1.5)", D(-2)),
    ("floor(-1.56, 1)", D("-1.6")),
    ("floor(1.5, null)", None),
    ("ceiling(1.5)", D(2)),
    ("ceiling(-1.56, 1)", D("-1.5")),
    ("round up(5.5)", D(6)),
    ("round up(-5.5)", D(-6)),
    ("round down(5.5)", D(5)),
    ("round half up(5.5)", D(6)),
    ("round half up(-5.5)", D(-6)),
    ("round half down(5.5)", D(5)),
    ("round half down(1.121, 2)", D("1.12")),
    ("abs(-10)", D(10)),
    ('abs(duration("-P1D"))', dt.timedelta(days=1)),
    ("modulo(12, 5)", D(2)),
    ("modulo(-12, 5)", D(3)),
    ("modulo(12, -5)", D(-3)),
    ("modulo(10.1, 4.5)", D("1.1")),
    ("modulo(1, 0)", None),
    ("sqrt(16)", D(4)),
    ("sqrt(-1)", None),
    ("log(1)", D(0)),
    ("exp(0)", D(1)),
    ("odd(5)", True),
    ("even(5)", False),
    ("even(2.5)", False),
    # boolean
    ("not(false)", True),
    # date / time
    ('is(date("2012-12-25"), time("23:00:50"))', False),
    ('is(date("2012-12-25"), date("2012-12-25"))', True),
    ('is(time("23:00:50z"), time("23:00:50"))', False),
    ('is(time("10:00:00+01:00"), time("10:00:00@Europe/Paris"))', False),
    ("day of year(date(2019, 9, 17))", D(260)),
    ("day of week(date(2019, 9, 17))", "Tuesday"),
    ("month of year(date(2019, 9, 17))", "September"),
    ("week of year(date(2019, 9, 17))", D(38)),
    ("week of year(date(2005, 1, 1))", D(53)),
    ("last day of month(date(2020, 2, 3))", D(29)),
    # ranges
    ("before(1, 10)", True),
    ("before(10, 1)", False),
    ("before(1, [2..5])", True),
    ("before([1..5], 10)", True),
    ("before([1..5], [6..8])", True),
    ("before([1..5], [5..8])", False),
    ("before([1..5), [5..8])", True),
    ("after(10, 1)", True),
    ("after([5..8], [1..5))", True),
    ("meets([1..5], [5..8])", True),
    ("meets([1..5), [5..8])", False),
    ("met by([5..8], [1..5])", True),
    ("overlaps([1..5], [3..8])", True),
    ("overlaps([1..5], [6..8])", False),
    ("overlaps before([1..5], [3..8])", True),
    ("overlaps after([3..8], [1..5])", True),
    ("finishes(5, [1..5])", True),
    ("finishes([3..5], [1..5])", True),
    ("finished by([1..5], 5)", True),
    ("includes([1..10], 5)", True),
    ("includes([1..10], [4..6])", True),
    ("during(5, [1..10])", True),
    ("during([4..6], [1..10])", True),
    ("starts(1, [1..5])", True),
    ("starts([1..3], [1..5])", True),
    ("started by([1..5], 1)", True),
    ("coincides(5, 5)", True),
    ("coincides([1..5], [1..5])", True),
    ("before(point: 1, range: [2..5])", True),
    ("includes(< 10, 5)", True),
    # context
    ('get value({a: 1}, "a")', D(1)),
    ('get value({a: {b: 2}}, ["a", "b"])', D(2)),
    ('get value({a: 1}, "b")', None),
    ("get entries({a: 1})", [{"key": "a", "value": D(1)}]),
    ('context put({a: 1}, "b", 2)', {"a": D(1), "b": D(2)}),
    ('context put({a: {b: 1}}, ["a", "c"], 2)', {"a": {"b": D(1), "c": D(2)}}),
    ('context put(context: {x: 1}, keys: ["y", "a"], value: 2)', {"x": D(1), "y": {"a": D(2)}}),
    ("context merge([{a: 1}, {b: 2}, {a: 3}])", {"a": D(3), "b": D(2)}),
    ('context([{key: "a", value: 1}])', {"a": D(1)}),
    ('context([{key: "a", value: 1}, {key: "a", value: 2}])', None),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_builtin(text: str, expected: object) -> None:
    result = ev(text)
    if expected is None or isinstance(expected, bool):
        assert result is expected
    else:
        assert result == expected
        assert type(result) is type(expected)


def test_bad_arguments_give_null_and_warning() -> None:
    for text in ["substring(1, 2)", "abs()", "sqrt(1, 2)", "floor(n: 1, foo: 2)"]:
        value, warnings = ev_warn(text)
        assert value is None, text
        assert warnings, text


def test_now_and_today_read_injected_clock() -> None:
    from liucheng.feel import evaluate

    fixed = dt.datetime(2030, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    assert evaluate("now()", clock=lambda: fixed) == fixed
    assert evaluate("today()", clock=lambda: fixed) == dt.date(2030, 5, 6)
    now = evaluate("now()")
    assert isinstance(now, dt.datetime) and now.tzinfo is not None


def test_builtins_can_be_shadowed_by_context() -> None:
    assert ev("count", {"count": 3}) == D(3)
    assert ev("count([1, 2])") == D(2)
