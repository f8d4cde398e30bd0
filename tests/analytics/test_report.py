"""SVG charts are well-formed and carry their numbers; the HTML report bundles everything."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree
from typer.testing import CliRunner

from liucheng.analytics import discover_dfg
from liucheng.analytics.charts import control_chart_svg, dfg_svg, format_seconds, trend_svg
from liucheng.analytics.report import html_report
from liucheng.analytics.spc import imr_chart
from liucheng.cli import app
from liucheng.history import read_log
from tests.history._pm4py import log_path

SVG = "{http://www.w3.org/2000/svg}"


def _svg(text: str) -> etree._Element:
    return etree.fromstring(text.encode())


def test_dfg_svg_has_every_activity_and_edge_label() -> None:
    g = discover_dfg(read_log(log_path("running-example.xes")))
    root = _svg(dfg_svg(g))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for act in g.activities["activity"].to_list():
        assert act in texts
    assert len(list(root.iter(f"{SVG}path"))) == g.edges.height + 1  # + arrow head marker
    perf = _svg(dfg_svg(g, metric="performance"))
    assert format_seconds(g.edges["mean_seconds"][0]) in [t.text for t in perf.iter(f"{SVG}text")]


def test_control_chart_svg_marks_flagged_points() -> None:
    chart = imr_chart([5, 6, 5, 6, 5, 6, 5, 30, 5, 6])
    root = _svg(control_chart_svg(chart))
    red = [c for c in root.iter(f"{SVG}circle") if c.get("fill") == "#c0392b"]
    assert len(red) == len(chart.out_of_control) >= 1
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(t.startswith("UCL") for t in texts) and any(t.startswith("LCL") for t in texts)


def test_text_is_escaped() -> None:
    root = _svg(trend_svg(["<a&b>"], [1.0], title='x"<y>'))
    assert root.find(f"{SVG}text").text == 'x"<y>'


def test_format_seconds() -> None:
    assert format_seconds(30) == "30.0 s"
    assert format_seconds(90) == "1.5 min"
    assert format_seconds(5400) == "1.5 h"
    assert format_seconds(None) == "–"


def test_html_report(tmp_path: Path) -> None:
    page = html_report(read_log(log_path("repairExample.xes.gz")), title="repair")
    assert page.startswith("<!DOCTYPE html>")
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) >= 5
    for s in svgs:
        _svg(s)
    assert "Top 10 variants" in page and "Archive Repair" in page


def test_cli_report(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["report", str(log_path("running-example.csv")), "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert "register request" in text and "<svg" in text


def test_cli_dfg_svg_and_kpi_control(tmp_path: Path) -> None:
    import json

    svg = tmp_path / "g.svg"
    log = str(log_path("repairExample.xes.gz"))
    res = CliRunner().invoke(app, ["mine", "dfg", log, "--svg", str(svg)])
    assert res.exit_code == 0, res.output
    assert "Register" in [t.text for t in _svg(svg.read_text()).iter(f"{SVG}text")]
    res = CliRunner().invoke(app, ["kpi", log, "--json", "--control", "cycle_time_seconds"])
    assert res.exit_code == 0, res.output
    control = json.loads(res.stdout)["control"]
    assert control["kind"] == "I" and control["lcl"] < control["center"] < control["ucl"]
    assert control["companion"]["kind"] == "MR"
