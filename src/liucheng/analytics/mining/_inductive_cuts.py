"""Directly-follows graphs and cut detection of the inductive miner, on activity bitsets.

A DFG has a few dozen activities, so a set of activities is one Python ``int`` (bit ``a`` set
for activity code ``a``) and the graph algorithms (connected components, transitive closure)
are a few bitwise operations per activity. The cuts, their tie-breaks and their order are
those of pm4py's inductive miner (exclusive choice, strict sequence, concurrency, loop). Cuts
are returned as lists of activity bitsets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt

from ._inductive_log import SubLog

__all__ = ["CUTS", "Dfg", "bits", "dfg_of", "dfgs_without_each", "filter_dfg"]

I64 = npt.NDArray[np.int64]
Groups = list[int]
_BITS_VECTOR = 62  # up to this many activities, bitsets are built with one matrix product


def bits(mask: int) -> Iterator[int]:
    """Members of a bitset, ascending."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class Dfg:
    """Counts (``mat[a, b]``, ``start``, ``end``) and their bitsets (``succ``, ``pred``...)."""

    __slots__ = (
        "adj",
        "emask",
        "end",
        "has_edges",
        "mat",
        "pred",
        "smask",
        "start",
        "succ",
        "vmask",
    )

    def __init__(self, mat: I64, start: I64, end: I64) -> None:
        self.mat, self.start, self.end = mat, start, end
        k = len(start)
        adj = mat > 0
        out_any, in_any = adj.any(axis=1), adj.any(axis=0)
        self.adj = adj
        self.has_edges = bool(out_any.any())
        vertices = out_any | in_any | (start > 0) | (end > 0)
        if k <= _BITS_VECTOR:
            self.succ, self.pred = _bitsets(adj, k)
            weight = _weights(k)
            self.smask = int(weight[start > 0].sum())
            self.emask = int(weight[end > 0].sum())
            self.vmask = int(weight[vertices].sum())
        else:
            succ, pred = [0] * k, [0] * k
            rows, cols = np.nonzero(adj)
            for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
                succ[a] |= 1 << b
                pred[b] |= 1 << a
            self.succ, self.pred = succ, pred
            self.smask = sum(1 << a for a in np.flatnonzero(start).tolist())
            self.emask = sum(1 << a for a in np.flatnonzero(end).tolist())
            self.vmask = sum(1 << a for a in np.flatnonzero(vertices).tolist())


def _weights(k: int) -> I64:
    return np.left_shift(np.int64(1), np.arange(k, dtype=np.int64))


def _bitsets(adj: npt.NDArray[np.bool_], k: int) -> tuple[list[int], list[int]]:
    """Row and column bitsets of a boolean ``k × k`` matrix (``k`` at most 62)."""
    weight = _weights(k)
    a = adj.astype(np.int64)
    return (a @ weight).tolist(), (weight @ a).tolist()


def dfg_of(log: SubLog, k: int) -> Dfg:
    """The directly-follows graph of a sub-log (weighted by trace weights)."""
    mat, start, end = _counts(log, k)
    return Dfg(mat, start, end)


def _counts(log: SubLog, k: int) -> tuple[I64, I64, I64]:
    flat, tid, w = log.flat, log.tid, log.w
    if flat.size == 0:
        z = np.zeros(k, dtype=np.int64)
        return np.zeros((k, k), dtype=np.int64), z, z.copy()
    same = tid[:-1] == tid[1:]
    key = flat[:-1][same] * k + flat[1:][same]
    wt = w[tid[:-1][same]]
    mat = np.bincount(key, weights=wt, minlength=k * k).astype(np.int64).reshape(k, k)
    ne = log.lens > 0
    heads = flat[log.off[:-1][ne]]
    tails = flat[log.off[1:][ne] - 1]
    start = np.bincount(heads, weights=w[ne], minlength=k).astype(np.int64)
    end = np.bincount(tails, weights=w[ne], minlength=k).astype(np.int64)
    return mat, start, end


