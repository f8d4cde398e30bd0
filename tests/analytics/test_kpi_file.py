"""KPI files: parsing, durations, custom FEEL KPIs and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from liucheng.analytics.kpi_file import (
    CustomKpi,
    evaluate_custom,
    load_kpi_file,
    parse_duration,
)
from liucheng.errors import ValidationError
from tests.analytics.test_kpi import SETTINGS, log


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), ("15m", 900.0), ("4h", 14400.0), ("2d", 172800.0), ("1w", 604800.0)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_duration() -> None:
    with pytest.raises(ValidationError, match="not a duration"):
        parse_duration("soon")


def test_load_file(tmp_path: Path) -> None:
    p = tmp_path / "k.yaml"
    p.write_text(
        "sla: 2d\nbucket: month\nroles: {ann: clerk}\n"
        "costs: {default_rate: 40, resources: {bob: 90}, activities: {a: 5}}\n"
        "kpis:\n  - name: days\n    expression: cycle_time_seconds / 86400\n    aggregate: max\n"
    )
    f = load_kpi_file(p)
    assert f.settings.sla_seconds == 172800
    assert f.bucket == "month"
    assert f.settings.roles == {"ann": "clerk"}
    assert f.settings.costs is not None and f.settings.costs.resource_rates == {"bob": 90.0}
    assert f.kpis == (CustomKpi("days", "cycle_time_seconds / 86400", "max"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sla: [1]\n", "not a duration"),
        ("bucket: year\n", "bucket"),
        ("kpis:\n  - {name: x}\n", "needs a name and an expression"),
        ("kpis:\n  - {name: x, expression: '1', aggregate: mode}\n", "aggregate"),
        ("colour: red\n", "unknown key"),
        ("measures: [cases, happiness]\n", "unknown measure"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "k.yaml"
    p.write_text(text)
    with pytest.raises(ValidationError, match=message) as info:
        load_kpi_file(p)
    assert info.value.file == str(p)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "k.yaml"
    p.write_text("sla: 2d\nkpis: [\n  {name: x\n")
    with pytest.raises(ValidationError) as info:
        load_kpi_file(p)
    assert info.value.line is not None and info.value.line >= 3


def test_custom_kpis_over_case_attributes_and_measures() -> None:
    kpis = [
        # cycle times are 3.5 h and 4 h: median 3.75 h.
        CustomKpi("hours", "cycle_time_seconds / 3600", "median"),
        # amounts 100 and 300.
        CustomKpi("big_share", "amount > 200", "mean"),
        CustomKpi("big_count", "amount > 200", "count"),
        CustomKpi("cost_sum", "cost", "sum"),
        CustomKpi("nothing", "null", "mean"),
    ]
    out = evaluate_custom(log(), kpis, SETTINGS)
    assert out == {
        "hours": pytest.approx(3.75),
        "big_share": 0.5,
        "big_count": 1.0,
        "cost_sum": 120.0,
        "nothing": None,
    }


def test_bad_expression_names_the_kpi() -> None:
    with pytest.raises(ValidationError, match="'broken'"):
        evaluate_custom(log(), [CustomKpi("broken", "amount >", "mean")])


def test_measures_select_builtin_kpis(tmp_path: Path) -> None:
    from liucheng.analytics.kpi import kpi_summary
    from liucheng.analytics.kpi_file import BUILTIN_MEASURES, kpi_report

    # The list of selectable measures is exactly what the summary computes (with an SLA).
    assert set(kpi_summary(log(), SETTINGS)) == set(BUILTIN_MEASURES)
    p = tmp_path / "k.yaml"
    p.write_text(
        "sla: 3.5h\nmeasures: [cases, on_time_rate]\n"
        "kpis:\n  - {name: big, expression: amount > 200}\n"
    )
    assert kpi_report(log(), load_kpi_file(p)) == {"cases": 2, "on_time_rate": 0.5, "big": 0.5}
