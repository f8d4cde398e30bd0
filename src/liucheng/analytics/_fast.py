"""DFG and variants on the encoded log (numpy over activity codes), equal to the polars path.

The log is encoded once (:mod:`liucheng.history._encoded`, cached on the frame); every
analysis then counts integers: directly-follows pairs are ``code[i] * n + code[i + 1]`` where
events ``i`` and ``i + 1`` share a case, and a variant is a case's code sequence, grouped
exactly (by value, never "equal with high probability") as one binary value per case.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from liucheng.history._encoded import EncodedLog, cache_encoding, cached_encoding, encode_log

from ._log import LogLike, as_log

__all__ = ["dfg_tables", "encoded", "variants_table"]

I64 = npt.NDArray[np.int64]
# Past this many cells the pair counts use a sort (np.unique) instead of a dense bincount.
_DENSE_PAIRS = 1 << 22
# Up to this many activities a variant's codes are hashed as one byte per event.
_BYTE_CODES = 256


def encoded(log: LogLike, lifecycle: str) -> EncodedLog | None:
    """The encoded events of ``log`` kept by the lifecycle filter, or ``None`` (no fast path).

    A frame's encoding is cached on the frame passed in, so a second analysis of the same frame
    neither re-checks case contiguity nor re-hashes strings.
    """
    holder = log if isinstance(log, pl.DataFrame) else None
    frame: pl.DataFrame | None = None
    hit, enc = cached_encoding(holder) if holder is not None else (False, None)
    if not hit:
        frame = as_log(log)
        enc = encode_log(frame)
        if holder is not None:
            cache_encoding(holder, enc)
    if enc is None or lifecycle == "all":
        return enc
    wanted = lifecycle.lower()
    key = f"lifecycle:{wanted}"
    hit_subset = enc.cached_subset(key)
    if hit_subset is not None:
        return hit_subset
    if frame is None:
        frame = as_log(log)
    if "lifecycle" not in frame.columns:
        return enc
    # Same condition as filter_lifecycle (null counts as complete).
    cond = pl.col("lifecycle") == wanted
    if wanted == "complete":
        cond = cond | pl.col("lifecycle").is_null()
    mask = frame.select(cond.fill_null(False)).to_series().to_numpy()
    return enc.subset(key, mask)


def _names(enc: EncodedLog, codes: npt.NDArray[Any]) -> pl.Series:
    return enc.activities.gather(pl.Series(codes, dtype=pl.UInt32))


def _counts_frame(enc: EncodedLog, codes: npt.NDArray[Any]) -> pl.DataFrame:
    """``activity``, ``count`` of the given event codes; count descending, then name."""
    n = len(enc.activities)
    bins = np.bincount(codes, minlength=n) if len(codes) else np.zeros(n, dtype=np.int64)
    present = np.flatnonzero(bins)
    cnt = bins[present].astype(np.int64)
    order = np.lexsort((present, -cnt))  # codes are in name order
    return pl.DataFrame(
        {"activity": _names(enc, present[order]), "count": pl.Series(cnt[order], dtype=pl.Int64)}
    )


def dfg_tables(
    enc: EncodedLog, performance: bool
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Edges, start, end and activity counts as :func:`discover_dfg` returns them."""
    n = len(enc.activities)
    codes = enc.codes
    starts = enc.starts
    e = len(codes)
    # follows[i]: event i is followed by event i + 1 of the same case.
    follows = np.ones(max(e - 1, 0), dtype=np.bool_)
    if enc.n_cases > 1:
        follows[starts[1:-1] - 1] = False
    pair = (codes[:-1].astype(np.int64) * n + codes[1:])[follows] if e > 1 else _I64_EMPTY
    ts = enc.timestamps
    micro = (ts[1:] - ts[:-1])[follows] if e > 1 else _I64_EMPTY
    if n * n <= _DENSE_PAIRS:
        bins = np.bincount(pair, minlength=n * n) if len(pair) else np.zeros(0, np.int64)
        keys = np.flatnonzero(bins)
        cnt = bins[keys].astype(np.int64)
    else:
        keys, cnt = np.unique(pair, return_counts=True)
        cnt = cnt.astype(np.int64)
    # Count descending, then source and target name (codes are in name order).
    order = np.lexsort((keys, -cnt))
    keys, cnt = keys[order], cnt[order]
    cols: dict[str, Any] = {
        "source": _names(enc, keys // n),
        "target": _names(enc, keys % n),
        "count": pl.Series(cnt, dtype=pl.Int64),
    }
    stats = _pair_stats(pair, micro, keys, cnt, performance)
    cols.update({k: pl.Series(v, dtype=pl.Float64) for k, v in stats.items()})
    edges = pl.DataFrame(cols)
    start = _counts_frame(enc, codes[starts[:-1]])
    end = _counts_frame(enc, codes[starts[1:] - 1])
    acts = _counts_frame(enc, codes)
    return edges, start, end, acts


_I64_EMPTY = np.zeros(0, dtype=np.int64)


def _pair_stats(
    pair: I64, micro: I64, keys: I64, cnt: I64, performance: bool
) -> dict[str, npt.NDArray[np.float64]]:
    """Mean (and median, min, max) seconds per pair key, in the order of ``keys``."""
    names = ["mean_seconds"] + (
        ["median_seconds", "min_seconds", "max_seconds"] if performance else []
    )
    if not len(keys):
        return dict.fromkeys(names, np.zeros(0, dtype=np.float64))
    rank = _rank_of(pair, keys)
    # Sums in int64 microseconds: exact, then one division (the polars path sums floats).
    total = np.bincount(rank, weights=micro, minlength=len(keys))
    out: dict[str, npt.NDArray[np.float64]] = {"mean_seconds": total / cnt / 1e6}
    if performance:
        s = _sorted_within(rank, micro, len(keys)) / 1e6
        first = np.concatenate(([0], np.cumsum(cnt)[:-1]))
        out["median_seconds"] = (s[first + (cnt - 1) // 2] + s[first + cnt // 2]) / 2
        out["min_seconds"] = s[first]
        out["max_seconds"] = s[first + cnt - 1]
    return out


def _rank_of(items: I64, keys: I64) -> I64:
    """For each of ``items`` its position in ``keys`` (every item is one of the keys)."""
    top = int(keys.max()) + 1
    if top <= max(_DENSE_PAIRS, 4 * len(items)):
        lut = np.empty(top, dtype=np.int64)
        lut[keys] = np.arange(len(keys), dtype=np.int64)
        return lut[items]
    by_key = np.argsort(keys, kind="stable")
    return by_key[np.searchsorted(keys[by_key], items)]


def _sorted_within(group: I64, values: I64, n_groups: int) -> I64:
    """``values`` sorted by (group, value): group ``g``'s values form the g-th sorted run."""
    lo = int(values.min())
    span = int(values.max()) - lo + 1
    if span * n_groups < (1 << 62):
        # One plain sort of a combined key is several times faster than a lexsort.
        key = group * span + (values - lo)
        key.sort()
        return key % span + lo
    return values[np.lexsort((values, group))]


def _position(starts: I64, lengths: I64) -> I64:
    """Each event's 0-based position within its case."""
    # A running count that drops back to 0 at every case start (cheaper than arange - repeat).
    step = np.ones(int(starts[-1]), dtype=np.int64)
    if len(step):
        step[0] = 0
        step[starts[1:-1]] = 1 - lengths[:-1]
    return np.cumsum(step, out=step)


def _group_cases(enc: EncodedLog) -> tuple[I64, I64, I64]:
    """Per case its variant group; per group its first case and size; groups numbered in order
    of their first case.

    Each case's code sequence is one binary value (an Arrow view over the code array, one byte
    per event when the log has at most 256 activities) and polars groups equal values: its hash
    table compares the values themselves, so the grouping is exact.
    """
    n = enc.n_cases
    codes = enc.codes
    if len(enc.activities) <= _BYTE_CODES:
        codes = codes.astype(np.uint8)
    width = codes.itemsize
    offsets = enc.starts * width if width > 1 else enc.starts
    seqs = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(codes)]
    )
    try:
        column = pl.Series(_ArrowArray(seqs))
    except TypeError:  # a polars without the PyCapsule interface
        column = pl.Series(seqs)
    rep = (
        pl.DataFrame([column.alias("seq")])
        .with_row_index("case")
        .select(pl.col("case").min().over("seq"))
        .to_series()
        .to_numpy()
    )
    first = np.flatnonzero(rep == np.arange(n, dtype=rep.dtype)).astype(np.int64)
    inverse = np.searchsorted(first, rep).astype(np.int64)
    return inverse, first, np.bincount(inverse, minlength=len(first)).astype(np.int64)


def variants_table(enc: EncodedLog) -> pl.DataFrame:
    """The frame :func:`variants` returns: most frequent first, ties by first case."""
    if enc.n_cases == 0:
        return _empty_variants()
    inverse, first, size = _group_cases(enc)
    ts, starts = enc.timestamps, enc.starts
    ordered = ts[1:] >= ts[:-1]
    ordered[starts[1:-1] - 1] = True  # across a case boundary any order is fine
    if bool(ordered.all()):  # read_log sorts each case by time: first and last suffice
        micro = ts[starts[1:] - 1] - ts[starts[:-1]]
    else:
        micro = np.maximum.reduceat(ts, starts[:-1]) - np.minimum.reduceat(ts, starts[:-1])
    order = np.lexsort((first, -size))  # output rank -> group
    n_var = len(order)
    rank_of = np.empty_like(order)
    rank_of[order] = np.arange(n_var)
    rank = rank_of[inverse]  # per case its variant's output position
    size_o = size[order]
    s = _sorted_within(rank, micro, n_var) / 1e6
    lo = np.concatenate(([0], np.cumsum(size_o)[:-1]))
    reps = first[order]
    rep_len = np.diff(starts)[reps]
    offsets = np.concatenate(([0], np.cumsum(rep_len)))
    flat = enc.codes[np.repeat(starts[reps], rep_len) + _position(offsets, rep_len)]
    lists = _lists(_names(enc, flat), offsets, n_var)
    count = size_o.astype(np.int64)
    total = np.bincount(rank, weights=micro, minlength=n_var)
    return pl.DataFrame(
        [pl.Series("variant", np.arange(1, n_var + 1, dtype=np.int64)), lists]
    ).with_columns(
        pl.Series("count", count, dtype=pl.Int64),
        pl.Series("mean_seconds", total / size_o / 1e6, dtype=pl.Float64),
        pl.Series("median_seconds", (s[lo + (size_o - 1) // 2] + s[lo + size_o // 2]) / 2),
        pl.Series("min_seconds", s[lo]),
        pl.Series("max_seconds", s[lo + size_o - 1]),
        pl.Series("share", count / count.sum(), dtype=pl.Float64),
    )


def _lists(flat: pl.Series, offsets: I64, n: int) -> pl.Series:
    """``activities``: the list column whose ``k``-th list is ``flat[offsets[k]:offsets[k+1]]``."""
    owner = pl.Series("v", np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets)))
    # The owners are sorted: told so, polars groups runs instead of hashing.
    return (
        pl.DataFrame([owner.set_sorted(), flat.alias("activities")])
        .group_by("v", maintain_order=True)
        .agg("activities")
        .get_column("activities")
    )


class _ArrowArray:
    """An Arrow array handed to polars through the Arrow PyCapsule interface (no pyarrow
    conversion layer, which would import ``pyarrow.compute`` on first use)."""

    def __init__(self, array: pa.Array) -> None:
        self.array = array

    def __arrow_c_array__(self, requested_schema: object | None = None) -> tuple[object, object]:
        return cast("tuple[object, object]", self.array.__arrow_c_array__(requested_schema))


def _empty_variants() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "variant": pl.Int64,
            "activities": pl.List(pl.String),
            "count": pl.Int64,
            "mean_seconds": pl.Float64,
            "median_seconds": pl.Float64,
            "min_seconds": pl.Float64,
            "max_seconds": pl.Float64,
            "share": pl.Float64,
        }
    )
