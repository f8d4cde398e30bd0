"""Helpers to write small DMN documents in tests."""

from __future__ import annotations

from html import escape


def esc(text: str) -> str:
    """XML-escape FEEL text (``<``, ``>``, ``&``)."""
    return escape(text, quote=False)


DMN15 = "https://www.omg.org/spec/DMN/20230324/MODEL/"


def dmn(body: str, ns: str = DMN15, name: str = "test", namespace: str = "urn:test") -> str:
    """A DMN document with ``body`` inside ``<definitions>``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<definitions xmlns="{ns}" id="defs" name="{name}" namespace="{namespace}">\n'
        f"{body}\n</definitions>\n"
    )


def table(
    hit: str,
    inputs: list[str],
    outputs: list[str],
    rules: list[tuple[list[str], list[str]]],
    *,
    aggregation: str | None = None,
    output_values: dict[int, str] | None = None,
    defaults: dict[int, str] | None = None,
    input_values: dict[int, str] | None = None,
    decision: str = "d",
    requires: tuple[str, ...] = ("x", "y"),
) -> str:
    """A decision ``decision`` whose logic is a decision table over input data ``requires``."""
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    ins = []
    for i, expr in enumerate(inputs):
        iv = ""
        if input_values and i in input_values:
            iv = f"<inputValues><text>{esc(input_values[i])}</text></inputValues>"
        ins.append(
            f'<input id="in{i}"><inputExpression><text>{esc(expr)}</text></inputExpression>{iv}</input>'
        )
    outs = []
    for i, name in enumerate(outputs):
        ov = ""
        if output_values and i in output_values:
            ov = f"<outputValues><text>{esc(output_values[i])}</text></outputValues>"
        df = ""
        if defaults and i in defaults:
            df = f"<defaultOutputEntry><text>{esc(defaults[i])}</text></defaultOutputEntry>"
        outs.append(f'<output id="out{i}" name="{name}">{ov}{df}</output>')
    rows = []
    for r, (ie, oe) in enumerate(rules):
        cells = "".join(f"<inputEntry><text>{esc(t)}</text></inputEntry>" for t in ie)
        cells += "".join(f"<outputEntry><text>{esc(t)}</text></outputEntry>" for t in oe)
        rows.append(f'<rule id="r{r + 1}">{cells}</rule>')
    reqs = "".join(
        f'<informationRequirement><requiredInput href="#{r}"/></informationRequirement>'
        for r in requires
    )
    data = "".join(
        f'<inputData id="{r}" name="{r}"><variable name="{r}"/></inputData>' for r in requires
    )
    return (
        f'{data}<decision id="{decision}" name="{decision}"><variable name="{decision}"/>{reqs}'
        f'<decisionTable id="dt" hitPolicy="{hit}"{agg}>'
        + "".join(ins)
        + "".join(outs)
        + "".join(rows)
        + "</decisionTable></decision>"
    )
