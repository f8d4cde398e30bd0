"""Lists, contexts, filters, paths, iteration, quantifiers, functions, ranges, instance of."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from liucheng.feel import FeelFunction, Range, compile_expression, evaluate
from tests.feel.conftest import ev, ev_warn


def test_context_entries_see_earlier_entries() -> None:
    assert ev("{a: 2, b: a * 3, c: {d: b + 1}}.c.d") == D(7)


def test_context_key_with_spaces_and_string_keys() -> None:
    assert ev('{Full Name: "Bob", "odd key!": 1}.Full Name') == "Bob"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2, 3, 4][item > 2]", [D(3), D(4)]),
        ("[1, 2, 3][1]", D(1)),
        ("[1, 2, 3][-1]", D(3)),
        ("[1, 2, 3][0]", None),
        ("[1, 2, 3][4]", None),
        ("[{a: 1}, {a: 2}][a > 1]", [{"a": D(2)}]),
        ("[{item: 1}, {item: 2}][item >= 2]", [{"item": D(2)}]),
        ("[{a: 1}, {a: 2}].a", [D(1), D(2)]),
        ("[{a: 1}, {a: 2}][a = 2].a", [D(2)]),
        ("true[1]", True),
        ("5[item > 3]", [D(5)]),
        ("[1, 2, 3][true]", [D(1), D(2), D(3)]),
    ],
)
def test_filters_and_paths(text: str, expected: object) -> None:
    assert ev(text) == expected


def test_filter_with_variable_index() -> None:
    assert ev("xs[i]", {"xs": [10, 20, 30], "i": 2}) == D(20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("for i in [1, 2, 3] return i * i", [D(1), D(4), D(9)]),
        ("for i in 1..3 return i", [D(1), D(2), D(3)]),
        ("for i in 3..1 return i", [D(3), D(2), D(1)]),
        ("for i in [1, 2], j in [10, 20] return i + j", [D(11), D(21), D(12), D(22)]),
        ("for i in [1, 2], j in [i, i * 10] return j", [D(1), D(10), D(2), D(20)]),
        (
            "for i in 0..4 return if i = 0 then 1 else i * partial[-1]",
            [D(1), D(1), D(2), D(6), D(24)],
        ),
        (
            'for d in @"2021-01-01"..@"2021-01-03" return d.day',
            [D(1), D(2), D(3)],
        ),
        ("some x in [1, 2, 3] satisfies x > 2", True),
        ("some x in [1, 2, 3] satisfies x > 3", False),
        ("every x in [1, 2, 3] satisfies x > 0", True),
        ("every x in [1, 2, 3] satisfies x > 1", False),
        ("every x in [] satisfies x > 1", True),
        ("some x in [1, 2], y in [2, 3] satisfies x = y", True),
    ],
)
def test_iteration_and_quantifiers(text: str, expected: object) -> None:
    assert ev(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 in [1..10]", True),
        ("10 in [1..10)", False),
        ("5 in (< 3, > 4)", True),
        ("2 in [1, 2, 3]", True),
        ("4 in [1, 2, 3]", False),
        ('"a" in ("a", "b")', True),
        ("5 in >= 5", True),
        ("5 in < 5", False),
        ("x in [1..10]", None),
    ],
)
def test_in(text: str, expected: object) -> None:
    assert ev(text, {"x": None} if "x" in text else None) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 instance of number", True),
        ('"a" instance of string', True),
        ("null instance of Null", True),
        ("null instance of number", False),
        ("1 instance of Any", True),
        ('date("2020-01-01") instance of date', True),
        ('date and time("2020-01-01T00:00:00") instance of date', False),
        ('date and time("2020-01-01T00:00:00") instance of date and time', True),
        ('duration("P1D") instance of days and time duration', True),
        ('duration("P1Y") instance of years and months duration', True),
        ("[1, 2] instance of list<number>", True),
        ('[1, "a"] instance of list<number>', False),
        ('{a: 1, b: "x"} instance of context<a: number>', True),
        ("{a: null} instance of context<a: string>", True),
        ("[1..2] instance of range<number>", True),
        ("(function(x) x) instance of function<Any> -> Any", True),
        ("[] instance of list<string>", True),
    ],
)
def test_instance_of(text: str, expected: bool) -> None:
    assert ev(text) is expected


def test_user_defined_functions_and_lambdas() -> None:
    assert ev("(function(a, b) a - b)(5, 3)") == D(2)
    assert ev("{f: function(a, b) a - b, r: f(b: 1, a: 5)}.r") == D(4)
    assert ev("{f: function(x: number) x * 2, r: f(4)}.r") == D(8)
    assert ev('{f: function(x: number) x * 2, r: f("a")}.r') is None
    assert ev("{make: function(n) function(x) x + n, add2: make(2), r: add2(5)}.r") == D(7)
    assert ev("{fact: function(n) if n <= 1 then 1 else n * fact(n - 1), r: fact(10)}.r") == D(
        3628800
    )


def test_function_values_callable_from_python() -> None:
    f = ev("function(a, b) a + b")
    assert isinstance(f, FeelFunction)
    assert f(1, 2) == D(3)
    assert f.invoke([], {"a": 1, "b": 4}) == D(5)


def test_python_functions_in_context() -> None:
    members = FeelFunction(["role"], lambda role: ["ann", "bob"] if role == "ops" else [])
    assert ev('count(members("ops"))', {"members": members}) == D(2)
    assert ev('members(role: "ops")[1]', {"members": members}) == "ann"


def test_too_many_arguments_is_null_with_warning() -> None:
    value, warnings = ev_warn("(function(a) a)(1, 2)")
    assert value is None
    assert warnings


def test_temporal_properties() -> None:
    d = {"d": dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.timezone(dt.timedelta(hours=2)))}
    assert ev("[d.year, d.month, d.day, d.weekday, d.hour, d.minute, d.second]", d) == [
        D(2021),
        D(3),
        D(4),
        D(4),
        D(5),
        D(6),
        D(7),
    ]
    assert ev("d.time offset", d) == dt.timedelta(hours=2)
    assert ev('@"10:00:00@Europe/Paris".timezone') == "Europe/Paris"
    assert ev('duration("P1DT2H3M4S").hours') == D(2)
    assert ev('duration("P1DT2H3M4S").days') == D(1)
    assert ev('duration("P3Y5M").years') == D(3)
    assert ev('duration("P3Y5M").months') == D(5)
    assert ev("[1..5).end included") is False
    assert ev("[1..5).start") == D(1)
    assert ev("(< 5).start") is None


def test_range_values_from_unary_comparisons() -> None:
    assert ev("(< 10) = (< 10)") is True
    assert ev("(< 10) = (null..10)") is False
    r = ev(">= 5")
    assert isinstance(r, Range) and r.start == D(5) and r.start_included


def test_names_with_symbols_resolved_from_context() -> None:
    ctx = {"Pre-bureau risk": 3, "Pre": 10, "bureau risk": 1}
    assert ev("Pre-bureau risk * 2", ctx) == D(6)
    assert ev("Pre - bureau risk", ctx) == D(9)
    assert ev("Student's name", {"Student's name": "Kim"}) == "Kim"
    assert ev("Years of Service + 1", {"Years of Service": 2}) == D(3)
    assert ev("Extra days case 1", {"Extra days case 1": 5}) == D(5)
    assert ev("a.Pre-bureau risk", {"a": {"Pre-bureau risk": 4}}) == D(4)


def test_compiled_once_and_reused() -> None:
    e1 = compile_expression("x * 2")
    assert compile_expression("x * 2") is e1
    assert [e1.evaluate({"x": i}) for i in range(3)] == [D(0), D(2), D(4)]


def test_unknown_name_is_null_with_warning() -> None:
    value, warnings = ev_warn("nosuch + 1")
    assert value is None
    assert warnings[0].code == "feel.unknown_name"
    assert warnings[0].position == 0


def test_evaluate_accepts_none_context() -> None:
    assert evaluate("1 + 1") == D(2)


def test_dotted_name_defined_in_context_wins_over_path() -> None:
    assert ev("Person.Gender", {"Person.Gender": "f", "Person": {"Gender": "m"}}) == "f"
    assert ev("Person.Gender", {"Person": {"Gender": "m"}}) == "m"


def test_names_containing_or_starting_with_keywords() -> None:
    text = 'for i in days in weekend return i = "sunday"'
    assert ev(text, {"days in weekend": ["saturday", "sunday"]}) == [False, True]
    text = 'for i in in a list return i = "mary"'
    assert ev(text, {"in a list": ["peter", "mary"]}) == [False, True]
