from __future__ import annotations

from decimal import Decimal
from typing import Any

from liucheng.dmn import DmnModel, decide, parse_dmn

from ._util import dmn, table


def run(body: str, **inputs: Any) -> Any:
    return decide(DmnModel(parse_dmn(dmn(body))), "d", inputs)


def value(body: str, **inputs: Any) -> Any:
    return run(body, **inputs).value


RULES = [
    (["< 10", "-"], ['"low"']),
    (["[10..20]", '"a"'], ['"mid-a"']),
    (["[10..20]", "-"], ['"mid"']),
    (["> 15", "-"], ['"high"']),
]


def test_unique_single_match_and_no_match() -> None:
    body = table("UNIQUE", ["x", "y"], ["o"], [RULES[0], RULES[3]])
    assert value(body, x=5, y="b") == "low"
    assert value(body, x=12, y="b") is None
    res = run(body, x=12, y="b")
    assert res.ok


def test_unique_with_several_matches_is_an_error() -> None:
    body = table("UNIQUE", ["x", "y"], ["o"], RULES)
    res = run(body, x=12, y="a")
    assert res.value is None
    assert res.errors and "UNIQUE" in res.errors[0]


def test_first_takes_the_first_match_in_rule_order() -> None:
    body = table("FIRST", ["x", "y"], ["o"], RULES)
    assert value(body, x=12, y="a") == "mid-a"
    assert value(body, x=18, y="b") == "mid"


def test_any_agreeing_and_disagreeing() -> None:
    agree = table(
        "ANY", ["x", "y"], ["o"], [(["> 1", "-"], ['"same"']), (["> 2", "-"], ['"same"'])]
    )
    assert value(agree, x=5, y="") == "same"
    body = table("ANY", ["x", "y"], ["o"], RULES)
    res = run(body, x=12, y="a")
    assert res.value is None and res.errors


def test_priority_uses_output_values_order() -> None:
    body = table(
        "PRIORITY",
        ["x", "y"],
        ["o"],
        RULES,
        output_values={0: '"high", "mid", "mid-a", "low"'},
    )
    assert value(body, x=18, y="a") == "high"
    assert value(body, x=12, y="a") == "mid"


def test_output_order_sorts_by_priority_and_rule_order_keeps_rules() -> None:
    ov = {0: '"high", "mid", "mid-a", "low"'}
    assert value(
        table("OUTPUT ORDER", ["x", "y"], ["o"], RULES, output_values=ov), x=18, y="a"
    ) == [
        "high",
        "mid",
        "mid-a",
    ]
    assert value(table("RULE ORDER", ["x", "y"], ["o"], RULES, output_values=ov), x=18, y="a") == [
        "mid-a",
        "mid",
        "high",
    ]


def test_collect_and_aggregations() -> None:
    rules = [
        (["> 0", "-"], ["1"]),
        (["> 5", "-"], ["10"]),
        (["> 50", "-"], ["100"]),
        (["> 7", "-"], ["10"]),
    ]
    assert value(table("COLLECT", ["x", "y"], ["o"], rules), x=8, y=0) == [1, 10, 10]
    assert value(table("COLLECT", ["x", "y"], ["o"], rules, aggregation="SUM"), x=8, y=0) == 21
    assert value(table("COLLECT", ["x", "y"], ["o"], rules, aggregation="MIN"), x=8, y=0) == 1
    assert value(table("COLLECT", ["x", "y"], ["o"], rules, aggregation="MAX"), x=8, y=0) == 10
    assert value(table("COLLECT", ["x", "y"], ["o"], rules, aggregation="COUNT"), x=8, y=0) == 3
    assert value(table("COLLECT", ["x", "y"], ["o"], rules, aggregation="SUM"), x=-1, y=0) is None
    assert value(table("COLLECT", ["x", "y"], ["o"], rules), x=-1, y=0) == []


def test_multiple_outputs_make_a_context() -> None:
    rules = [(["> 0", "-"], ['"a"', "1"]), (["<= 0", "-"], ['"b"', "2"])]
    assert value(table("UNIQUE", ["x", "y"], ["name", "n"], rules), x=3, y=0) == {
        "name": "a",
        "n": Decimal(1),
    }
    assert value(table("RULE ORDER", ["x", "y"], ["name", "n"], rules), x=3, y=0) == [
        {"name": "a", "n": Decimal(1)}
    ]


def test_default_output_entries_when_nothing_matches() -> None:
    rules = [(["> 0", "-"], ['"pos"', "1"])]
    body = table("UNIQUE", ["x", "y"], ["s", "n"], rules, defaults={0: '"none"', 1: "0"})
    assert value(body, x=-1, y=0) == {"s": "none", "n": 0}
    assert value(body, x=1, y=0) == {"s": "pos", "n": 1}


def test_input_values_are_checked() -> None:
    body = table("UNIQUE", ["x", "y"], ["o"], [(["-", "-"], ['"ok"'])], input_values={1: '"a","b"'})
    assert value(body, x=1, y="a") == "ok"
    res = run(body, x=1, y="z")
    assert res.value is None and "input values" in res.errors[0]


def test_output_values_are_checked() -> None:
    body = table("UNIQUE", ["x", "y"], ["o"], [(["-", "-"], ['"c"'])], output_values={0: '"a","b"'})
    res = run(body, x=1, y=2)
    assert res.value is None and res.errors


def test_input_entries_see_the_decision_context_and_question_mark() -> None:
    body = table("UNIQUE", ["x", "y"], ["o"], [(["> y", "-"], ['"gt"']), (["<= y", "-"], ['"le"'])])
    assert value(body, x=3, y=2) == "gt"
    assert value(body, x=1, y=2) == "le"
    q = table("UNIQUE", ["x", "y"], ["o"], [(["? * 2 = y", "-"], ['"double"'])])
    assert value(q, x=2, y=4) == "double"


def test_a_fifty_rule_table() -> None:
    rules = [([f"[{i * 10}..{i * 10 + 10})", "-"], [f'"band {i}"']) for i in range(50)]
    body = table("UNIQUE", ["x", "y"], ["o"], rules)
    model = DmnModel(parse_dmn(dmn(body)))
    assert model.decide("d", {"x": 0, "y": 0}).value == "band 0"
    assert model.decide("d", {"x": 495, "y": 0}).value == "band 49"
    assert model.decide("d", {"x": 500, "y": 0}).value is None


def test_priority_without_output_values_and_misplaced_aggregation_are_problems() -> None:
    m = DmnModel(parse_dmn(dmn(table("PRIORITY", ["x", "y"], ["o"], RULES))))
    assert [p.code for p in m.problems] == ["dmn.table.priority"]
    m2 = DmnModel(parse_dmn(dmn(table("UNIQUE", ["x", "y"], ["o"], RULES, aggregation="SUM"))))
    assert [p.code for p in m2.problems] == ["dmn.table.aggregation"]
