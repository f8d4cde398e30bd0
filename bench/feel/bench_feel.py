"""FEEL benchmark: evaluations per second of a simple comparison and of a realistic expression.

Liucheng's FEEL (compiled once, evaluated many times) side by side, in the same run, with the
Python FEEL implementation ``bkflow-feel`` (a Lark grammar interpreted per call) and, for scale,
SpiffWorkflow's DMN expression engine (plain Python expressions, not FEEL). Both peers are
bench-only dependencies (``pip install bkflow-feel SpiffWorkflow``); a missing peer is reported
as skipped. A peer that cannot parse an expression is reported with its error.

Prints one JSON line per figure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from liucheng.feel import compile_expression, compile_unary_tests, evaluate

SIMPLE = "x > 10"
SIMPLE_CTX: dict[str, Any] = {"x": 12}
# Every peer understands this one (bkflow-feel has no if/then/else over comparisons).
REALISTIC = (
    'age >= 18 and income * 12 > 30000 and contains(name, "an") and status in ["gold", "silver"]'
)
REALISTIC_PY = (
    'age >= 18 and income * 12 > 30000 and ("an" in name) and status in ["gold", "silver"]'
)
REALISTIC_CTX: dict[str, Any] = {"age": 30, "income": 4000, "name": "Hanna", "status": "gold"}
# Only Liucheng: names with spaces, if/then/else, a filter and a built-in with named arguments.
RICH = (
    "if Applicant Age >= 18 and sum(Loans[amount > 1000].amount) < Monthly Income * 12 "
    'then substring(string: Full Name, start position: 1, length: 3) else "no"'
)
RICH_CTX: dict[str, Any] = {
    "Applicant Age": 30,
    "Monthly Income": 4000,
    "Full Name": "Hanna Li",
    "Loans": [{"amount": 500}, {"amount": 2000}, {"amount": 5000}],
}


def _rate(fn: Callable[[], Any], min_seconds: float = 0.5) -> float:
    """Calls per second of ``fn``, measured for at least ``min_seconds``."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return n / elapsed
        n *= 2


def _emit(figure: str, impl: str, fn: Callable[[], Any] | None, note: str = "") -> None:
    row: dict[str, Any] = {"bench": "feel", "figure": figure, "impl": impl}
    if fn is None:
        row["skipped"] = note
    else:
        try:
            result = fn()
            rate = _rate(fn)
            row.update(
                evals_per_s=round(rate),
                us_per_eval=round(1e6 / rate, 2),
                result=str(result),
            )
        except Exception as e:  # a peer that cannot handle the expression
            row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
        if note:
            row["note"] = note
    print(json.dumps(row), flush=True)


def main() -> None:
    simple = compile_expression(SIMPLE)
    realistic = compile_expression(REALISTIC)
    rich = compile_expression(RICH)
    _emit("simple comparison", "liucheng", lambda: simple.evaluate(SIMPLE_CTX))
    _emit("realistic expression", "liucheng", lambda: realistic.evaluate(REALISTIC_CTX))
    _emit("rich expression", "liucheng", lambda: rich.evaluate(RICH_CTX))
    tests = compile_unary_tests("[18..65]")
    _emit("unary test [18..65]", "liucheng", lambda: tests.test(30))
    _emit(
        "simple comparison, text each time (LRU-cached compile)",
        "liucheng",
        lambda: evaluate(SIMPLE, SIMPLE_CTX),
    )

    try:
        from bkflow_feel.api import parse_expression
    except ImportError:
        for figure in ("simple comparison", "realistic expression", "rich expression"):
            _emit(figure, "bkflow-feel", None, "not installed (pip install bkflow-feel)")
    else:
        _emit("simple comparison", "bkflow-feel", lambda: parse_expression(SIMPLE, SIMPLE_CTX))
        _emit(
            "realistic expression",
            "bkflow-feel",
            lambda: parse_expression(REALISTIC, REALISTIC_CTX),
        )
        _emit("rich expression", "bkflow-feel", lambda: parse_expression(RICH, RICH_CTX))

    try:
        from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    except ImportError:
        for figure in ("simple comparison", "realistic expression"):
            _emit(figure, "spiffworkflow", None, "not installed (pip install SpiffWorkflow)")
    else:
        env = PythonScriptEngine().environment
        note = "Python expressions, not FEEL"
        _emit(
            "simple comparison",
            "spiffworkflow",
            lambda: env.evaluate(SIMPLE, dict(SIMPLE_CTX)),
            note,
        )
        _emit(
            "realistic expression",
            "spiffworkflow",
            lambda: env.evaluate(REALISTIC_PY, dict(REALISTIC_CTX)),
            note,
        )


if __name__ == "__main__":
    main()
