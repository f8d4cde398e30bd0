"""Variants equal pm4py's on the shared logs; counts, order and durations by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from typer.testing import CliRunner

from liucheng.analytics import variants
from liucheng.cli import app
from liucheng.history import from_frame, read_log
from tests.history._pm4py import LOGS, as_pm4py, log_path, pm4py, pm4py_complete, quiet


def test_small_log_by_hand() -> None:
    t = lambda d: datetime(2024, 1, d, tzinfo=UTC)  # noqa: E731
    raw = pl.DataFrame(
        {
            "case_id": ["x", "x", "y", "y", "z", "z", "z"],
            "activity": ["a", "b", "a", "b", "a", "c", "b"],
            "timestamp": [t(1), t(2), t(1), t(5), t(1), t(2), t(3)],
        }
    )
    v = variants(from_frame(raw))
    assert v["activities"].to_list() == [["a", "b"], ["a", "c", "b"]]
    assert v["count"].to_list() == [2, 1]
    # a,b took 1 day (x) and 4 days (y): mean 2.5 days.
    assert v["mean_seconds"][0] == pytest.approx(2.5 * 86400)
    assert v["share"].to_list() == pytest.approx([2 / 3, 1 / 3])


@pytest.mark.parametrize("name", LOGS)
def test_variants_equal_pm4py(name: str) -> None:
    assert_variants_equal_pm4py(name)


def assert_variants_equal_pm4py(name: str) -> dict[str, pl.DataFrame]:
    """Our variants of shared log ``name`` equal pm4py's, with all lifecycles and complete only.

    Returns our variant frames by lifecycle, for further checks.
    """
    log = read_log(log_path(name))
    frames: dict[str, pl.DataFrame] = {}
    ref = as_pm4py(log)
    mod = pm4py()
    for lifecycle, frame in (("all", ref), ("complete", pm4py_complete(ref))):
        with quiet():
            expected = {
                tuple(k): int(v if isinstance(v, int) else len(v))
                for k, v in mod.get_variants(frame).items()
            }
        ours = variants(log, lifecycle=lifecycle)
        got = {
            tuple(a): c
            for a, c in zip(ours["activities"].to_list(), ours["count"].to_list(), strict=True)
        }
        assert got == expected, lifecycle
        assert ours["count"].to_list() == sorted(ours["count"].to_list(), reverse=True)
        frames[lifecycle] = ours
    return frames


def test_cli_variants_json() -> None:
    res = CliRunner().invoke(
        app, ["mine", "variants", str(log_path("running-example.csv")), "--json"]
    )
    assert res.exit_code == 0, res.output
    import json

    doc = json.loads(res.stdout)
    assert sum(v["count"] for v in doc["variants"]) == 6
    assert all(v["activities"][0] == "register request" for v in doc["variants"])
