"""Inductive miner (IM) and inductive miner – infrequent (IMf).

Follows Leemans, *Robust Process Mining with Guarantees* (2017), with the cut and fall-through
order of pm4py's implementation so that results agree with the reference tool: exclusive-choice,
strict sequence, concurrency and loop cuts; fall-throughs empty traces, activity once per trace,
activity concurrent, strict tau loop, tau loop and flower. IMf filters the directly-follows graph
(edges below ``noise`` times the strongest outgoing edge of their source) when no cut is found.

The miner starts from the log's variants with integer-coded activities; a sub-log is a set of
weighted traces held as flat arrays (:mod:`._inductive_log`) and cuts are found on activity
bitsets (:mod:`._inductive_cuts`). On a frame whose encoding is cached
(:func:`liucheng.analytics._fast.encoded`) the variants come from the codes directly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import pyarrow as pa

from . import _inductive_log as sub
from ._inductive_cuts import CUTS, Dfg, dfg_of, dfgs_without_each, filter_dfg
from ._inductive_log import SubLog
from ._log import LogInput, VariantLog, load_log, variant_log
from .errors import MiningError
from .process_tree import Operator, ProcessTree, fold, tau

__all__ = ["discover_inductive", "discover_inductive_variants"]

Projection = Callable[[SubLog, list[int], int], list[SubLog]]
_PROJECT: dict[str, tuple[Operator, Projection]] = {
    "xor": (Operator.XOR, sub.project_xor),
    "sequence": (Operator.SEQUENCE, sub.project_sequence),
    "parallel": (Operator.PARALLEL, sub.project_filter),
    "loop": (Operator.LOOP, sub.project_loop),
}
# Sub-logs with this many rows get equal rows merged first: a projection leaves many traces
# equal, and every later pass is over rows and events.
_MERGE_ROWS = 64
# Variants are grouped by their bytes: one byte per event up to this many activities.
_BYTE_CODES = 256


class _Miner:
    def __init__(self, names: tuple[str, ...], noise: float | None) -> None:
        self.names = names
        self.k = max(len(names), 1)
        self.noise = noise  # None = plain IM

    def mine(self, log: SubLog) -> ProcessTree:
        if log.n >= _MERGE_ROWS:
            log = log.merged()
        empty = log.lens == 0
        if empty.any():
            rest = log.rows(~empty)
            if self.noise is None:
                return self._xor_tau(rest)
            total = log.total()
            if total - rest.total() > self.noise * total:
                return self._xor_tau(rest)
            log = rest
        base = self._base(log)
        if base is not None:
            return base
        dfg = dfg_of(log, self.k)
        cut = self._find_cut(log, dfg)
        if cut is None and self.noise is not None:
            cut = self._find_cut(log, filter_dfg(dfg, self.noise))
        if cut is not None:
            return self._node(*cut)
        return self._fall_through(log)

    def _find_cut(self, log: SubLog, dfg: Dfg) -> tuple[Operator, list[SubLog]] | None:
        for name, detect in CUTS:
            groups = detect(dfg)
            if groups is not None:
                op, project = _PROJECT[name]
                return op, project(log, groups, self.k)
        return None

    def _xor_tau(self, rest: SubLog) -> ProcessTree:
        if rest.n == 0:
            return tau()
        return ProcessTree(Operator.XOR, None, (tau(), self.mine(rest)))

    def _base(self, log: SubLog) -> ProcessTree | None:
        if log.n == 0:
            return tau()
        flat = log.flat
        # one distinct trace of one event (empty traces are gone by now)
        if flat.size == log.n and int(flat.min()) == int(flat.max()):
            return ProcessTree(label=self.names[int(flat[0])])
        return None

    def _node(self, op: Operator, logs: list[SubLog]) -> ProcessTree:
        return ProcessTree(op, None, tuple(self.mine(part) for part in logs))

    def _fall_through(self, log: SubLog) -> ProcessTree:
        cand = sub.once_per_trace(log, self.k)
        if cand is None:
            cand = self._activity_concurrent(log)
        if cand is not None:
            return self._node(Operator.PARALLEL, sub.split_by(log, cand))
        for strict in (True, False):
            proj = sub.tau_loop(log, self.k, strict)
            if proj is not None:
                return ProcessTree(Operator.LOOP, None, (self.mine(proj), tau()))
        alphabet = np.unique(log.flat)
        flower = SubLog(
            alphabet.astype(np.int64),
            np.arange(alphabet.size + 1, dtype=np.int64),
            np.ones(alphabet.size, dtype=np.int64),
        )
        return ProcessTree(Operator.LOOP, None, (tau(), self.mine(flower)))

    def _activity_concurrent(self, log: SubLog) -> int | None:
        """First activity (by code) whose removal from the log lets a cut be found."""
        for a, dfg in dfgs_without_each(log, self.k):
            if any(detect(dfg) is not None for _, detect in CUTS):
                return a
        return None


def discover_inductive_variants(vlog: VariantLog, noise: float = 0.0) -> ProcessTree:
    """Inductive miner over an already compressed log (see :func:`discover_inductive`)."""
    _check_noise(noise)
    log = SubLog.from_traces(list(vlog.variants), vlog.counts.tolist())
    return _mine(vlog.activities, log, noise)


def _check_noise(noise: float) -> None:
    if not 0.0 <= noise <= 1.0:
        raise MiningError(
            f"noise threshold must be between 0 and 1, got {noise}",
            code="mining.discovery.noise",
            hint="use e.g. 0.2 to drop directly-follows edges under 20% of the strongest",
        )


def _mine(names: tuple[str, ...], log: SubLog, noise: float) -> ProcessTree:
    miner = _Miner(names, noise if noise > 0.0 else None)
    return fold(miner.mine(log))


def _encoded_variants(
    frame: pl.DataFrame, lifecycle: str | None
) -> tuple[tuple[str, ...], SubLog] | None:
    """The variants straight from the frame's (cached) integer encoding, or ``None``.

    The encoding keeps the lifecycle values as they are; the event-log contract has them in
    lower case, which is what the comparison with ``lifecycle`` relies on.
    """
    if "timestamp" not in frame.columns:
        return None
    from liucheng.analytics._fast import encoded

    enc = encoded(frame, "all" if lifecycle is None else lifecycle.lower())
    if enc is None:
        return None
    names = tuple(enc.activities.to_list())
    n = enc.n_cases
    if n == 0:
        return names, SubLog(np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int64))
    codes = enc.codes.astype(np.uint8) if len(names) <= _BYTE_CODES else enc.codes
    width = codes.itemsize
    seqs = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(enc.starts * width), pa.py_buffer(codes)]
    )
    # equal byte strings are equal variants: polars' hash grouping compares the values
    grouped = (
        pl.DataFrame([pl.Series("seq", seqs)])
        .with_row_index("case")
        .group_by("seq")
        .agg(pl.col("case").min().alias("first"), pl.len().alias("count"))
        .sort("first")
    )
    first = grouped.get_column("first").to_numpy().astype(np.int64)
    lens = np.diff(enc.starts)
    is_rep = np.zeros(n, dtype=np.bool_)
    is_rep[first] = True
    flat = enc.codes[np.repeat(is_rep, lens)].astype(np.int64)
    off = np.zeros(len(first) + 1, dtype=np.int64)
    np.cumsum(lens[first], out=off[1:])
    weights = grouped.get_column("count").to_numpy().astype(np.int64)
    return names, SubLog(flat, off, weights)


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
    _check_noise(noise)
    if isinstance(log, VariantLog):
        return discover_inductive_variants(log, noise)
    frame = load_log(log)
    fast = _encoded_variants(frame, lifecycle)
    if fast is not None:
        return _mine(*fast, noise)
    return discover_inductive_variants(
        variant_log(frame, lifecycle=lifecycle, with_cases=False), noise
    )
