"""Token-based replay: equal to pm4py's on the same nets (pm4py is a test-only reference)."""

from __future__ import annotations

import pytest

from liucheng.analytics.mining import (
    PetriNet,
    discover_inductive,
    to_petri_net,
    token_replay,
    variant_log,
)
from tests.analytics.test_petri_support import (
    from_pm4py,
    make_log,
    quiet,
    real_log,
    to_pandas,
    to_pm4py,
)


@pytest.mark.parametrize(
    ("name", "noise", "cases"),
    [
        ("running-example.xes", 0.0, None),
        ("reviewing.xes.gz", 0.2, None),
        ("repairExample.xes.gz", 0.2, None),
        ("helpdesk.xes.gz", 0.2, 600),
        ("receipt.xes.gz", 0.5, 600),
    ],
)
def test_fitness_equals_pm4py_on_our_net(name: str, noise: float, cases: int | None) -> None:
    import pm4py
    from pm4py.algo.conformance.tokenreplay import algorithm as tbr

    log = real_log(name, cases)
    net = to_petri_net(discover_inductive(log, noise))
    ours = token_replay(log, net)
    with quiet():
        pdf = to_pandas(log)
        theirs = pm4py.fitness_token_based_replay(pdf, *to_pm4py(net))
        per_case = tbr.apply(pdf, *to_pm4py(net))
    assert ours.log_fitness == pytest.approx(theirs["log_fitness"], abs=1e-12)
    assert ours.average_trace_fitness == pytest.approx(theirs["average_trace_fitness"], abs=1e-9)
    assert ours.percentage_fit_traces == pytest.approx(theirs["perc_fit_traces"], abs=1e-9)
    # per-case token counts (as multisets: pm4py orders its cases its own way)
    mine = sorted(ours.cases().select("missing", "consumed", "remaining", "produced").rows())
    ref = sorted(
        (r["missing_tokens"], r["consumed_tokens"], r["remaining_tokens"], r["produced_tokens"])
        for r in per_case
    )
    assert mine == ref


def test_fitness_equals_pm4py_on_pm4py_net() -> None:
    import pm4py

    log = real_log("repairExample.xes.gz")
    with quiet():
        pdf = to_pandas(log)
        pn, im, fm = pm4py.discover_petri_net_inductive(pdf, noise_threshold=0.3)
        theirs = pm4py.fitness_token_based_replay(pdf, pn, im, fm)
    ours = token_replay(log, from_pm4py(pn, im, fm))
    assert ours.log_fitness == pytest.approx(theirs["log_fitness"], abs=1e-12)


def _sequence_net(labels: list[str]) -> PetriNet:
    net = PetriNet()
    prev = net.add_place("source")
    first = prev
    for a in labels:
        nxt = net.add_place()
        t = net.add_transition(a)
        net.arc_in(prev, t)
        net.arc_out(t, nxt)
        prev = nxt
    net.initial = {first: 1}
    net.final = {prev: 1}
    return net


def test_missing_and_remaining_tokens_by_hand() -> None:
    net = _sequence_net(["a", "b", "c"])
    log = make_log([["a", "b", "c"], ["a", "c"], ["a", "b", "x"]])
    res = token_replay(log, net)
    fit, skip, unknown = res.variants
    assert fit.fit and fit.fitness == 1.0
    # skipping b: c misses one token, the token after a remains
    assert (skip.missing, skip.remaining, skip.consumed, skip.produced) == (1, 1, 3, 3)
    assert skip.problems == ("c",)
    # x is not in the model: ignored; c never fires, so the end misses a token and one remains
    assert unknown.unknown == ("x",)
    assert (unknown.missing, unknown.remaining) == (1, 1)
    problems = res.activity_problems()
    assert problems.filter(problems["activity"] == "x")["not_in_model"].item() == 1
    assert res.percentage_fit_traces == pytest.approx(100 / 3)


def test_variant_weighting_matches_case_level() -> None:
    net = _sequence_net(["a", "b"])
    log = make_log([["a", "b"]] * 3 + [["b"]])
    res = token_replay(log, net)
    assert variant_log(log).counts.tolist() == [3, 1]
    cases = res.cases()
    assert cases.height == 4
    expected = sum(cases["fitness"].to_list()) / 4
    assert res.average_trace_fitness == pytest.approx(expected)
