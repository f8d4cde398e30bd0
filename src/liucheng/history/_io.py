"""Format detection and the two entry points, :func:`read_log` and :func:`write_log`."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ._schema import ColumnMapping, EventLogError
from .tabular import read_csv, read_parquet, write_csv, write_parquet
from .xes import open_maybe_gzip, read_xes, write_xes

__all__ = ["FORMATS", "detect_format", "read_log", "write_log"]

FORMATS = ("xes", "csv", "parquet", "ocel-json", "ocel-xml", "ocel-sqlite")


def detect_format(path: str | Path) -> str:
    """The log format of ``path``: by extension, else by sniffing the first bytes.

    Raises:
        EventLogError: Neither the name nor the content says what the file is.
    """
    p = Path(path)
    name = p.name.lower()
    for suffix, fmt in (
        (".xes.gz", "xes"),
        (".xes", "xes"),
        (".csv", "csv"),
        (".parquet", "parquet"),
        (".pq", "parquet"),
        (".jsonocel", "ocel-json"),
        (".xmlocel", "ocel-xml"),
        (".sqlite", "ocel-sqlite"),
        (".sqlite3", "ocel-sqlite"),
        (".db", "ocel-sqlite"),
    ):
        if name.endswith(suffix):
            return fmt
    try:
        with open_maybe_gzip(p) as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise EventLogError(
            f"cannot read {p}: {exc}", code="history.file.unreadable", file=str(p)
        ) from None
    if head.startswith(b"SQLite format 3"):
        return "ocel-sqlite"
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip()
    if text.startswith(b"{"):
        return "ocel-json"
    if text.startswith(b"<"):
        # Both put a <log> root; XES says so (namespace, version, traces), OCEL has its sections.
        low = head.lower()
        if b"xes" in low or b"<trace" in low:
            return "xes"
        ocel_marks = (b"<object-types", b"<event-types", b"<objects", b"<events")
        return "ocel-xml" if any(m in low for m in ocel_marks) else "xes"
    if name.endswith(".json"):
        return "ocel-json"
    raise EventLogError(
        f"cannot tell the log format of {p.name}",
        code="history.format.unknown",
        file=str(p),
        hint=f"pass format= one of {', '.join(FORMATS)}",
    )


def read_log(
    path: str | Path,
    *,
    mapping: ColumnMapping | None = None,
    format: str | None = None,
) -> pl.DataFrame:
    """Read an event log file into the event-log frame (see :mod:`liucheng.history`).

    Args:
        path: XES (``.xes``/``.xes.gz``), CSV, Parquet or OCEL 2.0 (JSON/XML/SQLite; OCEL 1.0
            JSON too) file; or the engine's own database, as a URL (``sqlite:///liucheng.db``,
            ``postgresql://…``) or a Liucheng SQLite file (see :mod:`.engine_log`).
        mapping: Column mapping for CSV/Parquet; for OCEL, ``mapping.case`` names the object
            type to flatten on (default: the type related to the most events).
        format: One of :data:`FORMATS`; ``None`` detects it from the name or content.

    Raises:
        EventLogError: The file is missing, unreadable or not valid for its format.
    """
    if format in (None, "engine") and isinstance(path, str) and "://" in path:
        from .engine_log import read_engine_log

        return read_engine_log(path)
    p = Path(path)
    if not p.is_file():
        raise EventLogError(
            f"no such event-log file: {p}", code="history.file.missing", file=str(p)
        )
    if format == "engine" or (format is None and _is_engine_db(p)):
        from .engine_log import read_engine_log

        return read_engine_log(f"sqlite:///{p.resolve()}")
    fmt = format or detect_format(p)
    if fmt == "xes":
        return read_xes(p)
    if fmt == "csv":
        return read_csv(p, mapping)
    if fmt == "parquet":
        return read_parquet(p, mapping)
    if fmt in ("ocel-json", "ocel-xml", "ocel-sqlite"):
        from .ocel import flatten, read_ocel

        return flatten(read_ocel(p, format=fmt), mapping.case if mapping else None)
    raise EventLogError(
        f"unknown log format {fmt!r}",
        code="history.format.unknown",
        hint=f"use one of {', '.join(FORMATS)}",
    )


def _is_engine_db(p: Path) -> bool:
    from .engine_log import is_engine_database

    return is_engine_database(p)


def write_log(
    frame: pl.DataFrame,
    path: str | Path,
    format: str | None = None,
) -> None:
    """Write an event-log frame as XES, CSV, Parquet or OCEL 2.0 (by ``format`` or extension).

    For OCEL the case becomes an object of type ``case`` related to each of its events.
    """
    p = Path(path)
    fmt = format or _format_from_name(p)
    if fmt == "xes":
        write_xes(frame, p)
    elif fmt == "csv":
        write_csv(frame, p)
    elif fmt == "parquet":
        write_parquet(frame, p)
    elif fmt in ("ocel-json", "ocel-xml", "ocel-sqlite"):
        from .ocel import from_event_log, write_ocel

        write_ocel(from_event_log(frame), p, format=fmt)
    else:
        raise EventLogError(
            f"unknown log format {fmt!r}",
            code="history.format.unknown",
            hint=f"use one of {', '.join(FORMATS)}",
        )


def _format_from_name(p: Path) -> str:
    name = p.name.lower()
    for suffix, fmt in (
        (".xes.gz", "xes"),
        (".xes", "xes"),
        (".csv", "csv"),
        (".parquet", "parquet"),
        (".pq", "parquet"),
        (".jsonocel", "ocel-json"),
        (".json", "ocel-json"),
        (".xmlocel", "ocel-xml"),
        (".xml", "ocel-xml"),
        (".sqlite", "ocel-sqlite"),
        (".sqlite3", "ocel-sqlite"),
        (".db", "ocel-sqlite"),
    ):
        if name.endswith(suffix):
            return fmt
    raise EventLogError(
        f"cannot tell the log format from the name {p.name}",
        code="history.format.unknown",
        hint=f"pass format= one of {', '.join(FORMATS)}",
    )
