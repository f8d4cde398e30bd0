"""XES (IEEE 1849) event logs: a streaming reader and a writer.

Files in the usual one-element-per-line layout are read by the vectorised reader in
:mod:`._xes_fast` (polars splits the lines in Rust); it builds the same frame as the lxml reader
below and hands over to it whenever it cannot prove the layout, or a value is bad (so errors
still come with their line).

The lxml reader feeds the file (plain or gzip) in 1 MiB blocks to an lxml parser whose *target*
receives one callback per element, so no element tree is ever built. Attribute values are
collected as text into per-chunk column lists and turned into typed polars columns every
:data:`CHUNK_EVENTS` events; Python holds at most one chunk of strings at a time. The parser
refuses DOCTYPE declarations (and so every entity definition) and never touches the network.
"""

from __future__ import annotations

import gzip
import io
import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast
from xml.sax.saxutils import quoteattr

import polars as pl
from lxml import etree

from ._schema import (
    ACTIVITY,
    CASE_ID,
    EVENT_INDEX,
    LIFECYCLE,
    RESOURCE,
    TIMESTAMP,
    UTC_DATETIME,
    EventLogError,
    finalize,
    parse_timestamps,
)
from ._xes_fast import NotFastPath, fast_dates, pivot, scan_xes

__all__ = ["CHUNK_EVENTS", "read_xes", "write_xes"]

CHUNK_EVENTS = 65_536
_BLOCK = 1 << 20
_ATTR_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id", "list", "container"})
_EVENT_KEYS = {
    "concept:name": ACTIVITY,
    "time:timestamp": TIMESTAMP,
    "lifecycle:transition": LIFECYCLE,
    "org:resource": RESOURCE,
}
_CORE_NAMES = frozenset({CASE_ID, ACTIVITY, TIMESTAMP, LIFECYCLE, RESOURCE, EVENT_INDEX, "_trace"})
# Stack markers for the element being parsed.
_OTHER, _TRACE, _EVENT, _ATTR = 0, 1, 2, 3


def open_maybe_gzip(path: Path) -> IO[bytes]:
    """Open ``path`` for binary reading, transparently decompressing gzip (by magic bytes)."""
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        raw.close()
        return cast(IO[bytes], gzip.open(path, "rb"))
    return raw


class _Columns:
    """Sparse text columns: per key the rows that have it and their raw values."""

    __slots__ = ("data", "types")

    def __init__(self) -> None:
        self.data: dict[str, tuple[list[int], list[str | None]]] = {}
        self.types: dict[str, str] = {}

    def add(self, key: str, xes_type: str, row: int, value: str | None) -> None:
        col = self.data.get(key)
        if col is None:
            col = self.data[key] = ([], [])
        col[0].append(row)
        col[1].append(value)
        known = self.types.get(key)
        if known != xes_type:
            # A key seen with two XES types is kept as text everywhere.
            self.types[key] = xes_type if known is None else "string"

    def frame(
        self, height: int, convert: Callable[[str, str, pl.Series], pl.Series]
    ) -> pl.DataFrame:
        series: list[pl.Series] = []
        for key, (rows, values) in self.data.items():
            if len(rows) == height and rows[-1] == height - 1 and rows[0] == 0:
                full: list[str | None] = values
            else:
                full = [None] * height
                for r, v in zip(rows, values, strict=True):
                    if r < height:  # an unfinished element (broken file) has rows beyond
                        full[r] = v
            series.append(convert(key, self.types[key], pl.Series(key, full, dtype=pl.Utf8)))
        return pl.DataFrame(series, height=height) if series else pl.DataFrame(height=height)


