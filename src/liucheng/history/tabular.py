"""CSV and Parquet event logs, with a :class:`~liucheng.history.ColumnMapping`."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from ._schema import (
    ACTIVITY,
    CASE_ID,
    CORE_COLUMNS,
    EVENT_INDEX,
    LIFECYCLE,
    RESOURCE,
    TIMESTAMP,
    ColumnMapping,
    EventLogError,
    finalize,
    parse_timestamps,
)

__all__ = ["from_frame", "read_csv", "read_parquet", "write_csv", "write_parquet"]

_CANDIDATES: dict[str, tuple[str, ...]] = {
    CASE_ID: ("case_id", "case:concept:name", "Case ID", "CaseID", "case", "Case", "case id"),
    ACTIVITY: ("activity", "concept:name", "Activity", "Activity name", "activity_name", "task"),
    TIMESTAMP: (
        "timestamp",
        "time:timestamp",
        "Timestamp",
        "Complete Timestamp",
        "end_time",
        "time",
    ),
    LIFECYCLE: ("lifecycle", "lifecycle:transition", "Lifecycle", "transition"),
    RESOURCE: ("resource", "org:resource", "Resource", "user", "performer"),
}


_ISO_PREFIX = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"


def _pick(columns: list[str], field: str, given: str | None, *, required: bool) -> str | None:
    if given is not None:
        if given not in columns:
            raise EventLogError(
                f"the mapped {field} column {given!r} is not in the file",
                code="history.mapping.missing",
                hint=f"columns are: {', '.join(columns)}",
            )
        return given
    for name in _CANDIDATES[field]:
        if name in columns:
            return name
    if required:
        raise EventLogError(
            f"no {field} column found",
            code="history.mapping.missing",
            hint=(
                f"pass a ColumnMapping({field.split('_', maxsplit=1)[0]}=...); columns are: "
                + ", ".join(columns)
            ),
        )
    return None


def _maybe_dates(s: pl.Series) -> pl.Series:
    """A text column whose every value is an ISO date-time, as UTC datetimes (CSV is untyped)."""
    values = s.drop_nulls()
    if values.len() == 0 or not values.str.contains(_ISO_PREFIX).all():
        return s
    try:
        return parse_timestamps(s)
    except EventLogError:
        return s


def from_frame(
    raw: pl.DataFrame,
    mapping: ColumnMapping | None = None,
    *,
    source: str | None = None,
    sniff_dates: bool = False,
) -> pl.DataFrame:
    """Turn any table of events into the event-log frame, using ``mapping`` to find columns.

    Raises:
        EventLogError: A required column is missing, a case id is empty or a timestamp does not
            parse (``details["row"]`` is the 1-based data row).
    """
    m = mapping or ColumnMapping()
    cols = raw.columns
    picked = {
        CASE_ID: _pick(cols, CASE_ID, m.case, required=True),
        ACTIVITY: _pick(cols, ACTIVITY, m.activity, required=True),
        TIMESTAMP: _pick(cols, TIMESTAMP, m.timestamp, required=True),
        LIFECYCLE: _pick(cols, LIFECYCLE, m.lifecycle, required=False),
        RESOURCE: _pick(cols, RESOURCE, m.resource, required=False),
    }
    used = {v for v in picked.values() if v is not None}
    if m.cost is not None and m.cost not in cols:
        raise EventLogError(
            f"the mapped cost column {m.cost!r} is not in the file",
            code="history.mapping.missing",
        )
    if m.attributes is not None:
        for src in m.attributes:
            if src not in cols:
                raise EventLogError(
                    f"the mapped attribute column {src!r} is not in the file",
                    code="history.mapping.missing",
                )
        extra = {src: dst for src, dst in m.attributes.items() if src not in used}
    else:
        skip = used | {EVENT_INDEX, "", "__index_level_0__"}
        extra = {c: c for c in cols if c not in skip and c not in CORE_COLUMNS}
    if m.cost is not None:
        extra[m.cost] = "cost:total"
    try:
        ts = parse_timestamps(raw.get_column(picked[TIMESTAMP] or ""), m.timestamp_format)
    except EventLogError as exc:
        row = int(exc.details.get("row", 0)) + 1
        exc.details["row"] = row
        exc.message = f"row {row}: {exc.message}"
        exc.file = source
        raise
    case = raw.get_column(picked[CASE_ID] or "").cast(pl.Utf8)
    if case.null_count():
        row = int(case.is_null().arg_max() or 0) + 1
        raise EventLogError(
            f"row {row}: the case id is empty",
            code="history.csv.value",
            file=source,
            details={"row": row},
        )
    selected: list[pl.Series] = [case.alias(CASE_ID), ts.alias(TIMESTAMP)]
    for field in (ACTIVITY, LIFECYCLE, RESOURCE):
        name = picked[field]
        if name is not None:
            selected.append(raw.get_column(name).cast(pl.Utf8).alias(field))
    if EVENT_INDEX in cols and m == ColumnMapping():
        selected.append(raw.get_column(EVENT_INDEX).cast(pl.Int64))
    for src, dst in extra.items():
        s = raw.get_column(src)
        if isinstance(s.dtype, pl.Datetime):
            s = parse_timestamps(s)
        elif s.dtype == pl.Utf8 and sniff_dates:
            s = _maybe_dates(s)
        selected.append(s.alias(dst))
    return finalize(pl.DataFrame(selected))


def read_csv(path: str | Path, mapping: ColumnMapping | None = None) -> pl.DataFrame:
    """Read a CSV event log (header row required).

    Raises:
        EventLogError: The file is not valid CSV, or see :func:`from_frame`.
    """
    source = str(path)
    try:
        raw = pl.read_csv(path, infer_schema_length=10_000, try_parse_dates=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        row, line, why = _find_bad_row(Path(path))
        where = f"row {row} (line {line}): {why}" if row is not None else ""
        raise EventLogError(
            where or f"cannot read CSV: {str(exc).splitlines()[0] if str(exc) else exc!r}",
            code="history.csv.malformed",
            file=source,
            line=line,
            hint="a header row and one event per row, separated by commas",
            details={"row": row} if row is not None else {},
        ) from None
    return from_frame(raw, mapping, source=source, sniff_dates=True)


def _find_bad_row(path: Path) -> tuple[int | None, int | None, str]:
    """The first malformed data row of a CSV file (only used to explain a parse failure)."""
    number = 0
    line = None
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh, strict=True)
            header = next(reader, None)
            if header is None:
                return None, None, "empty file"
            for row in reader:
                number += 1
                line = reader.line_num
                if row and len(row) != len(header):
                    return (
                        number,
                        reader.line_num,
                        f"{len(row)} fields where the header has {len(header)}",
                    )
    except csv.Error as exc:
        return number + 1, (line or 1) + 1, str(exc)
    except (OSError, UnicodeDecodeError) as exc:
        return None, None, str(exc)
    return None, None, ""


def read_parquet(path: str | Path, mapping: ColumnMapping | None = None) -> pl.DataFrame:
    """Read a Parquet event log (one event per row)."""
    try:
        raw = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise EventLogError(
            f"cannot read Parquet: {exc}", code="history.parquet.malformed", file=str(path)
        ) from None
    return from_frame(raw, mapping, source=str(path))


def write_csv(frame: pl.DataFrame, path: str | Path) -> None:
    """Write the event-log frame as CSV (timestamps ISO 8601 with offset)."""
    fmt = "%Y-%m-%dT%H:%M:%S%.f%:z"
    out = frame.with_columns(
        pl.col(c).dt.strftime(fmt) for c, t in frame.schema.items() if isinstance(t, pl.Datetime)
    )
    out.write_csv(path)


def write_parquet(frame: pl.DataFrame, path: str | Path) -> None:
    """Write the event-log frame as Parquet (types kept)."""
    frame.write_parquet(path)
