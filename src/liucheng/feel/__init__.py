"""liucheng.feel: the FEEL expression language of DMN 1.5 (chapter 10).

Parse once, evaluate often::

    from liucheng.feel import compile_expression, compile_unary_tests
    expr = compile_expression("x > 10")          # LRU-cached by text
    expr.evaluate({"x": 12})                     # True
    compile_unary_tests("[18..65], > 80").test(70)  # False

Values are plain Python objects (see ``to_feel``/``from_feel``); numbers are ``Decimal`` with DMN
precision (34 digits, half-even). Dates and date-times whose year lies outside 1..9999 (FEEL allows
-999,999,999..999,999,999) are :class:`BigDate`/:class:`BigDateTime`; all others are
``datetime.date``/``datetime.datetime``. Times and date-times written with more than six
fraction digits keep digits 7..9 (``string()`` gives them back); arithmetic works to the
microsecond.

Names may contain spaces, keywords and ``. / - + * '`` (``Monthly Income``, ``Pre-bureau risk``,
``Years of Service``): they resolve by longest match against built-in names, names declared in
the expression and, when an evaluation context defines such a name, the context's names.

Problems the spec turns into null (unknown name, wrong type, bad arguments) give null and a
:class:`FeelWarning` in the ``warnings`` list the caller passes. Syntax errors raise
:class:`FeelSyntaxError` (position, line, column, what was expected). Runaway evaluations raise
:class:`FeelEvaluationError`: more than a million iteration steps (``feel.limit.steps``),
function calls nested past 400 or too deep for the interpreter (``feel.limit.depth``), strings
or lists past ten million items (``feel.limit.size``). A regular expression with a repeated
group (``(a+)+``), which can backtrack for ever, runs under a one-second limit and gives null.
Camunda's ``is defined(x)`` and ``random number()`` are available as extensions. ``now()``
and ``today()`` read the ``clock`` given to ``evaluate`` (or :func:`set_default_clock`), else
the system clock.
"""

from __future__ import annotations

from liucheng.feel._api import (
    Expression,
    UnaryTests,
    compile_expression,
    compile_unary_tests,
    evaluate,
    set_default_clock,
)
from liucheng.feel._bigdate import BigDate, BigDateTime
from liucheng.feel._types import (
    FeelEvaluationError,
    FeelFunction,
    FeelSyntaxError,
    FeelType,
    FeelWarning,
    Range,
    YearsMonthsDuration,
    from_feel,
    to_feel,
)

__all__ = [
    "BigDate",
    "BigDateTime",
    "Expression",
    "FeelEvaluationError",
    "FeelFunction",
    "FeelSyntaxError",
    "FeelType",
    "FeelWarning",
    "Range",
    "UnaryTests",
    "YearsMonthsDuration",
    "compile_expression",
    "compile_unary_tests",
    "evaluate",
    "from_feel",
    "set_default_clock",
    "to_feel",
]
