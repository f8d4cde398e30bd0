"""DMN benchmark: evaluations per second of a 50-rule decision table.

Liucheng (FEEL unary tests, hit policy UNIQUE) side by side with SpiffWorkflow's DMN engine
(Python-expression entries) on an equivalent table, in the same run. SpiffWorkflow is a bench-only
dependency (``pip install SpiffWorkflow``); without it only Liucheng's figures are printed.

Prints one JSON line per figure.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from liucheng.dmn import DmnModel, parse_dmn

RULES = 50
CATEGORIES = ["a", "b", "c", "d", "e"]


def _table(ns: str, feel: bool, general: bool = False) -> str:
    rows = []
    for i in range(RULES):
        lo, hi = i * 10, i * 10 + 10
        cat = CATEGORIES[i % len(CATEGORIES)]
        if feel and general:  # the same tests written so that every entry is run by FEEL
            x_test = f"? &gt;= {lo} and ? &lt; {hi}"
            c_test = f'? = "{cat}"'
        elif feel:
            x_test = f"[{lo}..{hi})"
            c_test = f'"{cat}"'
        else:  # SpiffWorkflow: Python expressions, "?" is the input value
            x_test = f"? &gt;= {lo} and ? &lt; {hi}"
            c_test = f'"{cat}"'
        rows.append(
            f'<rule id="r{i}"><inputEntry id="r{i}x"><text>{x_test}</text></inputEntry>'
            f'<inputEntry id="r{i}c"><text>{c_test}</text></inputEntry>'
            f'<outputEntry id="r{i}o"><text>"band {i}"</text></outputEntry></rule>'
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{ns}" id="bench" '
        'name="bench" namespace="urn:bench">'
        '<inputData id="x" name="x"><variable name="x"/></inputData>'
        '<inputData id="category" name="category"><variable name="category"/></inputData>'
        '<decision id="band" name="band"><variable name="band"/>'
        '<informationRequirement><requiredInput href="#x"/></informationRequirement>'
        '<informationRequirement><requiredInput href="#category"/></informationRequirement>'
        '<decisionTable id="table" hitPolicy="UNIQUE">'
        '<input id="ix" label="x"><inputExpression id="ixe" typeRef="number"><text>x</text>'
        "</inputExpression></input>"
        '<input id="ic" label="category"><inputExpression id="ice" typeRef="string">'
        "<text>category</text></inputExpression></input>"
        '<output id="o" name="band" typeRef="string"/>' + "".join(rows) + "</decisionTable>"
        "</decision></definitions>"
    )


def _inputs() -> list[dict[str, Any]]:
    # every rule hit once: on average the matching rule is in the middle of the table
    return [{"x": i * 10 + 5, "category": CATEGORIES[i % len(CATEGORIES)]} for i in range(RULES)]


def _rate(
    fn: Callable[[dict[str, Any]], Any], inputs: list[dict[str, Any]], seconds: float
) -> float:
    n = 0
    start = time.perf_counter()
    while True:
        for inp in inputs:
            fn(inp)
        n += len(inputs)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def bench_liucheng(seconds: float) -> list[dict[str, Any]]:
    model = DmnModel(parse_dmn(_table("https://www.omg.org/spec/DMN/20230324/MODEL/", True)))
    inputs = _inputs()
    for inp in inputs:  # correctness before speed
        expected = f"band {inp['x'] // 10}"
        got = model.decide("band", inp).value
        if got != expected:
            raise SystemExit(f"liucheng gave {got!r} for {inp}, expected {expected!r}")
    rate = _rate(lambda inp: model.decide("band", inp), inputs, seconds)
    general = DmnModel(
        parse_dmn(_table("https://www.omg.org/spec/DMN/20230324/MODEL/", True, general=True))
    )
    assert general.decide("band", inputs[7]).value == "band 7"
    general_rate = _rate(lambda inp: general.decide("band", inp), inputs, seconds)
    return [
        {
            "bench": "dmn.decision_table_50_rules",
            "engine": "liucheng",
            "unit": "evaluations/s",
            "value": round(rate, 1),
        },
        {
            "bench": "dmn.decision_table_50_rules_feel_entries",
            "engine": "liucheng",
            "unit": "evaluations/s",
            "value": round(general_rate, 1),
            "note": "same table, entries written as general FEEL tests (no fast path)",
        },
    ]


def bench_spiff(seconds: float) -> list[dict[str, Any]]:
    try:
        from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
        from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
        from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser
    except ImportError:
        return [
            {
                "bench": "dmn.decision_table_50_rules",
                "engine": "spiffworkflow",
                "skipped": "SpiffWorkflow not installed (pip install SpiffWorkflow)",
            }
        ]
    from importlib.metadata import version

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.dmn"
        path.write_text(_table("https://www.omg.org/spec/DMN/20191111/MODEL/", False))
        parser = BpmnDmnParser()
        parser.add_dmn_file(str(path))
        dmn_parser = parser.dmn_parsers["band"]
        dmn_parser.parse()
        table = dmn_parser.decision.decisionTables[0]
    engine = DMNEngine(table)
    workflow = SimpleNamespace(script_engine=PythonScriptEngine())

    def run(inp: dict[str, Any]) -> Any:
        task = SimpleNamespace(workflow=workflow, data=dict(inp))
        return engine.result(task)

    inputs = _inputs()
    for inp in inputs:
        expected = f"band {inp['x'] // 10}"
        got = run(inp).get("band")
        if got != expected:
            raise SystemExit(f"spiff gave {got!r} for {inp}, expected {expected!r}")
    rate = _rate(run, inputs, seconds)
    return [
        {
            "bench": "dmn.decision_table_50_rules",
            "engine": f"spiffworkflow {version('SpiffWorkflow')}",
            "unit": "evaluations/s",
            "value": round(rate, 1),
        }
    ]


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    for figure in [*bench_liucheng(seconds), *bench_spiff(seconds)]:
        print(json.dumps(figure))


if __name__ == "__main__":
    main()
