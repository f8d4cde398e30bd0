"""IM and IMf on a 5,000-case sample of the noisy order-to-cash log, against pm4py (test-only).

The bench's 1M-event log (``../shared/bench/mining/gen_synthetic.py`` + ``add_noise.py``) takes
minutes to generate, so :func:`o2c_log` re-creates its control flow and noise here with a fixed
seed: an XOR (reject), a rework loop, two interleaved parallel branches, a reminder loop, optional
complaint handling; then one swap, skip or repeat in 10 % of the cases. The waiting and service
times are those of the generator too, because they decide how the parallel branches interleave
and which neighbours a swap exchanges. At noise 0 no cut survives the noise and the tree is built
by the fall-throughs (activity concurrent, tau loops): the path where a divergence from pm4py
would hide, and the model whose many silent transitions make alignments expensive.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from liucheng.analytics.mining import (
    ProcessTree,
    align,
    check_soundness,
    discover_inductive,
    to_petri_net,
    token_replay,
)
from tests.analytics.test_discovery import canonical
from tests.analytics.test_petri_support import from_pm4py, quiet, to_pandas

# activity -> (median wait h, wait sigma, median service min, service sigma), as gen_synthetic.py
TIMES: dict[str, tuple[float, float, float, float]] = {
    "Receive Order": (0.0, 0.0, 5, 0.5),
    "Check Credit": (2.0, 1.0, 10, 0.6),
    "Reject Order": (4.0, 0.8, 8, 0.5),
    "Check Stock": (6.0, 1.2, 12, 0.7),
    "Request Missing Info": (3.0, 1.0, 15, 0.6),
    "Update Order": (24.0, 1.0, 10, 0.5),
    "Pick Items": (3.0, 1.0, 25, 0.6),
    "Pack Items": (1.0, 0.8, 15, 0.5),
    "Create Invoice": (1.5, 0.9, 8, 0.5),
    "Send Invoice": (0.5, 0.7, 3, 0.4),
    "Ship Order": (8.0, 0.9, 20, 0.5),
    "Receive Payment": (240.0, 0.8, 5, 0.4),
    "Send Reminder": (168.0, 0.3, 5, 0.4),
    "Write Off": (72.0, 0.5, 30, 0.5),
    "Handle Complaint": (48.0, 1.0, 30, 0.7),
    "Issue Refund": (24.0, 0.8, 10, 0.5),
    "Close Order": (12.0, 0.8, 5, 0.4),
}
CASES = 5_000
SAMPLE = 100  # cases for pm4py's replay and for the alignments
Event = tuple[str, float]


def _case(rng: np.random.Generator) -> list[Event]:
    events: list[Event] = []

    def step(name: str, ready: float) -> float:
        wait_h, wait_s, serv_m, serv_s = TIMES[name]
        wait = 0.0 if wait_h == 0 else rng.lognormal(np.log(wait_h * 3600), wait_s)
        end = ready + wait + rng.lognormal(np.log(serv_m * 60), serv_s)
        events.append((name, end))
        return end

    t = step("Check Credit", step("Receive Order", float(rng.uniform(0, 365 * 86400))))
    if rng.random() < 0.04:
        t = step("Reject Order", t)
    else:
        t = step("Check Stock", t)
        rework = 0
        while rework < 3 and rng.random() < 0.15:
            for name in ("Request Missing Info", "Update Order", "Check Stock"):
                t = step(name, t)
            rework += 1
        a = step("Pack Items", step("Pick Items", t))  # branch A and branch B start together
        b = step("Send Invoice", step("Create Invoice", t))
        t = step("Ship Order", max(a, b))
        if rng.random() < 0.8:
            t = step("Receive Payment", t)
        else:
            for _ in range(int(rng.integers(1, 4))):
                t = step("Send Reminder", t)
            t = step("Receive Payment" if rng.random() < 0.9 else "Write Off", t)
        if rng.random() < 0.06:
            t = step("Handle Complaint", t)
            if rng.random() < 0.5:
                t = step("Issue Refund", t)
    step("Close Order", t)
    return sorted(events, key=lambda e: e[1])


def _add_noise(rng: np.random.Generator, cases: list[list[Event]], share: float) -> None:
    """``add_noise.py``: swap two neighbours, skip one event or repeat one a little later."""
    for i in rng.choice(len(cases), size=int(len(cases) * share), replace=False).tolist():
        ev = cases[i]
        op = int(rng.integers(3))
        if op == 0:
            j = int(rng.integers(1, len(ev) - 1))
            (a, ta), (b, tb) = ev[j], ev[j + 1]
            ev[j], ev[j + 1] = (b, ta), (a, tb)
        elif op == 1:
            del ev[int(rng.integers(1, len(ev)))]
        else:
            name, at = ev[int(rng.integers(1, len(ev)))]
            ev.append((name, at + int(rng.integers(1, 61)) * 60))
            ev.sort(key=lambda e: e[1])


def o2c_log(n_cases: int, seed: int = 42, noise: float = 0.10) -> pl.DataFrame:
    """The noisy order-to-cash log with ``n_cases`` cases (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    cases = [_case(rng) for _ in range(n_cases)]
    _add_noise(rng, cases, noise)
    rows = [(f"C{i:07d}", name, t) for i, ev in enumerate(cases) for name, t in ev]
    return pl.DataFrame(
        {
            "case_id": [r[0] for r in rows],
            "activity": [r[1] for r in rows],
            "timestamp": np.round(np.array([r[2] for r in rows]) * 1e6).astype(np.int64),
        }
    ).with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC")))


@pytest.fixture(scope="module")
def log() -> pl.DataFrame:
    return o2c_log(CASES)


def _head(log: pl.DataFrame, n: int) -> pl.DataFrame:
    keep = log["case_id"].unique(maintain_order=True).head(n)
    return log.filter(pl.col("case_id").is_in(keep.implode()))


def _taus(tree: ProcessTree) -> int:
    return sum(leaf.is_tau for leaf in tree.leaves())


def test_sample_is_noisy_like_the_bench_log(log: pl.DataFrame) -> None:
    assert log["case_id"].n_unique() == CASES
    assert log["activity"].n_unique() == len(TIMES)
    variants = log.group_by("case_id").agg(pl.col("activity")).get_column("activity")
    assert variants.n_unique() > 200  # the swaps, skips and repeats spread the variants
    assert o2c_log(50).equals(o2c_log(50))  # seeded


@pytest.mark.parametrize("noise", [0.0, 0.2])
def test_tree_and_net_equal_pm4py(log: pl.DataFrame, noise: float) -> None:
    import pm4py

    tree = discover_inductive(log, noise)
    with quiet():
        ref_tree = pm4py.discover_process_tree_inductive(to_pandas(log), noise_threshold=noise)
        ref_net = pm4py.convert_to_petri_net(ref_tree)
    assert canonical(tree) == canonical(ref_tree)
    net, ref = to_petri_net(tree), from_pm4py(*ref_net)
    assert (len(net.transitions), len(net.places)) == (len(ref.transitions), len(ref.places))
    silent = sum(t.label is None for t in net.transitions)
    assert silent == sum(t.label is None for t in ref.transitions)
    if noise == 0.0:  # the fall-through tree of the bench log: a tau-heavy model
        assert _taus(tree) >= 20
        assert silent > len(net.transitions) // 2


def test_im_net_fits_perfectly_and_is_not_unsound(log: pl.DataFrame) -> None:
    net = to_petri_net(discover_inductive(log))
    assert token_replay(log, net).log_fitness == 1.0
    # 17 activities, most of them optional and concurrent: the state space is too large to
    # explore fully here, but no dead transition or improper completion may show up early
    assert check_soundness(net, 5_000).sound is not False


def test_imf_net_is_sound_and_fits_like_pm4py(log: pl.DataFrame) -> None:
    import pm4py

    noise = 0.2
    net = to_petri_net(discover_inductive(log, noise))
    with quiet():
        pn = pm4py.discover_petri_net_inductive(to_pandas(log), noise_threshold=noise)
    ref = from_pm4py(*pn)
    report = check_soundness(net, 200_000)
    assert report.sound is True, report.problems
    ours = token_replay(log, net).log_fitness
    assert 0.9 < ours < 1.0  # the filtered model does not replay the noise
    assert ours >= token_replay(log, ref).log_fitness - 1e-9
    sample = _head(log, SAMPLE)
    with quiet():
        theirs = pm4py.fitness_token_based_replay(to_pandas(sample), *pn)["log_fitness"]
    assert token_replay(sample, net).log_fitness >= theirs - 1e-9
    a_ours, a_ref = align(sample, net), align(sample, ref)
    assert a_ours.average_trace_fitness >= a_ref.average_trace_fitness - 1e-9
    assert a_ours.percentage_fit_traces < 100.0
