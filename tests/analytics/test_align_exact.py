"""Alignment optimality: the graph programme, the marking-equation A* and pm4py agree."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liucheng.analytics.mining import PetriNet, align, discover_inductive, to_petri_net
from liucheng.analytics.mining._align_astar import LpAligner
from liucheng.analytics.mining._log import variant_log
from liucheng.analytics.mining.alignments import StateSpace, align_variants
from liucheng.analytics.mining.process_tree import Operator, ProcessTree
from tests.analytics.test_petri_support import make_log, quiet, real_log, to_pandas, to_pm4py

LABELS = "abcdef"


def _trees(depth: int) -> st.SearchStrategy[ProcessTree]:
    leaf = st.sampled_from([*LABELS, None]).map(lambda a: ProcessTree(label=a))
    if depth == 0:
        return leaf
    inner = st.tuples(
        st.sampled_from(list(Operator)), st.lists(_trees(depth - 1), min_size=2, max_size=3)
    ).map(
        lambda oc: ProcessTree(
            operator=oc[0], children=tuple(oc[1][:2] if oc[0] is Operator.LOOP else oc[1])
        )
    )
    return st.one_of(leaf, inner)


_traces = st.lists(st.lists(st.sampled_from(LABELS + "x"), max_size=7), min_size=1, max_size=4)


@settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(tree=_trees(3), traces=_traces)
def test_marking_equation_search_matches_graph_programme(
    tree: ProcessTree, traces: list[list[str]]
) -> None:
    # the same optimal costs whether the net's whole reachability graph drives the search or
    # only the LP heuristic does (a state space capped at one marking forces the latter)
    net = to_petri_net(tree)
    vlog = variant_log(make_log(traces))
    exact = align_variants(vlog, net)
    lp = align_variants(vlog, net, space=StateSpace(net, max_states=1))
    for a, b in zip(exact.variants, lp.variants, strict=True):
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert a.cost == b.cost
            assert b.exact
            # the moves replay: synchronous and log moves spell out the trace
            assert len([m for m in b.moves if m[0] is not None]) == len(
                [m for m in a.moves if m[0] is not None]
            )
    assert exact.log_fitness == pytest.approx(lp.log_fitness, abs=1e-12)


def test_lp_aligner_moves_are_in_trace_order() -> None:
    net = PetriNet()
    src, p, snk = net.add_place("source"), net.add_place("p"), net.add_place("sink")
    for label, i, o in (("a", src, p), ("b", p, snk), (None, p, snk)):
        t = net.add_transition(label)
        net.arc_in(i, t)
        net.arc_out(t, o)
    net.initial, net.final = {src: 1}, {snk: 1}
    aligner = LpAligner(net, 10_000, 10_000)
    code = aligner.cn.code
    found = aligner.align([code["b"], code["a"]])
    assert found is not None
    cost, path, _, exact = found
    # b must be a log move (it cannot come first); a then the silent end or b as model move
    assert cost == 10000 + 1 and exact
    assert path[0] == (code["b"], -1, 0)


def _pm4py_fitness(log: object, net: PetriNet) -> dict[str, float]:
    import pm4py

    with quiet():
        return dict(pm4py.fitness_alignments(log, *to_pm4py(net), multi_processing=False))


@pytest.mark.parametrize(
    ("name", "noise", "cases"),
    [
        ("receipt.xes.gz", 0.2, 150),
        ("helpdesk.xes.gz", 0.2, 300),
        ("bpic2012.xes.gz", 0.2, 8),
        ("reviewing.xes.gz", 0.0, 30),
    ],
)
def test_fitness_equals_pm4py_on_real_logs(name: str, noise: float, cases: int) -> None:
    log = real_log(name, cases)
    net = to_petri_net(discover_inductive(log, noise))
    ours = align(log, net)
    theirs = _pm4py_fitness(to_pandas(log), net)
    assert abs(ours.log_fitness - theirs["log_fitness"]) < 1e-6
    assert abs(ours.average_trace_fitness - theirs["average_trace_fitness"]) < 1e-6


@settings(
    max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(tree=_trees(2), traces=_traces)
def test_random_nets_equal_pm4py(tree: ProcessTree, traces: list[list[str]]) -> None:
    log = make_log(traces)
    net = to_petri_net(tree)
    ours = align(log, net)
    theirs = _pm4py_fitness(to_pandas(log), net)
    assert abs(ours.log_fitness - theirs["log_fitness"]) < 1e-6