class _XesTarget:
    """lxml parser target collecting events and traces into columns."""

    def __init__(self, convert_chunk: Callable[[_Columns, list[int], int], None]) -> None:
        self._stack: list[int] = []
        self._kinds: dict[str, int] = {}
        self._types: dict[str, str] = {}
        self._events = _Columns()
        self._event_trace: list[int] = []
        self._row = 0
        self.traces = _Columns()
        self.trace_count = 0
        self._convert_chunk = convert_chunk
        self.saw_log = False

    def _kind(self, tag: str) -> int:
        local = tag.rpartition("}")[2]
        if local in _ATTR_TAGS:
            self._types[tag] = local
            return _ATTR
        if local == "event":
            return _EVENT
        if local == "trace":
            return _TRACE
        if local == "log":
            self.saw_log = True
        return _OTHER

    def doctype(self, *_args: Any) -> None:
        raise EventLogError(
            "the XES file declares a DOCTYPE; DTDs and entities are refused",
            code="history.xes.refused",
            hint="remove the DOCTYPE/ENTITY declarations",
        )

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        kind = self._kinds.get(tag)
        if kind is None:
            kind = self._kinds[tag] = self._kind(tag)
        stack = self._stack
        parent = stack[-1] if stack else _OTHER
        if kind == _ATTR:
            key = attrib.get("key")
            xes_type = self._types[tag]
            # Lists and containers have no value of their own; their members are not columns.
            if key is not None and xes_type not in ("list", "container"):
                value = attrib.get("value")
                if value is not None and "&#38;" in value:
                    # libxml2 without entity substitution hands '&' over as "&#38;" (and a
                    # literal "&#38;" as "&#38;#38;"): undo it.
                    value = value.replace("&#38;", "&")
                if "&#38;" in key:
                    key = key.replace("&#38;", "&")
                if parent == _EVENT:
                    self._events.add(key, xes_type, self._row, value)
                elif parent == _TRACE:
                    self.traces.add(key, xes_type, self.trace_count, value)
            # Nested attribute children (lists, containers, meta-attributes) are skipped.
            stack.append(_OTHER)
        elif kind == _EVENT:
            stack.append(_EVENT if parent == _TRACE else _OTHER)
        elif kind == _TRACE:
            stack.append(_TRACE if parent == _OTHER and len(stack) == 1 else _OTHER)
        else:
            stack.append(_OTHER)

    def end(self, _tag: str) -> None:
        kind = self._stack.pop()
        if kind == _EVENT:
            self._event_trace.append(self.trace_count)
            self._row += 1
            if self._row >= CHUNK_EVENTS:
                self.flush()
        elif kind == _TRACE:
            self.trace_count += 1

    def flush(self) -> None:
        if self._row:
            self._convert_chunk(self._events, self._event_trace, self._row)
        self._events = _Columns()
        self._event_trace = []
        self._row = 0

    def close(self) -> None:
        self.flush()


class _Converter:
    """Turns text columns into typed polars columns; remembers where each chunk starts."""

    def __init__(self, source: str, *, locate: bool = True) -> None:
        self.source = source
        self.chunks: list[pl.DataFrame] = []
        self.offset = 0
        self.text_keys: set[str] = set()
        self.locate = locate

    def convert(self, key: str, xes_type: str, s: pl.Series) -> pl.Series:
        """Typed column of event attribute ``key`` (text of the current chunk)."""
        if xes_type == "string":
            self.text_keys.add(key)
        return self.typed(key, xes_type, s, "event", self.offset)

    def chunk(self, cols: _Columns, event_trace: list[int], height: int) -> None:
        frame = cols.frame(height, self.convert)
        self.add(frame, pl.Series("_trace", event_trace, dtype=pl.Int64), height)

    def add(self, frame: pl.DataFrame, event_trace: pl.Series, height: int) -> None:
        """Append a chunk of typed event columns with each event's trace number."""
        # An attribute literally named like a core column keeps its value under "attr:<key>".
        clash = {c: f"attr:{c}" for c in frame.columns if c in _CORE_NAMES}
        name_map = {**clash, **{k: v for k, v in _EVENT_KEYS.items() if k in frame.columns}}
        frame = frame.rename(name_map).with_columns(
            event_trace.alias("_trace"),
            pl.int_range(self.offset, self.offset + height, dtype=pl.Int64).alias(EVENT_INDEX),
        )
        if TIMESTAMP in frame.columns and frame.schema[TIMESTAMP] != UTC_DATETIME:
            frame = frame.with_columns(pl.col(TIMESTAMP).cast(pl.Utf8))
        self.chunks.append(frame)
        self.offset += height

    def typed(self, key: str, xes_type: str, s: pl.Series, scope: str, offset: int) -> pl.Series:
        try:
            if xes_type == "date":
                what = f"{scope} attribute {key!r}"
                fast = fast_dates(s, lambda t: parse_timestamps(t, what=what))
                return fast if fast is not None else parse_timestamps(s, what=what)
            if xes_type == "int":
                return self._strict(s, s.str.strip_chars().cast(pl.Int64, strict=False), key, scope)
            if xes_type == "float":
                return self._strict(
                    s, s.str.strip_chars().cast(pl.Float64, strict=False), key, scope
                )
            if xes_type == "boolean":
                low = s.str.strip_chars().str.to_lowercase()
                out = pl.when(low == "true").then(True).when(low == "false").then(False)
                return self._strict(s, pl.select(out.otherwise(None)).to_series(), key, scope)
        except EventLogError as exc:
            row = int(exc.details.get("row", 0)) + offset
            exc.details[f"{scope}_index"] = row
            exc.file = self.source
            exc.line = _locate(self.source, scope, row) if self.locate else None
            raise
        return s

    @staticmethod
    def _strict(raw: pl.Series, typed: pl.Series, key: str, scope: str) -> pl.Series:
        bad = typed.is_null() & raw.is_not_null()
        if bad.any():
            row = int(bad.arg_max() or 0)
            raise EventLogError(
                f"{scope} attribute {key!r} has value {raw[row]!r}, not of its declared type",
                details={"row": row, "value": raw[row]},
            )
        return typed.alias(raw.name)


