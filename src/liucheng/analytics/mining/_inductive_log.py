"""Sub-logs of the inductive miner as flat integer arrays, and the projections of the cuts.

A sub-log is every trace end to end (activity codes), the trace offsets and one weight per
trace. Traces are never merged into variants again after a split: nothing the miner computes
depends on whether two equal traces are one row of weight 2 or two rows of weight 1, and
keeping rows apart makes every projection a handful of whole-array operations instead of a
Python loop over traces (the recursion visits every event once per level).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "SubLog",
    "lookup",
    "once_per_trace",
    "project_filter",
    "project_loop",
    "project_sequence",
    "project_xor",
    "split_by",
    "tau_loop",
]

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
_EMPTY = np.zeros(0, dtype=np.int64)
# Odd 64-bit multipliers of the row hash (arithmetic wraps modulo 2**64).
_HASH_P = np.uint64(0x9E3779B97F4A7C15)
_HASH_Q = np.uint64(0xC2B2AE3D27D4EB4F)


class SubLog:
    """Traces as ``flat`` codes with offsets ``off`` (``n + 1``) and weights ``w`` (``n``)."""

    __slots__ = ("_pos", "_tid", "flat", "off", "w")

    def __init__(self, flat: I64, off: I64, w: I64) -> None:
        self.flat = flat
        self.off = off
        self.w = w
        self._tid: I64 | None = None
        self._pos: I64 | None = None

    @classmethod
    def from_traces(cls, traces: list[tuple[int, ...]], weights: list[int]) -> SubLog:
        """A sub-log from explicit traces (e.g. a variant log)."""
        lens = np.fromiter(map(len, traces), dtype=np.int64, count=len(traces))
        flat = np.fromiter((a for t in traces for a in t), dtype=np.int64, count=int(lens.sum()))
        off = np.zeros(len(traces) + 1, dtype=np.int64)
        np.cumsum(lens, out=off[1:])
        return cls(flat, off, np.asarray(weights, dtype=np.int64))

    @property
    def n(self) -> int:
        """Number of trace rows."""
        return len(self.w)

    @property
    def lens(self) -> I64:
        """Trace lengths."""
        return np.diff(self.off)

    @property
    def tid(self) -> I64:
        """Trace row of every event."""
        if self._tid is None:
            self._tid = np.repeat(np.arange(self.n, dtype=np.int64), self.lens)
        return self._tid

    @property
    def pos(self) -> I64:
        """Position of every event inside its trace."""
        if self._pos is None:
            self._pos = np.arange(self.flat.size, dtype=np.int64) - self.off[:-1][self.tid]
        return self._pos

    def total(self) -> int:
        """Number of cases (sum of weights)."""
        return int(self.w.sum())

    def traces(self) -> list[tuple[int, ...]]:
        """The rows as tuples (for tests and debugging)."""
        flat = self.flat.tolist()
        off = self.off.tolist()
        return [tuple(flat[off[i] : off[i + 1]]) for i in range(self.n)]

    def take(self, keep_ev: Mask, keep_tr: Mask | None = None) -> SubLog:
        """The rows in ``keep_tr`` (all by default), each cut down to its events in ``keep_ev``."""
        ev = keep_ev if keep_tr is None else keep_ev & keep_tr[self.tid]
        cnt = np.bincount(self.tid[ev], minlength=self.n)
        w = self.w
        if keep_tr is not None:
            cnt, w = cnt[keep_tr], w[keep_tr]
        off = np.zeros(len(cnt) + 1, dtype=np.int64)
        np.cumsum(cnt, out=off[1:])
        return SubLog(self.flat[ev], off, w)

    def merged(self) -> SubLog:
        """Equal rows merged into one (weights added), in order of first occurrence.

        Rows are bucketed by a polynomial hash of their codes and every row is then compared
        with its bucket's first row: on any collision nothing is merged (merging only saves
        work, the miner's result does not depend on it).
        """
        n = self.n
        if n < 2:
            return self
        lens = self.lens
        top = int(lens.max())
        pw = np.cumprod(np.full(max(top, 1), _HASH_P, dtype=np.uint64))
        h = np.full(n, np.uint64(0), dtype=np.uint64)
        if self.flat.size:
            vals = (self.flat.astype(np.uint64) + np.uint64(1)) * pw[self.pos]
            ne = lens > 0
            h[ne] = np.add.reduceat(vals, self.off[:-1][ne])
        h = h * _HASH_Q + lens.astype(np.uint64)
        _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
        if len(first) == n:
            return self
        rep = first[inverse]
        tid, pos = self.tid, self.pos
        if not (
            np.array_equal(lens[rep], lens)
            and np.array_equal(self.flat[self.off[:-1][rep][tid] + pos], self.flat)
        ):
            return self
        keep = np.zeros(n, dtype=np.bool_)
        keep[first] = True
        out = self.rows(keep)
        summed = np.bincount(inverse, weights=self.w, minlength=len(first))
        out.w = np.rint(summed[inverse[keep]]).astype(np.int64)
        return out

    def rows(self, keep_tr: Mask) -> SubLog:
        """Whole rows in ``keep_tr``."""
        return self.take(np.ones(self.flat.size, dtype=np.bool_), keep_tr)


def lookup(groups: list[int], k: int) -> I64:
    """Group index per activity code (``-1``: in no group); groups are activity bitsets."""
    out = np.full(k, -1, dtype=np.int64)
    for i, g in enumerate(groups):
        rest = g
        while rest:
            low = rest & -rest
            out[low.bit_length() - 1] = i
            rest ^= low
    return out


def project_xor(log: SubLog, groups: list[int], k: int) -> list[SubLog]:
    """Each trace goes whole to the group holding most of its events (ties: the later group)."""
    ng = len(groups)
    if log.flat.size == 0:  # only empty traces: ties go to the last group
        return [_empties(0) for _ in groups[1:]] + [log]
    grp = lookup(groups, k)[log.flat]
    valid = grp >= 0
    counts = np.bincount(log.tid[valid] * ng + grp[valid], minlength=log.n * ng)
    best = ng - 1 - np.argmax(counts.reshape(log.n, ng)[:, ::-1], axis=1)
    chosen = best[log.tid] == grp
    return [log.take(chosen, best == i) for i in range(ng)]


def project_sequence(log: SubLog, groups: list[int], k: int) -> list[SubLog]:
    """Split every trace into consecutive parts, one per group, where it deviates least."""
    if log.flat.size == 0:
        return [log] + [SubLog(_EMPTY, np.zeros(log.n + 1, np.int64), log.w) for _ in groups[1:]]
    g = lookup(groups, k)[log.flat]
    tid, pos = log.tid, log.pos
    starts, lens = log.off[:-1], log.lens
    split = np.zeros(log.n, dtype=np.int64)
    nonempty = lens > 0
    starts_ne = starts[nonempty]
    out: list[SubLog] = []
    for i in range(len(groups)):
        delta = np.where(g == i, -1, np.where((g >= 0) & (g < i), 0, 1))
        active = pos >= split[tid]
        delta = np.where(active, delta, 0)
        cs = np.cumsum(delta)
        base = np.where(starts > 0, cs[np.maximum(starts - 1, 0)], 0)
        adj = cs - base[tid]
        minv = np.zeros(log.n, dtype=np.int64)
        minv[nonempty] = np.minimum.reduceat(adj, starts_ne)
        per_event_min = minv[tid]
        cand = np.flatnonzero((adj == per_event_min) & (per_event_min < 0))
        new_split = split.copy()
        if cand.size:
            traces, first = np.unique(tid[cand], return_index=True)
            new_split[traces] = pos[cand[first]] + 1
        out.append(log.take(active & (pos < new_split[tid]) & (g == i)))
        split = new_split
    return out


def project_filter(log: SubLog, groups: list[int], k: int) -> list[SubLog]:
    """Every trace restricted to each group (concurrency)."""
    if log.flat.size == 0:
        return [log for _ in groups]
    g = lookup(groups, k)[log.flat]
    return [log.take(g == i) for i in range(len(groups))]


def project_loop(log: SubLog, groups: list[int], k: int) -> list[SubLog]:
    """Loop ``[do, redo]``: every maximal run of do (redo) events becomes a do (redo) trace.

    Events of neither part end the current run. A trace whose last event is not a do event
    (or that is empty) adds one empty do trace, as pm4py's projection does.
    """
    cls = lookup(groups, k)[log.flat] if log.flat.size else _EMPTY
    first = log.pos == 0
    prev_cls = np.empty_like(cls)
    if cls.size:
        prev_cls[0] = -1
        prev_cls[1:] = cls[:-1]
    prev_cls[first] = -1
    parts: list[SubLog] = []
    for part in (0, 1):
        mine = cls == part
        run_start = np.flatnonzero(mine & (prev_cls != part))
        rank = np.cumsum(mine) - 1  # index of every kept event among the kept ones
        off = np.append(rank[run_start], np.count_nonzero(mine)).astype(np.int64)
        w = log.w[log.tid[run_start]]
        flat = log.flat[mine]
        if part == 0:
            lens = log.lens
            last = log.off[1:] - 1
            ends_do = np.zeros(log.n, dtype=np.bool_)
            ne = lens > 0
            ends_do[ne] = cls[last[ne]] == 0
            extra = log.w[~ends_do]
            off = np.append(off, np.full(len(extra), off[-1], dtype=np.int64))
            w = np.append(w, extra)
        parts.append(SubLog(flat, off, w.astype(np.int64)))
    return parts


def split_by(log: SubLog, cand: int) -> list[SubLog]:
    """``[the occurrences of cand, everything else]`` per trace (activity concurrent)."""
    is_c = log.flat == cand
    return [log.take(is_c), log.take(~is_c)]


def once_per_trace(log: SubLog, k: int) -> int | None:
    """Smallest activity that occurs exactly once in every trace."""
    if log.n == 0:
        return None
    counts = np.bincount(log.tid * k + log.flat, minlength=log.n * k).reshape(log.n, k)
    ok = np.flatnonzero((counts == 1).all(axis=0))
    return int(ok[0]) if ok.size else None


def tau_loop(log: SubLog, k: int, strict: bool) -> SubLog | None:
    """Cut traces before every start activity (strict: only right after an end activity)."""
    lens = log.lens
    ne = lens > 0
    is_start = np.zeros(k, dtype=np.bool_)
    is_start[log.flat[log.off[:-1][ne]]] = True
    cut = (log.pos > 0) & is_start[log.flat]
    if strict:
        is_end = np.zeros(k, dtype=np.bool_)
        is_end[log.flat[log.off[1:][ne] - 1]] = True
        prev_end = np.zeros(log.flat.size, dtype=np.bool_)
        prev_end[1:] = is_end[log.flat[:-1]]
        cut &= prev_end
    at = np.flatnonzero(cut)
    if at.size == 0:
        return None
    starts = np.concatenate((log.off[:-1], at))
    owner = np.concatenate((np.arange(log.n, dtype=np.int64), log.tid[at]))
    order = np.lexsort((starts, owner))
    off = np.append(starts[order], log.flat.size).astype(np.int64)
    return SubLog(log.flat, off, log.w[owner[order]])


def _empties(n: int) -> SubLog:
    return SubLog(_EMPTY, np.zeros(n + 1, dtype=np.int64), np.zeros(n, dtype=np.int64))
