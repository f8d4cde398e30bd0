"""Inductive miner (IM) and inductive miner – infrequent (IMf).

Follows Leemans, *Robust Process Mining with Guarantees* (2017), with the cut and fall-through
order of pm4py's implementation so that results agree with the reference tool: exclusive-choice,
strict sequence, concurrency and loop cuts; fall-throughs empty traces, activity once per trace,
activity concurrent, strict tau loop, tau loop and flower. IMf filters the directly-follows graph
(edges below ``noise`` times the strongest outgoing edge of their source) when no cut is found.

The miner works on the variant level with integer-coded activities: a sub-log is a dict
``{trace: count}``.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ._log import LogInput, VariantLog, variant_log
from .errors import MiningError
from .process_tree import Operator, ProcessTree, fold, tau

__all__ = ["discover_inductive", "discover_inductive_variants"]

Trace = tuple[int, ...]
Log = dict[Trace, int]
Groups = list[set[int]]


@dataclass(slots=True)
class _Dfg:
    edges: dict[tuple[int, int], int] = field(default_factory=dict)
    start: dict[int, int] = field(default_factory=dict)
    end: dict[int, int] = field(default_factory=dict)

    def vertices(self) -> set[int]:
        out: set[int] = set(self.start) | set(self.end)
        for a, b in self.edges:
            out.add(a)
            out.add(b)
        return out


def _arrays(log: Log) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events of all traces end to end: activity, trace number, trace count (numpy)."""
    lens = np.fromiter(map(len, log), dtype=np.int64, count=len(log))
    flat = np.fromiter(itertools.chain.from_iterable(log), dtype=np.int64, count=int(lens.sum()))
    tid = np.repeat(np.arange(len(log), dtype=np.int64), lens)
    w = np.repeat(np.fromiter(log.values(), dtype=np.int64, count=len(log)), lens)
    return flat, tid, w


