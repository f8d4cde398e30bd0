"""The graph programme's silent-step bounds: widened until the optimum fits, never wrong."""

from __future__ import annotations

from itertools import pairwise

from liucheng.analytics.mining import PetriNet, align
from liucheng.analytics.mining._align_astar import LpAligner
from liucheng.analytics.mining._align_search import _Dp
from liucheng.analytics.mining.alignments import StateSpace
from tests.analytics.test_petri_support import make_log


def _parallel_chain(length: int) -> PetriNet:
    """source -tau-> (a | a chain of ``length`` silent steps) -tau-> b -> sink."""
    net = PetriNet()
    src, p1, q1, p2, snk_b, snk = (net.add_place(n) for n in ("s", "p1", "q1", "p2", "j", "e"))
    chain = [net.add_place(f"c{k}") for k in range(length)]
    split = net.add_transition(None)
    net.arc_in(src, split)
    net.arc_out(split, p1)
    net.arc_out(split, chain[0])
    a = net.add_transition("a")
    net.arc_in(p1, a)
    net.arc_out(a, q1)
    for k in range(length - 1):
        t = net.add_transition(None)
        net.arc_in(chain[k], t)
        net.arc_out(t, chain[k + 1])
    t = net.add_transition(None)
    net.arc_in(chain[-1], t)
    net.arc_out(t, p2)
    join = net.add_transition(None)
    net.arc_in(q1, join)
    net.arc_in(p2, join)
    net.arc_out(join, snk_b)
    b = net.add_transition("b")
    net.arc_in(snk_b, b)
    net.arc_out(b, snk)
    net.initial, net.final = {src: 1}, {snk: 1}
    return net


def _detour(length: int) -> PetriNet:
    """Three ways from s to e: a silent skip; c then a silent end; ``length`` silent steps,
    then c, then d."""
    net = PetriNet()
    s, p, q, u, e = (net.add_place(n) for n in ("s", "p", "q", "u", "e"))
    chain = [s, *(net.add_place(f"k{i}") for i in range(length - 1)), p]
    for label, i, o in ((None, s, e), ("c", p, q), ("d", q, e), ("c", s, u), (None, u, e)):
        t = net.add_transition(label)
        net.arc_in(i, t)
        net.arc_out(t, o)
    for i, o in pairwise(chain):
        t = net.add_transition(None)
        net.arc_in(i, t)
        net.arc_out(t, o)
    net.initial, net.final = {s: 1}, {e: 1}
    return net


def test_silent_bound_widens_past_a_low_estimate() -> None:
    # the estimate prices each gap by its cheapest marking (c enabled at once, d right after
    # some c), so the first tight passes fail; the optimum takes the long silent detour
    net = _detour(40)
    space = StateSpace(net)
    dp = _Dp(space)
    trace = [space.code["c"], space.code["d"]]
    assert dp._fitting_bound(trace) + 16 < 40
    found = dp.align(trace)
    assert found is not None
    cost, path = found
    assert cost == 40
    assert len([t for _, t, _ in path if t >= 0 and net.transitions[t].label is None]) == 40
    lp = LpAligner(net, 100_000, 100_000).align(trace)
    assert lp is not None and lp[0] == 40
    # c alone: c, then the silent end; d alone: a log move and the silent skip
    res = align(make_log([["c", "d"], ["c"], ["d"]]), net)
    assert [v.cost for v in res.variants if v is not None] == [40, 1, 10000 + 1]


def test_fitting_and_deviating_traces_on_the_chain() -> None:
    net = _parallel_chain(25)
    res = align(make_log([["a", "b"], ["b", "a"], ["a", "a", "b"]]), net)
    fits, swapped, extra = res.variants
    assert fits is not None and fits.cost == 27 and fits.fitness == 1.0
    # b a: one of them is a log move, the other's model move; silent steps stay 27
    assert swapped is not None and swapped.cost == 2 * 10000 + 27
    assert extra is not None and extra.cost == 10000 + 27
    # moves replay the trace: synchronous and log moves spell it out in order
    assert [m[0] for m in extra.moves if m[0] is not None] == ["a", "a", "b"]
