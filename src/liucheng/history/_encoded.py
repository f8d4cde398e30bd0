"""An event-log frame encoded once as numpy arrays, for the counting analyses (DFG, variants).

Strings are hashed once per log instead of once per analysis: activities become dense integer
codes numbered in string order (so sorting codes sorts names the way polars sorts strings),
cases become offsets into the event arrays, timestamps become int64 microseconds. The encoding
of a frame is cached on the frame object itself; polars frames are immutable in normal use
(every ``with_columns``/``filter``/``sort`` makes a new frame without the cache). A frame changed
in place (``df[i, "activity"] = ...``, ``insert_column``) must be passed through
:func:`forget_encoding` first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = [
    "EncodedLog",
    "cache_encoding",
    "cached_encoding",
    "encode_log",
    "forget_encoding",
]

_ATTR = "_liucheng_encoded"
# Codes fit UInt16 up to this many distinct activities; past it they are UInt32.
_U16_MAX = 1 << 16


@dataclass(frozen=True)
class EncodedLog:
    """The events of a case-contiguous log as arrays.

    Attributes:
        activities: Activity names; ``activities[c]`` is the name of code ``c``, in string order.
        codes: Activity code per event (UInt16, or UInt32 past 65,536 activities), frame order.
        starts: Case offsets (int64, ``n_cases + 1`` entries): case ``k`` is the events
            ``starts[k]:starts[k + 1]``; cases in order of appearance.
        timestamps: Event time in microseconds since the epoch (int64).
    """

    activities: pl.Series
    codes: npt.NDArray[np.unsignedinteger[Any]]
    starts: npt.NDArray[np.int64]
    timestamps: npt.NDArray[np.int64]
    # Filtered views (by lifecycle), built on first use.
    _subsets: dict[str, EncodedLog] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_cases(self) -> int:
        """How many cases (each has at least one event)."""
        return len(self.starts) - 1

    @property
    def n_events(self) -> int:
        """How many events."""
        return len(self.codes)

    def cached_subset(self, key: str) -> EncodedLog | None:
        """The view :meth:`subset` built under ``key`` before, if any."""
        return self._subsets.get(key)

    def subset(self, key: str, mask: npt.NDArray[np.bool_]) -> EncodedLog:
        """The events where ``mask`` holds (cached under ``key``); cases left empty vanish."""
        hit = self._subsets.get(key)
        if hit is not None:
            return hit
        if bool(mask.all()):
            out = self
        else:
            case_of = np.repeat(np.arange(self.n_cases, dtype=np.int64), np.diff(self.starts))[mask]
            cut = np.flatnonzero(case_of[1:] != case_of[:-1]) + 1
            starts = np.concatenate(([0], cut, [len(case_of)])) if len(case_of) else _EMPTY
            out = EncodedLog(
                activities=self.activities,
                codes=self.codes[mask],
                starts=starts.astype(np.int64, copy=False),
                timestamps=self.timestamps[mask],
            )
        self._subsets[key] = out
        return out


_EMPTY = np.zeros(1, dtype=np.int64)


def _fingerprint(frame: pl.DataFrame) -> tuple[int, tuple[str, ...]]:
    return frame.height, tuple(frame.columns)


def encode_log(frame: pl.DataFrame) -> EncodedLog | None:
    """The encoding of a case-contiguous event-log frame (not cached; see :func:`cache_encoding`).

    Returns:
        ``None`` when the frame does not fit the arrays exactly (a null case id, activity or
        timestamp, a timestamp that is not microsecond ``Datetime``); callers then take their
        general polars path.
    """
    return _encode(frame)


def cached_encoding(frame: pl.DataFrame) -> tuple[bool, EncodedLog | None]:
    """``(True, encoding)`` when one is cached on ``frame`` (``None``: it has no fast form)."""
    cached = getattr(frame, _ATTR, None)
    if cached is not None and cached[0] == _fingerprint(frame):
        return True, cached[1]
    return False, None


def cache_encoding(frame: pl.DataFrame, enc: EncodedLog | None) -> None:
    """Keep ``enc`` (the encoding of ``frame``'s case-contiguous form) on ``frame``."""
    setattr(frame, _ATTR, (_fingerprint(frame), enc))


def forget_encoding(frame: pl.DataFrame) -> None:
    """Drop the cached encoding of ``frame`` (after changing it in place)."""
    if hasattr(frame, _ATTR):
        delattr(frame, _ATTR)


def _encode(frame: pl.DataFrame) -> EncodedLog | None:
    if not {"case_id", "activity", "timestamp"} <= set(frame.columns):
        return None
    case = frame.get_column("case_id")
    act = frame.get_column("activity")
    ts = frame.get_column("timestamp")
    dtype = ts.dtype
    if not isinstance(dtype, pl.Datetime) or dtype.time_unit != "us":
        return None
    if case.null_count() or act.null_count() or ts.null_count():
        return None
    if act.dtype != pl.String:
        act = act.cast(pl.String)
    names = act.unique().sort()
    # An Enum over the sorted names numbers every event by its name's rank in one hash pass.
    codes_s = act.cast(pl.Enum(names)).to_physical()
    raw = codes_s.to_numpy()
    codes: npt.NDArray[np.unsignedinteger[Any]] = (
        raw.astype(np.uint16, copy=False)
        if len(names) <= _U16_MAX
        else raw.astype(np.uint32, copy=False)
    )
    if frame.height:
        first = (case != case.shift(1)).fill_null(True).arg_true().to_numpy()
        starts = np.concatenate((first.astype(np.int64), [frame.height]))
    else:
        starts = _EMPTY
    stamps = ts.to_physical().to_numpy().astype(np.int64, copy=False)
    return EncodedLog(activities=names, codes=codes, starts=starts, timestamps=stamps)
