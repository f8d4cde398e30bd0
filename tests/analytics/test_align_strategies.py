"""Alignment strategies: the macro-step A*, the graph programme and the automatic choice give
the same optimal cost per trace as each other and as pm4py (on real logs, on our nets and on
pm4py's silent-heavy inductive-miner nets)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liucheng.analytics.mining import PetriNet, align, discover_inductive, to_petri_net
from liucheng.analytics.mining import alignments as al
from liucheng.analytics.mining._align_macro import MacroSearch
from liucheng.analytics.mining._log import variant_log
from liucheng.analytics.mining.alignments import MOVE_COST, AlignmentResult, StateSpace
from liucheng.analytics.mining.process_tree import Operator, ProcessTree
from tests.analytics.test_petri_support import (
    from_pm4py,
    make_log,
    quiet,
    real_log,
    to_pandas,
    to_pm4py,
)

STRATEGIES = ("search", "dp", "auto")


def _costs(res: AlignmentResult) -> dict[tuple[str, ...], int]:
    out = {}
    for i, ali in enumerate(res.variants):
        assert ali is not None
        out[res.variant_log.named(i)] = ali.cost
    return out


def _check_moves(res: AlignmentResult) -> None:
    """Each alignment spells out its trace and its cost is what its moves cost."""
    for i, ali in enumerate(res.variants):
        assert ali is not None
        assert tuple(a for a, _ in ali.moves if a is not None) == res.variant_log.named(i)
        devs = sum(1 for a, b in ali.moves if (a is None) != (b is None))
        taus = sum(1 for a, b in ali.moves if a is None and b is None)
        assert ali.cost == MOVE_COST * devs + taus


def _pm4py_costs(frame: Any, net: PetriNet) -> tuple[dict[tuple[str, ...], int], float]:
    """pm4py's optimal cost per distinct trace (read back from its moves) and log fitness."""
    import pm4py

    pn, im, fm = to_pm4py(net)
    pdf = to_pandas(frame)
    with quiet():
        diag = pm4py.conformance_diagnostics_alignments(pdf, pn, im, fm, multi_processing=False)
        fit = pm4py.fitness_alignments(pdf, pn, im, fm, multi_processing=False)
    costs: dict[tuple[str, ...], int] = {}
    for d in diag:
        trace = tuple(a for a, _ in d["alignment"] if a != ">>")
        costs[trace] = int(d["cost"])
    return costs, float(fit["log_fitness"])


def _pm4py_net(frame: Any) -> PetriNet:
    import pm4py

    with quiet():
        pn, im, fm = pm4py.discover_petri_net_inductive(to_pandas(frame), noise_threshold=0.0)
    return from_pm4py(pn, im, fm)


@pytest.mark.parametrize(
    ("name", "cases", "model_cases", "noise", "whose"),
    [
        ("repairExample.xes.gz", None, 60, 0.0, "ours"),
        ("repairExample.xes.gz", 300, 60, 0.0, "pm4py"),
        ("reviewing.xes.gz", 40, 10, 0.0, "ours"),
        ("reviewing.xes.gz", 40, 10, 0.0, "pm4py"),
        ("helpdesk.xes.gz", 300, None, 0.2, "ours"),
        ("receipt.xes.gz", 80, 60, 0.0, "pm4py"),
    ],
)
def test_every_strategy_equals_pm4py_per_trace(
    name: str, cases: int | None, model_cases: int | None, noise: float, whose: str
) -> None:
    frame = real_log(name, cases)
    # a net that does not fit every trace (noise, or discovered on fewer cases): deviations
    model_log = real_log(name, model_cases)
    net = (
        to_petri_net(discover_inductive(model_log, noise))
        if whose == "ours"
        else _pm4py_net(model_log)
    )
    theirs, fitness = _pm4py_costs(frame, net)
    assert any(c >= MOVE_COST for c in theirs.values())  # some traces deviate
    for strategy in STRATEGIES:
        res = align(frame, net, strategy=strategy)
        assert _costs(res) == theirs, strategy
        assert abs(res.log_fitness - fitness) < 1e-6
        _check_moves(res)


LABELS = "abcdef"


def _trees(depth: int) -> st.SearchStrategy[ProcessTree]:
    # silent leaves are as likely as each label: nets with many silent transitions
    leaf = st.sampled_from([*LABELS, None, None, None]).map(lambda a: ProcessTree(label=a))
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


@settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    tree=_trees(3),
    traces=st.lists(st.lists(st.sampled_from(LABELS + "x"), max_size=8), min_size=1, max_size=5),
)
def test_forced_strategies_give_identical_results(
    tree: ProcessTree, traces: list[list[str]]
) -> None:
    net = to_petri_net(tree)
    vlog = variant_log(make_log(traces))
    results = [al.align_variants(vlog, net, strategy=s) for s in STRATEGIES]
    ref = results[0]
    for res in results[1:]:
        for a, b in zip(ref.variants, res.variants, strict=True):
            assert (a is None) == (b is None)
            if a is not None and b is not None:
                assert (a.cost, a.bwc, a.fitness) == (b.cost, b.bwc, b.fitness)
        assert res.log_fitness == ref.log_fitness
    if all(v is not None for v in ref.variants):
        _check_moves(ref)


