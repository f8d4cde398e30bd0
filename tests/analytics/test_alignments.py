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


def test_many_deviations_widen_the_cost_bound() -> None:
    # nothing fits: 3 log moves plus the cheapest model run (a, b, silent end) as model moves;
    # the programme has to widen its cost bound several times (0, 1, 3, then 7 deviations)
    log = make_log([["x", "y", "z"], ["a", "x", "y", "c", "z", "d"]])
    res = align(log, _choice_net())
    none_fit, some_fit = res.variants
    assert none_fit is not None and none_fit.cost == 5 * MOVE_COST + 1
    assert none_fit.moves.count((None, "a")) == 1
    assert some_fit is not None and some_fit.cost == 3 * MOVE_COST
    assert [m for m in some_fit.moves if m[0] is not None and m[1] is not None] == [
        ("a", "a"),
        ("c", "c"),
        ("d", "d"),
    ]


def test_state_space_tables_by_hand() -> None:
    from liucheng.analytics.mining.alignments import StateSpace

    net = _choice_net()  # source -a-> p -(b|c)-> q -(d|tau)-> sink
    space = StateSpace(net)
    src = space.initial
    ((p, _, _),) = space.successors(src)
    q = space.successors(p)[0][0]
    snk = space.final
    assert space.dvis is not None and space.dtau is not None and space.reach is not None
    assert [space.dvis[m] for m in (src, p, q, snk)] == [2, 1, 0, 0]
    assert [space.dtau[m] for m in (src, p, q, snk)] == [0, 0, 0, 0]
    code = space.code
    assert space.reach[src] == sum(1 << code[a] for a in "abcd")
    assert space.reach[q] == 1 << code["d"]
    assert space.reach[snk] == 0


def test_unsafe_net_falls_back_to_token_counts() -> None:
    from liucheng.analytics.mining.alignments import StateSpace

    # unit arcs, but b puts a second token into p: the bit-set encoding must give way
    net = PetriNet()
    src, p, q, r, snk = (net.add_place(n) for n in ("source", "p", "q", "r", "sink"))
    for label, ins, outs in (
        ("a", [src], [p, q]),
        ("b", [q], [p]),
        ("c", [p], [r]),
        ("d", [p, r], [snk]),
    ):
        t = net.add_transition(label)
        for i in ins:
            net.arc_in(i, t)
        for o in outs:
            net.arc_out(t, o)
    net.initial = {src: 1}
    net.final = {snk: 1}
    assert StateSpace(net).bits is False
    res = align(make_log([["a", "b", "c", "d"], ["a", "c", "d"]]), net)
    fits, skips_b = res.variants
    assert fits is not None and fits.cost == 0
    assert skips_b is not None and skips_b.cost == MOVE_COST
    assert (None, "b") in skips_b.moves