def _dfg_arrays(flat: np.ndarray, tid: np.ndarray, w: np.ndarray, k: int) -> _Dfg:
    """Directly-follows graph of the events given as arrays (vectorised)."""
    d = _Dfg()
    if flat.size == 0:
        return d
    same = tid[:-1] == tid[1:]
    key = flat[:-1][same] * k + flat[1:][same]
    mat = np.bincount(key, weights=w[:-1][same], minlength=k * k).astype(np.int64)
    nz = np.flatnonzero(mat)
    d.edges = {(int(x // k), int(x % k)): int(mat[x]) for x in nz}
    first = np.ones(flat.size, dtype=bool)
    first[1:] = ~same
    last = np.ones(flat.size, dtype=bool)
    last[:-1] = ~same
    for mask, target in ((first, d.start), (last, d.end)):
        counts = np.bincount(flat[mask], weights=w[mask], minlength=k).astype(np.int64)
        for a in np.flatnonzero(counts):
            target[int(a)] = int(counts[a])
    return d


def _dfg(log: Log, k: int) -> _Dfg:
    flat, tid, w = _arrays(log)
    return _dfg_arrays(flat, tid, w, k)


def _alphabet(log: Log) -> set[int]:
    out: set[int] = set()
    for t in log:
        out.update(t)
    return out


def _add(log: Log, trace: Trace, n: int) -> None:
    log[trace] = log.get(trace, 0) + n


# --------------------------------------------------------------------------- cuts


def _components(nodes: set[int], pairs: list[tuple[int, int]]) -> Groups:
    """Connected components (union-find), ordered by smallest member."""
    parent = {v: v for v in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    comps: dict[int, set[int]] = {}
    for v in sorted(nodes):
        comps.setdefault(find(v), set()).add(v)
    return sorted(comps.values(), key=min)


def _xor_cut(dfg: _Dfg) -> Groups | None:
    comps = _components(dfg.vertices(), list(dfg.edges))
    if len(comps) <= 1:
        return None
    return sorted(comps, key=sorted)


def _transitive(dfg: _Dfg, nodes: set[int]) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    succ_direct: dict[int, set[int]] = {v: set() for v in nodes}
    for a, b in dfg.edges:
        succ_direct[a].add(b)
    succ: dict[int, set[int]] = {}
    for v in nodes:
        seen: set[int] = set()
        stack = list(succ_direct[v])
        while stack:
            x = stack.pop()
            if x in seen:
                continue
            seen.add(x)
            stack.extend(succ_direct[x])
        succ[v] = seen
    pred: dict[int, set[int]] = {v: set() for v in nodes}
    for v, ss in succ.items():
        for s in ss:
            pred[s].add(v)
    return pred, succ


def _sequence_cut(dfg: _Dfg) -> Groups | None:
    nodes = dfg.vertices()
    if not nodes:
        return None
    pred, succ = _transitive(dfg, nodes)
    order = sorted(nodes)
    pairs = []
    for i, a in enumerate(order):
        for b in order[i + 1 :]:
            ab, ba = b in succ[a], a in succ[b]
            if ab == ba:
                pairs.append((a, b))
    groups = _components(nodes, pairs)
    n = len(nodes)
    groups.sort(key=lambda g: len(pred[min(g)]) + (n - len(succ[min(g)])))
    return groups if len(groups) > 1 else None


def _skippable(p: int, dfg: _Dfg, groups: Groups) -> bool:
    where = {a: i for i, g in enumerate(groups) for a in g}
    for a, b in dfg.edges:
        if where[a] < p < where[b]:
            return True
    if any(where[a] > p for a in dfg.start):
        return True
    return any(where[a] < p for a in dfg.end)


def _strict_sequence_cut(dfg: _Dfg) -> Groups | None:
    c = _sequence_cut(dfg)
    if c is None:
        return None
    big = 1 << 62
    start, end = set(dfg.start), set(dfg.end)
    mf = [-big if g & start else big for g in c]
    mt = [big if g & end else -big for g in c]
    cmap = {a: i for i, g in enumerate(c) for a in g}
    for a, b in dfg.edges:
        mf[cmap[b]] = min(mf[cmap[b]], cmap[a])
        mt[cmap[a]] = max(mt[cmap[a]], cmap[b])
    for p in range(len(c)):
        if _skippable(p, dfg, c):
            q = p - 1
            while q >= 0 and mt[q] <= p:
                c[p] = c[p] | c[q]
                c[q] = set()
                q -= 1
            q = p + 1
            while q < len(mf) and mf[q] >= p:
                c[p] = c[p] | c[q]
                c[q] = set()
                q += 1
    out = [g for g in c if g]
    return out if len(out) > 1 else None


def _concurrency_cut(dfg: _Dfg) -> Groups | None:
    nodes = dfg.vertices()
    if not nodes:
        return None
    order = sorted(nodes)
    edges = dfg.edges
    pairs = [
        (a, b)
        for i, a in enumerate(order)
        for b in order[i + 1 :]
        if (a, b) not in edges or (b, a) not in edges
    ]
    groups = _components(nodes, pairs)
    groups.sort(key=len)
    start, end = set(dfg.start), set(dfg.end)
    i = 0
    while i < len(groups) and len(groups) > 1:
        if groups[i] & start and groups[i] & end:
            i += 1
            continue
        g = groups.pop(i)
        groups[0 if i == 0 else i - 1] |= g
    return groups if len(groups) > 1 else None


def _loop_cut(dfg: _Dfg) -> Groups | None:
    if not dfg.edges:
        return None
    start, end = set(dfg.start), set(dfg.end)
    do = start | end
    inner = dfg.vertices() - do
    comps = _components(inner, [(a, b) for a, b in dfg.edges if a in inner and b in inner])
    where: dict[int, int] = {a: i for i, g in enumerate(comps) for a in g}
    merged: set[int] = set()
    for a, b in dfg.edges:
        # a body activity that is entered from a start (non-end) activity or leads to an end
        # (non-start) activity belongs to the body, not to the redo part
        if a in start and a not in end and b in where:
            merged.add(where[b])
        if b in end and b not in start and a in where:
            merged.add(where[a])
    for i, g in enumerate(comps):
        if i in merged:
            continue
        for a in g:
            if any(
                x == a and b in start and any((a, s) not in dfg.edges for s in start)
                for x, b in dfg.edges
            ) or any(
                x == a and b in end and any((e, a) not in dfg.edges for e in end)
                for b, x in dfg.edges
            ):
                merged.add(i)
                break
    redo: set[int] = set()
    for i, g in enumerate(comps):
        if i in merged:
            do |= g
        else:
            redo |= g
    if not redo:
        return None
    return [do, redo]


# --------------------------------------------------------------------------- projections


class _Events:
    """A sub-log as flat numpy arrays, for vectorised projections."""

    def __init__(self, log: Log, groups: Groups) -> None:
        self.weights = list(log.values())
        self.n = len(self.weights)
        self.flat, self.tid, _ = _arrays(log)
        lens = np.fromiter(map(len, log), dtype=np.int64, count=self.n)
        self.starts = np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
        self.lens = lens
        self.pos = np.arange(self.flat.size, dtype=np.int64) - self.starts[self.tid]
        top = int(self.flat.max()) + 1 if self.flat.size else 1
        lookup = np.full(max(top, max((max(g) for g in groups if g), default=0) + 1), -1)
        for i, g in enumerate(groups):
            for a in g:
                if a < lookup.size:
                    lookup[a] = i
        self.group = lookup[self.flat] if self.flat.size else self.flat

    def collect(self, sel: np.ndarray) -> Log:
        counts = np.bincount(self.tid[sel], minlength=self.n)
        pieces = np.split(self.flat[sel], np.cumsum(counts)[:-1])
        out: Log = {}
        for piece, n in zip(pieces, self.weights, strict=True):
            _add(out, tuple(piece.tolist()), n)
        return out


def _project_xor(log: Log, groups: Groups) -> list[Log]:
    ev = _Events(log, groups)
    k = len(groups)
    if ev.flat.size == 0:  # only empty traces: ties go to the last group
        return [{} for _ in groups[1:]] + [dict(log)]
    valid = ev.group >= 0
    counts = np.zeros((ev.n, k), dtype=np.int64)
    np.add.at(counts, (ev.tid[valid], ev.group[valid]), 1)
    # most events wins; ties go to the later group (pm4py's order)
    best = k - 1 - np.argmax(counts[:, ::-1], axis=1)
    logs: list[Log] = [{} for _ in groups]
    chosen = best[ev.tid] == ev.group
    counts_sel = np.bincount(ev.tid[chosen], minlength=ev.n)
    pieces = np.split(ev.flat[chosen], np.cumsum(counts_sel)[:-1])
    for t, (piece, n) in enumerate(zip(pieces, ev.weights, strict=True)):
        _add(logs[int(best[t])], tuple(piece.tolist()), n)
    return logs


def _project_sequence(log: Log, groups: Groups) -> list[Log]:
    ev = _Events(log, groups)
    if ev.flat.size == 0:
        return [dict(log) if i == 0 else {(): sum(log.values())} for i in range(len(groups))]
    split = np.zeros(ev.n, dtype=np.int64)
    nonempty = ev.lens > 0
    starts_ne = ev.starts[nonempty]
    logs: list[Log] = []
    for i in range(len(groups)):
        g = ev.group
        delta = np.where(g == i, -1, np.where((g >= 0) & (g < i), 0, 1))
        active = ev.pos >= split[ev.tid]
        delta = np.where(active, delta, 0)
        cs = np.cumsum(delta)
        base = np.where(ev.starts > 0, cs[np.maximum(ev.starts - 1, 0)], 0)
        adj = cs - base[ev.tid]
        minv = np.zeros(ev.n, dtype=np.int64)
        minv[nonempty] = np.minimum.reduceat(adj, starts_ne)
        per_event_min = minv[ev.tid]
        cand = np.flatnonzero((adj == per_event_min) & (per_event_min < 0))
        new_split = split.copy()
        if cand.size:
            traces, first = np.unique(ev.tid[cand], return_index=True)
            new_split[traces] = ev.pos[cand[first]] + 1
        sel = active & (ev.pos < new_split[ev.tid]) & (g == i)
        logs.append(ev.collect(sel))
        split = new_split
    return logs


def _project_filter(log: Log, groups: Groups) -> list[Log]:
    ev = _Events(log, groups)
    if ev.flat.size == 0:
        return [dict(log) for _ in groups]
    return [ev.collect(ev.group == i) for i in range(len(groups))]


def _project_loop(log: Log, groups: Groups) -> list[Log]:
    do, redo = groups
    do_log: Log = {}
    redo_log: Log = {}
    for t, n in log.items():
        do_t: list[int] = []
        redo_t: list[int] = []
        for e in t:
            if e in do:
                do_t.append(e)
                if redo_t:
                    _add(redo_log, tuple(redo_t), n)
                    redo_t = []
            elif e in redo:
                redo_t.append(e)
                if do_t:
                    _add(do_log, tuple(do_t), n)
                    do_t = []
            else:
                if do_t:
                    _add(do_log, tuple(do_t), n)
                    do_t = []
                if redo_t:
                    _add(redo_log, tuple(redo_t), n)
                    redo_t = []
        if redo_t:
            _add(redo_log, tuple(redo_t), n)
        _add(do_log, tuple(do_t), n)
    return [do_log, redo_log]


_CUTS = (
    (Operator.XOR, _xor_cut, _project_xor),
    (Operator.SEQUENCE, _strict_sequence_cut, _project_sequence),
    (Operator.PARALLEL, _concurrency_cut, _project_filter),
    (Operator.LOOP, _loop_cut, _project_loop),
)


def _find_cut(log: Log, dfg: _Dfg) -> tuple[Operator, list[Log]] | None:
    for op, detect, project in _CUTS:
        groups = detect(dfg)
        if groups is not None:
            return op, project(log, groups)
    return None


# --------------------------------------------------------------------------- fall-throughs


def _split_by(log: Log, cand: int) -> list[Log]:
    l_a: Log = {}
    l_o: Log = {}
    for t, n in log.items():
        _add(l_a, tuple(e for e in t if e == cand), n)
        _add(l_o, tuple(e for e in t if e != cand), n)
    return [l_a, l_o]


def _once_per_trace(log: Log) -> int | None:
    cands = _alphabet(log)
    for t in log:
        c = Counter(t)
        cands &= {a for a, k in c.items() if k == 1}
        if not cands:
            return None
    return min(cands) if cands else None


def _dfg_matrix(mat: np.ndarray, start: np.ndarray, end: np.ndarray, k: int) -> _Dfg:
    d = _Dfg()
    nz = np.flatnonzero(mat)
    d.edges = {(int(x // k), int(x % k)): int(mat.flat[x]) for x in nz}
    d.start = {int(a): int(start[a]) for a in np.flatnonzero(start)}
    d.end = {int(a): int(end[a]) for a in np.flatnonzero(end)}
    return d


def _activity_concurrent(log: Log, k: int) -> int | None:
    """First activity (by code) whose removal from the log lets a cut be found."""
    for a, dfg in _dfgs_without_each(log, k):
        if any(detect(dfg) is not None for _, detect, _ in _CUTS):
            return a
    return None


def _dfgs_without_each(log: Log, k: int) -> Iterator[tuple[int, _Dfg]]:
    """``(a, DFG of the log with every a removed)`` for each activity, by code.

    Derived from the log's DFG instead of recounted: row and column ``a`` vanish, and every
    maximal run of ``a`` inside a trace bridges the events around it (``x a…a y`` adds
    ``x→y``; a run at the start or end hands the start or end to its neighbour). Each costs
    the occurrences of ``a``, not the whole log.
    """
    flat, tid, w = _arrays(log)
    n = flat.size
    if n == 0:
        return
    same = tid[:-1] == tid[1:]
    key = flat[:-1][same] * k + flat[1:][same]
    mat = np.bincount(key, weights=w[:-1][same], minlength=k * k).astype(np.int64).reshape(k, k)
    first = np.ones(n, dtype=bool)
    first[1:] = ~same
    last = np.ones(n, dtype=bool)
    last[:-1] = ~same
    start = np.bincount(flat[first], weights=w[first], minlength=k).astype(np.int64)
    end = np.bincount(flat[last], weights=w[last], minlength=k).astype(np.int64)
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(k + 1))
    for a in sorted(_alphabet(log)):
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
        yield a, _dfg_matrix(m, st, en, k)


def _tau_loop(log: Log, strict: bool) -> Log | None:
    start = {t[0] for t in log if t}
    end = {t[-1] for t in log if t}
    proj: Log = {}
    for t, n in log.items():
        x = 0
        for i in range(1, len(t)):
            if t[i] in start and (not strict or t[i - 1] in end):
                _add(proj, t[x:i], n)
                x = i
        _add(proj, t[x:], n)
    return proj if sum(proj.values()) > sum(log.values()) else None


class _Miner:
    def __init__(self, names: tuple[str, ...], noise: float | None) -> None:
        self.names = names
        self.k = max(len(names), 1)
        self.noise = noise  # None = plain IM

    def mine(self, log: Log) -> ProcessTree:
        if () in log:
            rest = {t: n for t, n in log.items() if t}
            if self.noise is None:
                return self._xor_tau(rest)
            total = sum(log.values())
            if total - sum(rest.values()) > self.noise * total:
                return self._xor_tau(rest)
            log = rest
        base = self._base(log)
        if base is not None:
            return base
        dfg = _dfg(log, self.k)
        cut = _find_cut(log, dfg)
        if cut is None and self.noise is not None:
            cut = _find_cut(log, self._filter(dfg))
        if cut is not None:
            return self._node(cut[0], cut[1])
        return self._fall_through(log)

    def _xor_tau(self, rest: Log) -> ProcessTree:
        if not rest:
            return tau()
        return ProcessTree(Operator.XOR, None, (tau(), self.mine(rest)))

    def _base(self, log: Log) -> ProcessTree | None:
        if not log:
            return tau()
        if len(log) == 1:
            (t,) = log
            if len(t) <= 1:
                return ProcessTree(label=self.names[t[0]]) if t else tau()
        return None

    def _node(self, op: Operator, logs: list[Log]) -> ProcessTree:
        return ProcessTree(op, None, tuple(self.mine(sub) for sub in logs))

    def _filter(self, dfg: _Dfg) -> _Dfg:
        noise = self.noise or 0.0
        max_out: dict[int, int] = {}
        for (a, _), n in dfg.edges.items():
            max_out[a] = max(max_out.get(a, 0), n)
            if a in dfg.end:
                max_out[a] = max(max_out[a], dfg.end[a])
        edges = {e: n for e, n in dfg.edges.items() if n > noise * max_out[e[0]]}
        top = max(dfg.start.values())
        start = {a: n for a, n in dfg.start.items() if n >= top * noise}
        return _Dfg(edges, start, dict(dfg.end))

    def _fall_through(self, log: Log) -> ProcessTree:
        cand = _once_per_trace(log)
        if cand is None:
            cand = _activity_concurrent(log, self.k)
        if cand is not None:
            return self._node(Operator.PARALLEL, _split_by(log, cand))
        for strict in (True, False):
            proj = _tau_loop(log, strict)
            if proj is not None:
                return ProcessTree(Operator.LOOP, None, (self.mine(proj), tau()))
        redo: Log = {(a,): 1 for a in sorted(_alphabet(log))}
        return ProcessTree(Operator.LOOP, None, (tau(), self.mine(redo)))


def discover_inductive_variants(vlog: VariantLog, noise: float = 0.0) -> ProcessTree:
    """Inductive miner over an already compressed log (see :func:`discover_inductive`)."""
    if not 0.0 <= noise <= 1.0:
        raise MiningError(
            f"noise threshold must be between 0 and 1, got {noise}",
            code="mining.discovery.noise",
            hint="use e.g. 0.2 to drop directly-follows edges under 20% of the strongest",
        )
    log: Log = {}
    for v, n in zip(vlog.variants, vlog.counts.tolist(), strict=True):
        _add(log, v, int(n))
    miner = _Miner(vlog.activities, noise if noise > 0.0 else None)
    return fold(miner.mine(log))


def discover_inductive(
    log: LogInput | VariantLog, noise: float = 0.0, *, lifecycle: str | None = "complete"
) -> ProcessTree:
    """Discover a process tree with the inductive miner.

    Args:
        log: Event log frame (or a :class:`VariantLog`).
        noise: 0 runs IM (perfect fitness guaranteed); above 0 runs IMf with this noise
            threshold, as pm4py's ``discover_process_tree_inductive(noise_threshold=...)``.
        lifecycle: Lifecycle transition of the events to mine (``None``: all events).

    Returns:
        The discovered (folded) process tree.
    """
    vlog = log if isinstance(log, VariantLog) else variant_log(log, lifecycle=lifecycle)
    return discover_inductive_variants(vlog, noise)