def _parallel_silent_chains(branches: int, length: int) -> PetriNet:
    """A split into ``branches`` parallel branches, each ``length`` silent steps then one
    visible step, and a join: (length · branches)! / (length!)^branches silent interleavings."""
    net = PetriNet()
    src, snk = net.add_place("source"), net.add_place("sink")
    split, join = net.add_transition(None), net.add_transition(None)
    net.arc_in(src, split)
    net.arc_out(join, snk)
    for b in range(branches):
        prev = net.add_place(f"b{b}_0")
        net.arc_out(split, prev)
        for k in range(length):
            t = net.add_transition(None)
            nxt = net.add_place(f"b{b}_{k + 1}")
            net.arc_in(prev, t)
            net.arc_out(t, nxt)
            prev = nxt
        t = net.add_transition(chr(ord("a") + b))
        end = net.add_place(f"b{b}_end")
        net.arc_in(prev, t)
        net.arc_out(t, end)
        net.arc_in(end, join)
    net.initial, net.final = {src: 1}, {snk: 1}
    return net


def test_macro_steps_skip_silent_interleavings() -> None:
    net = _parallel_silent_chains(4, 3)
    space = StateSpace(net)
    search = MacroSearch(space)
    code = space.code
    fitting = [code[a] for a in "bdac"]
    found = search.align(fitting, 10_000)
    assert found is not None
    cost, _, visits = found
    assert cost == 2 + 4 * 3  # split, join, and every chain
    # one state per event plus the end: silent orders are not states of the search
    assert visits <= len(fitting) + 2
    # b twice, c missing: a log move and a model move, and the silent steps of every chain
    found = search.align([code[a] for a in "bdba"], 100_000)
    assert found is not None and found[0] == 2 * MOVE_COST + 2 + 4 * 3
    res = al.align_variants(variant_log(make_log([list("bdba")])), net, strategy="dp")
    assert res.variants[0] is not None and res.variants[0].cost == found[0]


def test_auto_falls_back_to_the_programme(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = real_log("reviewing.xes.gz", 30)
    net = to_petri_net(discover_inductive(real_log("reviewing.xes.gz", 10), 0.0))
    vlog = variant_log(frame)
    searched = al.align_variants(vlog, net, strategy="search")
    # no budget at all: every variant goes to the programme, which reports no search states
    monkeypatch.setattr(al, "_macro_budget", lambda n, markings: 0)
    fallback = al.align_variants(vlog, net, strategy="auto")
    for a, b in zip(searched.variants, fallback.variants, strict=True):
        assert a is not None and b is not None
        assert a.cost == b.cost and a.states > 0 and b.states == 0
    space = StateSpace(net)
    aligner = al._Aligner(space, "auto", 1_000_000, 3_000, 100_000)
    for v in vlog.variants[:3]:
        aligner.run([space.code[vlog.activities[a]] for a in v if vlog.activities[a] in space.code])
    assert aligner.macro is None  # three misses in a row: the search is given up
    # closures past the memory cap: given up after the first variant, results unchanged
    monkeypatch.setattr(al, "_macro_budget", lambda n, markings: 1_000_000)
    monkeypatch.setattr(al, "_MACRO_ENTRIES", 0)
    aligner = al._Aligner(space, "auto", 1_000_000, 3_000, 100_000)
    first = [space.code[vlog.activities[a]] for a in vlog.variants[0]]
    found = aligner.run(first)
    assert aligner.macro is None and found is not None and found[2] > 0
    assert found[0] == searched.variants[0].cost


def test_python_tables_equal_scipy_tables() -> None:
    frame = real_log("receipt.xes.gz", 200)
    for net in (to_petri_net(discover_inductive(frame, 0.0)), _pm4py_net(frame)):
        space = StateSpace(net)
        assert space.dvis is not None and space.dtau is not None and space.reach is not None
        py = (list(space.dvis), list(space.dtau), list(space.reach))
        space._sparse_tables()
        assert (space.dvis, space.dtau, space.reach) == py


def test_small_models_align_without_scipy() -> None:
    # importing scipy.sparse / scipy.optimize costs more CPU than aligning a whole small log
    code = (
        "import sys\n"
        "from liucheng.analytics.mining import align, discover_inductive, to_petri_net\n"
        "from tests.analytics.test_petri_support import make_log\n"
        "log = make_log([list('abcd'), list('acbd'), list('abd'), list('xbca')])\n"
        "net = to_petri_net(discover_inductive(make_log([list('abcd'), list('acbd')]), 0.0))\n"
        "for s in ('search', 'dp', 'auto'):\n"
        "    assert align(log, net, strategy=s).variants[3].cost >= 20000\n"
        "print('scipy.optimize' in sys.modules, 'scipy.sparse' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]
