"""Issue #8 claim, on every shared log: IM and IMf(0.2) give sound nets whose fitness is not
below pm4py's at the same noise threshold (pm4py is test-only)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from liucheng.analytics.mining import (
    align,
    check_soundness,
    discover_inductive,
    to_petri_net,
    token_replay,
)
from tests.analytics.test_discovery import canonical
from tests.analytics.test_petri_support import from_pm4py, quiet, real_log, to_pandas
from tests.conftest import SHARED

LOGS = sorted(
    p.name for p in (SHARED / "data" / "logs").glob("*") if p.name.endswith((".xes", ".xes.gz"))
) or ["running-example.xes"]  # without the shared folder, real_log skips
SLOW = {"bpic2012.xes.gz"}
SAMPLE = 100  # cases that pm4py's own (slow) replay sees


def _params() -> list[object]:
    return [
        pytest.param(name, noise, marks=[pytest.mark.slow] if name in SLOW else [])
        for name in LOGS
        for noise in (0.0, 0.2)
    ]


def _head(log: pl.DataFrame, n: int) -> pl.DataFrame:
    keep = log["case_id"].unique(maintain_order=True).head(n)
    return log.filter(pl.col("case_id").is_in(keep.implode()))


@pytest.mark.parametrize(("name", "noise"), _params())
def test_inductive_net_is_sound_and_fits_like_pm4py(name: str, noise: float) -> None:
    import pm4py

    log = real_log(name)
    tree = discover_inductive(log, noise)
    with quiet():
        ref_tree = pm4py.discover_process_tree_inductive(to_pandas(log), noise_threshold=noise)
        pn = pm4py.convert_to_petri_net(ref_tree)
    assert canonical(tree) == canonical(ref_tree)
    net, ref = to_petri_net(tree), from_pm4py(*pn)
    assert (len(net.transitions), len(net.places)) == (len(ref.transitions), len(ref.places))
    report = check_soundness(net, 200_000)
    assert report.sound is True, report.problems
    # the whole log, with one replayer: our net fits at least as well as pm4py's
    ours = token_replay(log, net).log_fitness
    assert ours >= token_replay(log, ref).log_fitness - 1e-9
    # pm4py's own figure on its own net, on a sample
    sample = _head(log, SAMPLE)
    with quiet():
        theirs = pm4py.fitness_token_based_replay(to_pandas(sample), *pn)["log_fitness"]
    assert token_replay(sample, net).log_fitness >= theirs - 1e-9
    if noise == 0.0:  # IM guarantees perfect fitness: every sampled case aligns without cost
        assert align(sample, net).percentage_fit_traces == 100.0


def test_every_shared_xes_log_is_covered() -> None:
    folder = SHARED / "data" / "logs"
    if not folder.exists():
        pytest.skip("shared material is missing")
    found = {p.name for p in Path(folder).iterdir() if p.name.endswith((".xes", ".xes.gz"))}
    assert found == set(LOGS)