def filter_dfg(dfg: Dfg, noise: float) -> Dfg:
    """IMf: drop edges under ``noise`` times the strongest outgoing edge (or end count) of
    their source, and start activities under ``noise`` times the strongest start."""
    mat, end = dfg.mat, dfg.end
    has_out = mat.any(axis=1)
    strongest = mat.max(axis=1)
    strongest = np.where(has_out & (end > 0), np.maximum(strongest, end), strongest)
    kept = np.where(mat > noise * strongest[:, None], mat, 0)
    top = int(dfg.start.max())
    start = np.where(dfg.start >= top * noise, dfg.start, 0)
    return Dfg(kept, start, end.copy())


def dfgs_without_each(log: SubLog, k: int) -> Iterator[tuple[int, Dfg]]:
    """``(a, DFG of the log with every a removed)`` for each activity, by code.

    Derived from the log's DFG instead of recounted: row and column ``a`` vanish, and every
    maximal run of ``a`` inside a trace bridges the events around it (``x a…a y`` adds
    ``x→y``; a run at the start or end hands the start or end to its neighbour). Each costs
    the occurrences of ``a``, not the whole log.
    """
    flat, tid = log.flat, log.tid
    n = flat.size
    if n == 0:
        return
    w = log.w[tid]
    mat, start, end = _counts(log, k)
    first = log.pos == 0
    last = np.ones(n, dtype=np.bool_)
    last[:-1] = tid[:-1] != tid[1:]
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(k + 1))
    for a in np.flatnonzero(np.diff(bounds)).tolist():
        pos = order[bounds[a] : bounds[a + 1]]  # ascending positions of a
        # a run of a starts where the previous event is not an a of the same trace
        run_start = pos[first[pos] | (flat[np.maximum(pos - 1, 0)] != a)]
        run_end = pos[last[pos] | (flat[np.minimum(pos + 1, n - 1)] != a)]
        has_before = ~first[run_start]
        has_after = ~last[run_end]
        before = flat[np.maximum(run_start - 1, 0)]
        after = flat[np.minimum(run_end + 1, n - 1)]
        rw = w[run_start]
        m = mat.copy()
        m[a, :] = 0
        m[:, a] = 0
        both = has_before & has_after
        np.add.at(m, (before[both], after[both]), rw[both])
        st = start.copy()
        st[a] = 0
        only_after = ~has_before & has_after
        np.add.at(st, after[only_after], rw[only_after])
        en = end.copy()
        en[a] = 0
        only_before = has_before & ~has_after
        np.add.at(en, before[only_before], rw[only_before])
        yield a, Dfg(m, st, en)


# --------------------------------------------------------------------------- graph helpers


def _components(nodes: int, adj: list[int]) -> Groups:
    """Connected components of ``nodes`` under the symmetric ``adj``, ordered by least member."""
    comps: Groups = []
    rest = nodes
    while rest:
        comp = frontier = rest & -rest
        while frontier:
            grown = 0
            for v in bits(frontier):
                grown |= adj[v]
            frontier = grown & rest & ~comp
            comp |= frontier
        rest &= ~comp
        comps.append(comp)
    return comps


def _closure(dfg: Dfg) -> tuple[list[int], list[int]]:
    """Transitive closure: ``reach[a]`` (reachable by one or more edges) and its transpose."""
    k = len(dfg.succ)
    if k <= _BITS_VECTOR:
        r = dfg.adj.astype(np.int32)
        while True:  # squaring: paths twice as long each round
            nxt = ((r + r @ r) > 0).astype(np.int32)
            if np.array_equal(nxt, r):
                break
            r = nxt
        return _bitsets(r > 0, k)
    nodes = list(bits(dfg.vmask))
    reach, back = list(dfg.succ), list(dfg.pred)
    for closure in (reach, back):  # Warshall; the transpose is the closure of the reverse
        for m in nodes:
            bm, rm = 1 << m, closure[m]
            for v in nodes:
                if closure[v] & bm:
                    closure[v] |= rm
    return reach, back


# --------------------------------------------------------------------------- cuts


def xor_cut(dfg: Dfg) -> Groups | None:
    """Exclusive choice: connected components of the undirected DFG."""
    adj = [s | p for s, p in zip(dfg.succ, dfg.pred, strict=True)]
    comps = _components(dfg.vmask, adj)
    return comps if len(comps) > 1 else None


