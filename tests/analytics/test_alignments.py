"""Optimal alignments: fitness equal to pm4py's (within 1e-6) on the same nets."""

from __future__ import annotations

import pytest

from liucheng.analytics.mining import PetriNet, align, discover_inductive, to_petri_net
from liucheng.analytics.mining.alignments import MOVE_COST
from tests.analytics.test_petri_support import (
    from_pm4py,
    make_log,
    quiet,
    real_log,
    to_pandas,
    to_pm4py,
)


def _pm4py_alignment_fitness(log: object, net: PetriNet) -> dict[str, float]:
    import pm4py

    with quiet():
        return dict(pm4py.fitness_alignments(log, *to_pm4py(net), multi_processing=False))


@pytest.mark.parametrize(
    ("name", "noise", "cases"),
    [
        ("running-example.xes", 0.5, None),
        ("reviewing.xes.gz", 0.2, 40),
        ("repairExample.xes.gz", 0.5, 300),
    ],
)
def test_fitness_equals_pm4py_on_our_net(name: str, noise: float, cases: int | None) -> None:
    log = real_log(name, cases)
    net = to_petri_net(discover_inductive(log, noise))
    ours = align(log, net)
    theirs = _pm4py_alignment_fitness(to_pandas(log), net)
    assert abs(ours.log_fitness - theirs["log_fitness"]) < 1e-6
    assert abs(ours.average_trace_fitness - theirs["average_trace_fitness"]) < 1e-6
    assert ours.percentage_fit_traces == pytest.approx(theirs["percentage_of_fitting_traces"])


def test_fitness_equals_pm4py_on_pm4py_net() -> None:
    import pm4py

    log = real_log("repairExample.xes.gz", 250)
    pdf = to_pandas(log)
    with quiet():
        pn, im, fm = pm4py.discover_petri_net_inductive(pdf, noise_threshold=0.4)
        theirs = pm4py.fitness_alignments(pdf, pn, im, fm, multi_processing=False)
    ours = align(log, from_pm4py(pn, im, fm))
    assert abs(ours.log_fitness - theirs["log_fitness"]) < 1e-6


def _choice_net() -> PetriNet:
    """source -a-> p -(b | c)-> q -d-> sink, with a silent skip of d."""
    net = PetriNet()
    src, p, q, snk = (net.add_place(n) for n in ("source", "p", "q", "sink"))
    for label, i, o in (("a", src, p), ("b", p, q), ("c", p, q), ("d", q, snk), (None, q, snk)):
        t = net.add_transition(label)
        net.arc_in(i, t)
        net.arc_out(t, o)
    net.initial = {src: 1}
    net.final = {snk: 1}
    return net


def test_moves_and_costs_by_hand() -> None:
    log = make_log([["a", "b", "d"], ["a", "c"], ["a", "x", "b"], ["b", "d"]])
    res = align(log, _choice_net())
    perfect, silent_end, log_move, model_move = res.variants
    assert perfect is not None and perfect.cost == 0 and perfect.fitness == 1.0
    assert silent_end is not None and silent_end.cost == 1  # tau instead of d
    assert silent_end.fitness == 1.0
    assert log_move is not None and log_move.deviations == 1
    assert ("x", None) in log_move.moves
    assert model_move is not None and (None, "a") in model_move.moves
    # cheapest model run: a, b, tau -> bwc = 10000 * |trace| + 20001
    assert model_move.bwc == MOVE_COST * 2 + 2 * MOVE_COST + 1
    assert model_move.fitness == pytest.approx(1 - 1 / 4)
    dev = res.deviations()
    row = dev.filter(dev["activity"] == "a").row(0, named=True)
    assert (row["sync_moves"], row["model_moves"]) == (3, 1)
    cases = res.cases()
    assert cases.filter(cases["case_id"] == "c2")["log_moves"].item() == 1


def test_log_fitness_aggregates_raw_costs() -> None:
    log = make_log([["a", "b", "d"]] * 3 + [["a", "d"]])
    res = align(log, _choice_net())
    total_cost = sum(a.cost * n for a, n in zip(res.variants, [3, 1], strict=True) if a)
    total_bwc = sum(a.bwc * n for a, n in zip(res.variants, [3, 1], strict=True) if a)
    assert res.log_fitness == pytest.approx(1 - total_cost / total_bwc)