def _locate(source: str, scope: str, index: int) -> int | None:
    """Line of the ``index``-th event (or trace) of an XES file; only used to report errors."""
    wanted = "event" if scope == "event" else "trace"
    count = 0
    try:
        with open_maybe_gzip(Path(source)) as fh:
            for ev, el in etree.iterparse(
                fh,
                events=("start", "end"),
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
            ):
                local = el.tag.rpartition("}")[2] if isinstance(el.tag, str) else ""
                if ev == "start" and local == wanted:
                    if count == index:
                        return int(el.sourceline or 0) or None
                    count += 1
                elif ev == "end" and local == "trace":
                    # Keep memory flat on big files: drop finished traces.
                    el.clear()
                    parent = el.getparent()
                    while parent is not None and el.getprevious() is not None:
                        del parent[0]
    except (OSError, etree.XMLSyntaxError):
        return None
    return None


def read_xes(path: str | Path) -> pl.DataFrame:
    """Read an XES file (plain or gzip) into the event-log frame (see :mod:`liucheng.history`).

    Raises:
        EventLogError: The file is not well-formed XML (with its line), declares a DOCTYPE, is not
            an XES log, or has a value that does not match its declared type.
    """
    path = Path(path)
    source = str(path)
    fast = _read_fast(path, source)
    if fast is not None:
        return fast
    conv = _Converter(source)
    target = _XesTarget(conv.chunk)
    parser = etree.XMLParser(
        target=cast(Any, target),  # only start/end/doctype/close: no per-text callbacks
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        with open_maybe_gzip(path) as fh:
            for block in _blocks(fh):
                parser.feed(block)
            parser.close()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise EventLogError(
            f"not well-formed XML: {exc.msg}",
            code="history.xes.malformed",
            file=source,
            line=line,
            hint="check the file is complete XES (IEEE 1849)",
        ) from None
    except EventLogError as exc:
        exc.file = exc.file or source
        raise
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise EventLogError(
            f"cannot read {source}: {exc}", code="history.file.unreadable", file=source
        ) from None
    if not target.saw_log:
        raise EventLogError(
            "the document has no <log> element; it is not an XES log",
            code="history.xes.not_xes",
            file=source,
            line=1,
        )
    traces = target.traces.frame(
        target.trace_count,
        lambda k, t, s: conv.typed(k, t, s, "trace", 0),
    )
    return _assemble(conv, traces)


def _read_fast(path: Path, source: str) -> pl.DataFrame | None:
    """The frame by the vectorised reader (:mod:`._xes_fast`), or ``None`` when the file's
    layout (or a bad value) needs the lxml reader, which then also gives the exact error."""
    try:
        rows = scan_xes(path)
        conv = _Converter(source, locate=False)
        columns = pivot(rows.take_events(), rows.n_events, rows.xtypes)
        # Typing (dates above all) is per column and polars releases the GIL: two at a time.
        with ThreadPoolExecutor(max_workers=2) as pool:
            typed = list(
                pool.map(lambda kc: conv.convert(kc[0], kc[1][1], kc[1][0]), columns.items())
            )
        events = pl.DataFrame(typed, height=rows.n_events) if typed else None
        conv.add(
            events if events is not None else pl.DataFrame(height=rows.n_events),
            rows.event_trace,
            rows.n_events,
        )
        tcols = pivot(rows.traces, rows.n_traces, rows.xtypes)
        traces = [conv.typed(k, t, c, "trace", 0) for k, (c, t) in tcols.items()]
        frame = _assemble(
            conv,
            pl.DataFrame(traces, height=rows.n_traces)
            if traces
            else pl.DataFrame(height=rows.n_traces),
        )
    except (NotFastPath, EventLogError, pl.exceptions.PolarsError):
        return None
    except (OSError, EOFError, gzip.BadGzipFile):
        return None  # the lxml path reports unreadable files
    return frame


def _blocks(fh: IO[bytes]) -> Iterator[bytes]:
    while True:
        block = fh.read(_BLOCK)
        if not block:
            return
        yield block


def _assemble(conv: _Converter, traces: pl.DataFrame) -> pl.DataFrame:
    if conv.chunks and conv.chunks[0].height == 0 and len(conv.chunks) == 1:
        conv.chunks = []
    if conv.chunks:
        events = pl.concat(conv.chunks, how="diagonal_relaxed")
    else:
        events = pl.DataFrame(
            {"_trace": [], EVENT_INDEX: [], ACTIVITY: []},
            schema={"_trace": pl.Int64, EVENT_INDEX: pl.Int64, ACTIVITY: pl.Utf8},
        )
    # Keys that were text in one chunk and typed in another become text everywhere.
    for key in conv.text_keys:
        name = _EVENT_KEYS.get(key, key)
        if name in events.columns and events.schema[name] != pl.Utf8 and name != TIMESTAMP:
            events = events.with_columns(pl.col(name).cast(pl.Utf8))
    if TIMESTAMP in events.columns and events.schema[TIMESTAMP] != UTC_DATETIME:
        events = events.with_columns(
            parse_timestamps(events.get_column(TIMESTAMP), what="time:timestamp")
        )
    rename = {c: (CASE_ID if c == "concept:name" else f"case:{c}") for c in traces.columns}
    traces = traces.rename(rename)
    if CASE_ID not in traces.columns:
        traces = traces.with_columns(pl.lit(None, dtype=pl.Utf8).alias(CASE_ID))
    traces = traces.with_columns(
        pl.col(CASE_ID)
        .cast(pl.Utf8)
        .fill_null(pl.int_range(0, pl.len(), dtype=pl.Int64).cast(pl.Utf8))
    )
    idx = events.get_column("_trace")
    case_cols = traces.select(pl.all().gather(idx)) if traces.width else pl.DataFrame()
    if ACTIVITY not in events.columns:
        events = events.with_columns(pl.lit(None, dtype=pl.Utf8).alias(ACTIVITY))
    frame = pl.concat([events, case_cols], how="horizontal") if case_cols.width else events
    if CASE_ID not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(CASE_ID))
    return finalize(frame, case_order=idx, drop=("_trace",))