def sequence_cut(dfg: Dfg) -> Groups | None:
    """Sequence: activities merged unless one reaches the other but not vice versa."""
    nodes = dfg.vmask
    if not nodes:
        return None
    reach, back = _closure(dfg)
    adj = [nodes & ~(1 << a) & ~(reach[a] ^ back[a]) for a in range(len(reach))]
    groups = _components(nodes, adj)
    n = nodes.bit_count()

    def rank(g: int) -> int:
        m = (g & -g).bit_length() - 1
        return back[m].bit_count() + (n - reach[m].bit_count())

    groups.sort(key=rank)
    return groups if len(groups) > 1 else None


def strict_sequence_cut(dfg: Dfg) -> Groups | None:
    """Sequence cut with skippable parts merged into their neighbours (pm4py's strict one)."""
    c = sequence_cut(dfg)
    if c is None:
        return None
    big = 1 << 62
    succ_of = [_union(dfg.succ, g) for g in c]
    pred_of = [_union(dfg.pred, g) for g in c]
    mf = [-big if g & dfg.smask else big for g in c]
    mt = [big if g & dfg.emask else -big for g in c]
    for j in range(len(c)):
        for i, g in enumerate(c):
            if pred_of[j] & g:  # an edge from group i into group j
                mf[j] = min(mf[j], i)
            if succ_of[j] & g:
                mt[j] = max(mt[j], i)
    for p in range(len(c)):
        if _skippable(p, dfg, c):
            q = p - 1
            while q >= 0 and mt[q] <= p:
                c[p] |= c[q]
                c[q] = 0
                q -= 1
            q = p + 1
            while q < len(mf) and mf[q] >= p:
                c[p] |= c[q]
                c[q] = 0
                q += 1
    out = [g for g in c if g]
    return out if len(out) > 1 else None


def _union(sets: list[int], members: int) -> int:
    out = 0
    for a in bits(members):
        out |= sets[a]
    return out


def _skippable(p: int, dfg: Dfg, groups: Groups) -> bool:
    before = after = 0
    for i, g in enumerate(groups):
        if i < p:
            before |= g
        elif i > p:
            after |= g
    if _union(dfg.succ, before) & after:  # an edge jumps over part p
        return True
    return bool(dfg.smask & after or dfg.emask & before)


def concurrency_cut(dfg: Dfg) -> Groups | None:
    """Concurrency: activities merged unless directly-follows holds both ways."""
    nodes = dfg.vmask
    if not nodes:
        return None
    adj = [
        nodes & ~(1 << a) & ~(s & p)
        for a, (s, p) in enumerate(zip(dfg.succ, dfg.pred, strict=True))
    ]
    groups = _components(nodes, adj)
    groups.sort(key=int.bit_count)
    i = 0
    while i < len(groups) and len(groups) > 1:
        if groups[i] & dfg.smask and groups[i] & dfg.emask:
            i += 1
            continue
        g = groups.pop(i)
        groups[0 if i == 0 else i - 1] |= g
    return groups if len(groups) > 1 else None


def loop_cut(dfg: Dfg) -> Groups | None:
    """Loop ``[do, redo]``: the start and end activities and what they need form the body."""
    if not dfg.has_edges:
        return None
    smask, emask = dfg.smask, dfg.emask
    do = smask | emask
    inner = dfg.vmask & ~do
    adj = [(s | p) & inner for s, p in zip(dfg.succ, dfg.pred, strict=True)]
    comps = _components(inner, adj)
    # a component entered from a start (non-end) activity or leading to an end (non-start)
    # activity belongs to the body, not to the redo part
    body = _union(dfg.succ, smask & ~emask) | _union(dfg.pred, emask & ~smask)
    redo = 0
    for g in comps:
        if g & body or any(_needs_body(dfg, a) for a in bits(g)):
            do |= g
        else:
            redo |= g
    return [do, redo] if redo else None


def _needs_body(dfg: Dfg, a: int) -> bool:
    s, p = dfg.succ[a], dfg.pred[a]
    return bool((s & dfg.smask and dfg.smask & ~s) or (p & dfg.emask and dfg.emask & ~p))


CUTS: tuple[tuple[str, Callable[[Dfg], Groups | None]], ...] = (
    ("xor", xor_cut),
    ("sequence", strict_sequence_cut),
    ("parallel", concurrency_cut),
    ("loop", loop_cut),
)
