"""Heuristics miner: a dependency graph with frequency thresholds, and its Petri net.

Dependency measures as in Weijters & van der Aalst's heuristics miner (and pm4py):

* ``a => b = (|a>b| - |b>a|) / (|a>b| + |b>a| + 1)`` for ``a != b``,
* ``a => a = |a>a| / (|a>a| + 1)`` (self loops),
* ``a =>2 b = (|a>>b| + |b>>a|) / (|a>>b| + |b>>a| + 1)`` (length-two loops, ``aba`` patterns),
* ``a => (b ∧ c) = (|b>c| + |c>b|) / (|a>b| + |a>c| + 1)`` (AND measure of two successors).

Split and join semantics (which successors fire together) are taken from the log as in the
flexible heuristics miner: every event is bound to the latest earlier occurrence of each of its
dependency-graph predecessors that no other occurrence of the same activity claimed before. The
Petri net has, per activity, an input and an output place, one silent transition per observed
output binding and per observed input binding, and silent start/end transitions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ._log import LogInput, VariantLog, variant_log
from .errors import MiningError
from .petri import PetriNet, reduce_silent

__all__ = ["HeuristicsNet", "discover_heuristics", "heuristics_to_petri_net"]

_START = -1
_END = -2


@dataclass(frozen=True, slots=True)
class HeuristicsNet:
    """Result of the heuristics miner.

    Attributes:
        activities: Activity name → number of occurrences (activities kept by the filters).
        edges: ``(a, b)`` → ``(directly-follows count, dependency value)`` of kept arcs.
        start: Start activities with counts.
        end: End activities with counts.
        and_pairs: Pairs of successors ``(a, b, c)`` whose AND measure reaches the threshold.
        output_bindings: Activity → observed output bindings (sets of successors) with counts;
            ``"▶"`` names the artificial start.
        input_bindings: Activity → observed input bindings with counts; ``"■"`` the end.
    """

    activities: dict[str, int]
    edges: dict[tuple[str, str], tuple[int, float]]
    start: dict[str, int]
    end: dict[str, int]
    and_pairs: tuple[tuple[str, str, str], ...]
    output_bindings: dict[str, dict[frozenset[str], int]]
    input_bindings: dict[str, dict[frozenset[str], int]]


def _check_unit(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise MiningError(
            f"{name} must be between 0 and 1, got {value}",
            code="mining.heuristics.parameter",
        )


def discover_heuristics(
    log: LogInput | VariantLog,
    *,
    dependency_threshold: float = 0.5,
    and_threshold: float = 0.65,
    loop_two_threshold: float = 0.5,
    min_act_count: int = 1,
    min_dfg_occurrences: int = 1,
    dfg_pre_cleaning_noise: float = 0.05,
    all_connected: bool = True,
    lifecycle: str | None = "complete",
) -> HeuristicsNet:
    """Discover a heuristics net (defaults as pm4py's).

    Args:
        log: Event log frame (or a :class:`VariantLog`).
        dependency_threshold: Minimum dependency value of an arc.
        and_threshold: Minimum AND measure for two successors to count as concurrent.
        loop_two_threshold: Minimum length-two-loop measure.
        min_act_count: Activities occurring fewer times are dropped.
        min_dfg_occurrences: Directly-follows pairs occurring fewer times are dropped.
        dfg_pre_cleaning_noise: Drop directly-follows pairs below this share of the strongest
            pair leaving the same activity.
        all_connected: Give every activity its best predecessor and successor even when under
            the threshold (the classic "all tasks connected" heuristic).
        lifecycle: Lifecycle transition of the events to mine (``None``: all).
    """
    for name, value in (
        ("dependency_threshold", dependency_threshold),
        ("and_threshold", and_threshold),
        ("loop_two_threshold", loop_two_threshold),
        ("dfg_pre_cleaning_noise", dfg_pre_cleaning_noise),
    ):
        _check_unit(name, value)
    vlog = log if isinstance(log, VariantLog) else variant_log(log, lifecycle=lifecycle)
    names = vlog.activities
    counts = vlog.counts.tolist()
    act: Counter[int] = Counter()
    for v, n in zip(vlog.variants, counts, strict=True):
        for a in v:
            act[a] += n
    keep = {a for a, n in act.items() if n >= min_act_count}
    traces = [
        (tuple(a for a in v if a in keep), n) for v, n in zip(vlog.variants, counts, strict=True)
    ]
    dfg: Counter[tuple[int, int]] = Counter()
    two: Counter[tuple[int, int]] = Counter()
    start: Counter[int] = Counter()
    end: Counter[int] = Counter()
    for t, n in traces:
        if not t:
            continue
        start[t[0]] += n
        end[t[-1]] += n
        for i in range(len(t) - 1):
            dfg[(t[i], t[i + 1])] += n
            if i + 2 < len(t) and t[i] == t[i + 2] and t[i] != t[i + 1]:
                two[(t[i], t[i + 1])] += n
    max_out: dict[int, int] = {}
    for (a, _), n in dfg.items():
        max_out[a] = max(max_out.get(a, 0), n)
    dfg = Counter(
        {
            e: n
            for e, n in dfg.items()
            if n >= min_dfg_occurrences and n >= dfg_pre_cleaning_noise * max_out[e[0]]
        }
    )

    def dep(a: int, b: int) -> float:
        ab, ba = dfg.get((a, b), 0), dfg.get((b, a), 0)
        if a == b:
            return ab / (ab + 1)
        return (ab - ba) / (ab + ba + 1)

    edges: dict[tuple[int, int], float] = {}
    for a, b in dfg:
        d = dep(a, b)
        if d >= dependency_threshold:
            edges[(a, b)] = d
    for (a, b), n in two.items():
        ab, ba = n, two.get((b, a), 0)
        d2 = (ab + ba) / (ab + ba + 1)
        if d2 >= loop_two_threshold and (a, b) in dfg and (b, a) in dfg:
            edges[(a, b)] = max(edges.get((a, b), 0.0), dep(a, b))
            edges[(b, a)] = max(edges.get((b, a), 0.0), dep(b, a))
    if all_connected:
        for a in sorted(keep):
            outs = [(dep(a, b), b) for (x, b) in dfg if x == a and b != a]
            if a not in end and outs and not any(x == a and y != a for x, y in edges):
                d, b = max(outs)
                edges[(a, b)] = d
            ins = [(dep(b, a), b) for (b, x) in dfg if x == a and b != a]
            if a not in start and ins and not any(y == a and x != a for x, y in edges):
                d, b = max(ins)
                edges[(b, a)] = d
    succ: dict[int, set[int]] = {}
    pred: dict[int, set[int]] = {}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
        pred.setdefault(b, set()).add(a)
    for s in start:
        succ.setdefault(_START, set()).add(s)
        pred.setdefault(s, set()).add(_START)
    for e in end:
        succ.setdefault(e, set()).add(_END)
        pred.setdefault(_END, set()).add(e)
    and_pairs: list[tuple[str, str, str]] = []
    for a, ss in succ.items():
        if a < 0:
            continue
        real = sorted(s for s in ss if s >= 0 and s != a)
        for i, b in enumerate(real):
            for c in real[i + 1 :]:
                m = (dfg.get((b, c), 0) + dfg.get((c, b), 0)) / (
                    dfg.get((a, b), 0) + dfg.get((a, c), 0) + 1
                )
                if m >= and_threshold:
                    and_pairs.append((names[a], names[b], names[c]))
    out_b: dict[int, Counter[frozenset[int]]] = {}
    in_b: dict[int, Counter[frozenset[int]]] = {}
    for t, n in traces:
        seq = (_START, *t, _END)
        _bind(seq, n, pred, out_b, in_b)

    def label(a: int) -> str:
        return "▶" if a == _START else "■" if a == _END else names[a]

    return HeuristicsNet(
        activities={names[a]: act[a] for a in sorted(keep)},
        edges={(names[a], names[b]): (dfg.get((a, b), 0), d) for (a, b), d in edges.items()},
        start={names[a]: n for a, n in start.items()},
        end={names[a]: n for a, n in end.items()},
        and_pairs=tuple(and_pairs),
        output_bindings={
            label(a): {frozenset(label(x) for x in b): n for b, n in c.items()}
            for a, c in out_b.items()
        },
        input_bindings={
            label(a): {frozenset(label(x) for x in b): n for b, n in c.items()}
            for a, c in in_b.items()
        },
    )


def _bind(
    seq: tuple[int, ...],
    n: int,
    pred: dict[int, set[int]],
    out_b: dict[int, Counter[frozenset[int]]],
    in_b: dict[int, Counter[frozenset[int]]],
) -> None:
    last: dict[int, int] = {}
    outputs: list[set[int]] = [set() for _ in seq]
    for j, b in enumerate(seq):
        prev_b = last.get(b, -1)
        chosen: set[int] = set()
        for a in pred.get(b, ()):
            i = last.get(a, -1)
            if a == b:
                if j > 0 and seq[j - 1] == b:
                    chosen.add(a)
                    outputs[j - 1].add(b)
            elif i >= 0 and i > prev_b:
                chosen.add(a)
                outputs[i].add(b)
        if j > 0:
            in_b.setdefault(b, Counter())[frozenset(chosen)] += n
        last[b] = j
    for i, a in enumerate(seq[:-1]):
        out_b.setdefault(a, Counter())[frozenset(outputs[i])] += n


def heuristics_to_petri_net(hnet: HeuristicsNet, *, reduce: bool = True) -> PetriNet:
    """Petri net of a heuristics net (see the module docs); not guaranteed to be sound."""
    net = PetriNet()
    source = net.add_place("source")
    sink = net.add_place("sink")
    inp: dict[str, int] = {}
    outp: dict[str, int] = {}
    for a in ["▶", *hnet.activities, "■"]:
        inp[a] = net.add_place(f"in:{a}")
        outp[a] = net.add_place(f"out:{a}")
    t = net.add_transition(None, "start")
    net.arc_in(source, t)
    net.arc_out(t, outp["▶"])
    t = net.add_transition(None, "end")
    net.arc_in(inp["■"], t)
    net.arc_out(t, sink)
    for a in hnet.activities:
        t = net.add_transition(a, a)
        net.arc_in(inp[a], t)
        net.arc_out(t, outp[a])
    arc_place: dict[tuple[str, str], int] = {}

    def between(a: str, b: str) -> int:
        if (a, b) not in arc_place:
            arc_place[(a, b)] = net.add_place(f"{a}->{b}")
        return arc_place[(a, b)]

    for a, bindings in sorted(hnet.output_bindings.items()):
        for k, binding in enumerate(sorted(bindings, key=sorted)):
            if not binding:
                continue
            t = net.add_transition(None, f"out:{a}:{k}")
            net.arc_in(outp[a], t)
            for b in sorted(binding):
                net.arc_out(t, between(a, b))
    for b, bindings in sorted(hnet.input_bindings.items()):
        for k, binding in enumerate(sorted(bindings, key=sorted)):
            if not binding:
                continue
            t = net.add_transition(None, f"in:{b}:{k}")
            for a in sorted(binding):
                net.arc_in(between(a, b), t)
            net.arc_out(t, inp[b])
    net.initial = {source: 1}
    net.final = {sink: 1}
    return reduce_silent(net) if reduce else net