# ---------------------------------------------------------------------------------------------
# Writing


def _xes_value(value: Any) -> tuple[str, str] | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean", "true" if value else "false"
    if isinstance(value, int):
        return "int", str(value)
    if isinstance(value, float):
        if math.isnan(value):  # NaN: XES has no null; leave the attribute out
            return None
        return "float", repr(value)
    if isinstance(value, datetime):
        return "date", value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return "string", str(value)


def write_xes(frame: pl.DataFrame, path: str | Path) -> None:
    """Write an event-log frame as XES (gzip when ``path`` ends in ``.gz``).

    Core columns become ``concept:name``, ``time:timestamp``, ``lifecycle:transition`` and
    ``org:resource``; ``case:<key>`` columns become trace attributes; ``event_index`` is dropped.
    """
    path = Path(path)
    inverse = {v: k for k, v in _EVENT_KEYS.items()}
    case_cols = [c for c in frame.columns if c.startswith("case:")]
    event_cols = [
        c for c in frame.columns if c not in case_cols and c not in (CASE_ID, EVENT_INDEX)
    ]
    buf = io.StringIO()
    w = buf.write
    w('<?xml version="1.0" encoding="UTF-8"?>\n')
    w('<log xes.version="1849.2016" xmlns="http://www.xes-standard.org/">\n')
    for name, prefix in (
        ("Concept", "concept"),
        ("Time", "time"),
        ("Lifecycle", "lifecycle"),
        ("Organizational", "org"),
    ):
        w(
            f'\t<extension name="{name}" prefix="{prefix}" '
            f'uri="http://www.xes-standard.org/{prefix}.xesext"/>\n'
        )
    raw = path.open("wb")
    out: IO[bytes] = (
        cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="wb")) if path.suffix == ".gz" else raw
    )
    with raw, out:
        out.write(buf.getvalue().encode())
        for (case_id,), group in frame.group_by(CASE_ID, maintain_order=True):
            parts = ["\t<trace>\n", _attr_xml("concept:name", case_id, 2)]
            first = group.row(0, named=True)
            parts.extend(_attr_xml(c[5:], first[c], 2) for c in case_cols)
            for row in group.select(event_cols).iter_rows(named=True):
                parts.append("\t\t<event>\n")
                parts.extend(_attr_xml(inverse.get(c, c), row[c], 3) for c in event_cols)
                parts.append("\t\t</event>\n")
            parts.append("\t</trace>\n")
            out.write("".join(parts).encode())
        out.write(b"</log>\n")


def _attr_xml(key: str, value: Any, depth: int) -> str:
    typed = _xes_value(value)
    if typed is None:
        return ""
    tag, text = typed
    return f"{chr(9) * depth}<{tag} key={quoteattr(key)} value={quoteattr(text)}/>\n"
