"""Vectorised XES reading for the common one-element-per-line layout.

Nearly every XES file in the wild (OpenXES, ProM, pm4py, Disco, our own writer) puts one element
per line: ``<event>``, ``<string key="k" value="v"/>``, ``</event>``. For that layout the file is
read in blocks straight into polars (one string per line, never one Python object per line),
each line is split at ``"`` in Rust, and the handful of distinct line *shapes* (``<string key=``,
``</event>`` ...) is classified in Python once per shape. Element depth comes from a cumulative
sum of opening and closing lines, trace and event numbers from cumulative sums of their opening
lines, and attributes are pivoted into columns per key.

The reader proves its layout as it goes: every line must be one complete element tag, a closing
tag, a one-line comment or blank; every closing tag must match its opening one; values may only
hold the five predefined entities. Anything else (several elements on a line, multi-line tags or
comments, CDATA, character references, DOCTYPE, another encoding, namespace prefixes, a key with
two types, a value that does not parse as its type) raises :class:`NotFastPath`, and the caller
uses the lxml reader, which also produces the exact error message and line. The result is the
same frame the lxml reader builds.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO

import numpy as np
import polars as pl
from lxml import etree

from liucheng.errors import LiuchengError


def _zlib() -> ModuleType:
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal is a dependency; zlib does the same, slower
        import zlib

        return zlib
    return isal_zlib


_inflate = _zlib()

__all__ = ["NotFastPath", "XesRows", "fast_dates", "pivot", "scan_xes"]

# Line classes (UInt8 codes).
_IGN, _OPEN, _SELF, _CLOSE, _TRACE, _EVENT, _ATTR_K, _ATTR_V, _PI, _UNKNOWN = range(10)
_ATTR_OPEN, _ATTR_SELF = 10, 11
_ATTR_TAGS = ("string", "date", "int", "float", "boolean", "id", "list", "container")
_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_S = "[ \t\r\n]"  # XML white space (Python's \s would also take Unicode spaces)
_XML_WS = " \t\r\n"
_ATTR_HEAD = re.compile(rf"<({'|'.join(_ATTR_TAGS)}){_S}+(key|value){_S}*=")
_CLOSE_RE = re.compile(rf"</({_NAME}){_S}*>")
_OPEN_RE = re.compile(rf"<({_NAME})(?:{_S}.*|/?>)?", re.DOTALL)
_COMMENT_RE = re.compile(r"<!--(?:(?!--).)*-->", re.DOTALL)
_DECL_RE = re.compile(
    rf"<\?xml{_S}+version{_S}*={_S}*(\"1\.[0-9]\"|'1\.[0-9]')"
    rf"(?:{_S}+encoding{_S}*={_S}*(\"(?:utf-8|UTF-8)\"|'(?:utf-8|UTF-8)'))?"
    rf"(?:{_S}+standalone{_S}*={_S}*(\"(?:yes|no)\"|'(?:yes|no)'))?{_S}*\?>"
)
_MID_KEY = re.compile(rf"{_S}+key{_S}*={_S}*")
_MID_VALUE = re.compile(rf"{_S}+value{_S}*={_S}*")
_TAIL = re.compile(rf"{_S}*/?>{_S}*")
_BLOCK = 32 << 20
_RAW_BLOCK = 1 << 20  # compressed bytes read at a time
_MAX_OTHER_LINES = 10_000
_LUT_MAX = 1 << 24  # largest category id looked up in a table
_SHAPE_IDS = 1 << 24  # category ids of a line's f2 and f4 packed into one shape key


class NotFastPath(Exception):
    """The file is not in the layout the vectorised reader can prove it handles."""


@dataclass
class XesRows:
    """What :func:`scan_xes` found: attribute rows of events and traces, and their counts.

    Attributes:
        events: ``row`` (event number in file order), ``key``, ``xtype`` (id, see ``xtypes``),
            ``value`` (raw text, entities resolved), in file order.
        traces: The same for trace attributes (``row`` = trace number).
        xtypes: XES type (element name) of each ``xtype`` id.
        event_trace: Trace number of each event.
        n_events: Events (directly inside a trace directly inside the root).
        n_traces: Traces.
    """

    events: pl.DataFrame
    traces: pl.DataFrame
    xtypes: dict[int, str]
    event_trace: pl.Series
    n_events: int
    n_traces: int

    def take_events(self) -> pl.DataFrame:
        """The event rows, handed over (this object no longer holds them)."""
        events = self.events
        self.events = events.clear()
        return events


def _blocks(path: Path) -> Iterator[bytes]:
    """The file's blocks, read (and decompressed) by a thread while the previous block is
    parsed: inflating and file reads release the GIL, so both cores work."""
    items: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: bytes | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for block in _read_blocks(path):
                if not put(block):
                    return
            put(None)
        except BaseException as exc:  # handed to the consumer
            put(exc)

    worker = threading.Thread(target=produce, name="xes-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _read_blocks(path: Path) -> Iterator[bytes]:
    """The file's bytes in blocks that end at a line end (gzip decompressed)."""
    with path.open("rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        if magic == b"\x1f\x8b":
            yield from _line_blocks(_gunzip(raw))
            return
        yield from _line_blocks(iter(lambda: raw.read(_BLOCK), b""))


def _gunzip(raw: IO[bytes]) -> Iterator[bytes]:
    """The decompressed bytes of a gzip file (every member), in pieces of at most ``_BLOCK``.

    ISA-L's inflate (``isal``) is about twice as fast as zlib's; zlib when it is missing. A
    stream that ends early or has anything but another member after a member is left to the
    lxml reader (the ``gzip`` module says what is wrong).
    """
    d = _inflate.decompressobj(31)
    pending = b""
    while True:
        if not pending:
            pending = raw.read(_RAW_BLOCK)
            if not pending:
                if not d.eof:
                    raise NotFastPath("truncated gzip stream")
                return
        try:
            out = d.decompress(pending, _BLOCK)
        except _inflate.error as exc:
            raise NotFastPath(f"gzip: {exc}") from None
        pending = d.unconsumed_tail
        if d.eof:
            pending = d.unused_data + pending
            if pending:
                if pending[:2] != b"\x1f\x8b":
                    raise NotFastPath("data after the gzip stream")
                d = _inflate.decompressobj(31)
        if out:
            yield out


def _line_blocks(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """``pieces`` re-cut into blocks of about ``_BLOCK`` bytes that end at a line end."""
    rest = b""
    for piece in pieces:
        block = rest + piece if rest else piece
        if len(block) < _BLOCK:
            rest = block
            continue
        cut = block.rfind(b"\n")
        if cut < 0:
            rest = block
            continue
        rest = block[cut + 1 :]
        yield block[: cut + 1]
    if rest:
        yield rest


def _classify_head(head: str) -> tuple[int, str | None]:
    """Class and tag of a line from its text before the first ``"`` (stripped)."""
    if head == "":
        return _IGN, None
    if head == "<trace>":
        return _TRACE, "trace"
    if head == "<event>":
        return _EVENT, "event"
    m = _ATTR_HEAD.fullmatch(head)
    if m:
        return (_ATTR_K if m.group(2) == "key" else _ATTR_V), m.group(1)
    m = _CLOSE_RE.fullmatch(head)
    if m:
        return _CLOSE, m.group(1)
    if head.startswith("<!--"):
        return (_IGN, None) if _COMMENT_RE.fullmatch(head) else (_UNKNOWN, None)
    if head.startswith("<?xml"):
        return _PI, None
    m = _OPEN_RE.fullmatch(head)
    if m and m.group(1) not in _ATTR_TAGS and m.group(1) not in ("trace", "event"):
        return _OPEN, m.group(1)
    return _UNKNOWN, None


def _check_other(line: str, tag: str) -> None:
    """An element line of another kind (``<log ...>``, ``<extension .../>``) must be one
    well-formed tag: lxml parses it on its own (closed, if it opens)."""
    text = line.strip(_XML_WS)
    doc = text if text.endswith("/>") else f"{text}</{tag}>"
    try:
        element = etree.fromstring(
            doc.encode(), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        )
    except etree.XMLSyntaxError:
        raise NotFastPath(f"line {line!r}") from None
    if len(element) or (element.text or "").strip(_XML_WS):
        raise NotFastPath(f"line {line!r}: more than one tag")


# Fields per line: attribute lines have 5 (4 quotes); the header's <log>, <extension> lines
# up to 12 (5 XML attributes). Blocks are read with 6 and, if a line has more, again with 12.
_FEW, _MANY = 6, 12


def _schema(fields: int) -> dict[str, pl.DataType]:
    # Heads, keys, the text between key and value, and tails repeat: categorical (4 bytes a
    # line, grouped by integer). Values: text.
    return {f"f{i}": (pl.Categorical() if i in (0, 1, 2, 4) else pl.Utf8()) for i in range(fields)}


class _State:
    """What the blocks of one file share: tag ids, validated other lines, declarations."""

    def __init__(self) -> None:
        self.tags: dict[str, int] = {}
        self.seen_other: set[str] = set()
        self.pis: list[tuple[int, str]] = []
        self.rows = 0

    def tag_id(self, tag: str | None) -> int:
        if tag is None:
            return 0
        return self.tags.setdefault(tag, len(self.tags) + 1)


def _read_fields(data: bytes, fields: int) -> pl.DataFrame | None:
    """Every line split at '"' in Rust: tag head, key, ' value=', value, tail ('/>'), ...;
    missing fields are "". ``None`` if a line has more than ``fields``."""
    try:
        # Polars takes the number of fields from the first line: a dummy one with the most.
        return pl.read_csv(
            b'"' * (fields - 1) + b"\n" + data,
            has_header=False,
            separator='"',
            quote_char=None,
            schema=_schema(fields),
            comment_prefix=None,
            empty_string_is_null=False,
        ).slice(1)
    except pl.exceptions.ComputeError as exc:
        if "more fields" in str(exc) and fields < _MANY:
            return None
        raise NotFastPath(str(exc)) from None
    except Exception as exc:  # bad UTF-8, ...: let lxml say what is wrong
        raise NotFastPath(str(exc)) from None


def _scan_block(data: bytes, state: _State) -> pl.DataFrame:
    """Per line of ``data``: class code, tag id, key, value (attribute lines), self-closing."""
    cut = _read_fields(data, _FEW)
    if cut is None:
        cut = _read_fields(data, _MANY)
    if cut is None:  # pragma: no cover - _read_fields raises at _MANY
        raise NotFastPath("too many fields")
    names_f = cut.columns
    offset = state.rows
    state.rows += cut.height
    f0 = pl.col("f0")
    heads = cut.lazy().select(f0.unique(), f0.unique().to_physical().alias("id")).collect()
    code_map: dict[int, int] = {}
    tag_map: dict[int, int] = {}
    for head, phys in heads.iter_rows():
        kind, tag = _classify_head((head or "").strip(_XML_WS))
        if kind == _UNKNOWN:
            raise NotFastPath(f"line shape {head!r}")
        code_map[phys] = kind
        tag_map[phys] = state.tag_id(tag)
    cut = _with_code_and_tag(cut, code_map, tag_map)
    code = pl.col("code")

    def empty(f: str) -> pl.Expr:  # a missing field ('""' or past the line's end)
        return pl.col(f).is_null() | (pl.col(f) == "")

    rest = pl.any_horizontal([~empty(f) for f in names_f[5:]]).alias("rest")
    shape = [code, empty("f1").alias("e1"), "f2", empty("f3").alias("e3"), "f4", rest]
    lines = cut.lazy().filter(code.is_in([_IGN, _TRACE, _EVENT, _CLOSE, _ATTR_K, _ATTR_V]))
    top = cut.select(pl.max_horizontal(pl.col("f2", "f4").to_physical().max())).item()
    if top is not None and top < _SHAPE_IDS - 1:
        # One integer per shape (category ids of f2 and f4, null as 0): the first line of each
        # shape is found by hashing one column instead of six.
        ids = [pl.col(f).to_physical().cast(pl.UInt64).add(1).fill_null(0) for f in ("f2", "f4")]
        flags = (
            empty("f1").cast(pl.UInt64) * 4 + empty("f3").cast(pl.UInt64) * 2 + rest.cast(pl.UInt64)
        )
        packed = ((ids[0] * _SHAPE_IDS + ids[1]) * 16 + code.cast(pl.UInt64)) * 8 + flags
        lines = lines.filter(packed.is_first_distinct())
        shapes = lines.select(shape).collect()
    else:
        shapes = lines.select(shape).unique().collect()
    tails3: set[str] = set()  # f2 values that end a line: <t key="k"/>
    closers: set[str] = set()  # tails of self-closing lines
    for c, e1, f2_, e3, f4_, more in shapes.iter_rows():
        f2, f4 = f2_ or "", f4_ or ""
        if c in (_IGN, _TRACE, _EVENT, _CLOSE):
            ok = e1 and f2 == "" and e3 and f4 == "" and not more
        elif _TAIL.fullmatch(f2):  # <t key="k"/>, or <t value="v"/> (no key: not a column)
            ok = e3 and f4 == "" and not more
            tails3.add(f2)
        else:  # <t key="k" value="v"/> or <t value="v" key="k"/>
            mid = _MID_VALUE if c == _ATTR_K else _MID_KEY
            ok = mid.fullmatch(f2) is not None and _TAIL.fullmatch(f4) is not None and not more
        if not ok:
            raise NotFastPath(f"line shape {(c, f2, f4)!r}")
        if c in (_ATTR_K, _ATTR_V):
            tail = f2 if f2 in tails3 else f4
            if tail.strip(_XML_WS) == "/>":
                closers.add(tail)
    special = (
        cut.with_row_index("i")
        .filter(code.is_in([_OPEN, _PI]))
        .select(
            "i",
            code,
            "tag",
            pl.concat_str([pl.col(f).cast(pl.Utf8).fill_null("") for f in names_f], separator='"')
            .str.strip_chars_end('"')
            .alias("line"),
        )
    )
    names = {v: k for k, v in state.tags.items()}
    selfclosing_other: list[int] = []
    for i, c, tag, line in special.iter_rows():
        if c == _PI:
            state.pis.append((offset + i, line))
            continue
        if line not in state.seen_other:
            if len(state.seen_other) >= _MAX_OTHER_LINES:
                raise NotFastPath("too many distinct other lines")
            _check_other(line, names[tag])
            state.seen_other.add(line)
        if line.rstrip(_XML_WS).endswith("/>"):
            selfclosing_other.append(i)
    attr = code.is_in([_ATTR_K, _ATTR_V])
    short = pl.col("f2").is_in(sorted(tails3)) if tails3 else pl.lit(False)
    ends = sorted(closers)
    selfclosing = pl.col("f4").is_in(ends)
    if tails3:
        selfclosing = pl.when(short).then(pl.col("f2").is_in(ends)).otherwise(selfclosing)
    out_code = (
        pl.when(attr & selfclosing)
        .then(pl.lit(_ATTR_SELF, pl.UInt8))
        .when(attr)
        .then(pl.lit(_ATTR_OPEN, pl.UInt8))
        .otherwise(code)
    )
    if selfclosing_other:
        out_code = (
            pl.when(pl.int_range(pl.len()).is_in(selfclosing_other))
            .then(pl.lit(_SELF, pl.UInt8))
            .otherwise(out_code)
        )
    has_v = cut.select((code == _ATTR_V).any()).item()
    # Key and value are read only on attribute lines (later); other lines' fields are left.
    key: pl.Expr = pl.col("f1")
    value: pl.Expr = pl.col("f3")
    if has_v:  # value first: swap
        key = key.cast(pl.Utf8)
        value = pl.when(code == _ATTR_V).then(key).otherwise(value)
        no_key = pl.when(short).then(None).otherwise(pl.col("f3"))  # <t value="v"/>
        key = pl.when(code == _ATTR_V).then(no_key).otherwise(key).cast(pl.Categorical)
    if tails3:  # <t key="k"/>: no value (None, as lxml gives)
        value = pl.when(short).then(None).otherwise(value)
    return (
        cut.lazy()
        .select(
            out_code.alias("code"),
            "tag",
            key.alias("key"),
            value.alias("value"),
        )
        .collect()
    )


def _with_code_and_tag(
    cut: pl.DataFrame, code_map: dict[int, int], tag_map: dict[int, int]
) -> pl.DataFrame:
    """``cut`` with each line's class ``code`` and ``tag`` id, looked up by its head's id."""
    heads = cut.get_column("f0")
    if heads.null_count() == 0 and max(code_map, default=0) < _LUT_MAX:
        top = max(code_map, default=0) + 1
        # A table indexed by category id: one gather per column instead of a hash lookup.
        code_lut = np.zeros(top, dtype=np.uint8)
        tag_lut = np.zeros(top, dtype=np.uint16)
        code_lut[list(code_map)] = list(code_map.values())
        tag_lut[list(tag_map)] = list(tag_map.values())
        phys = heads.to_physical().to_numpy()
        return cut.with_columns(
            pl.Series("code", code_lut[phys], dtype=pl.UInt8),
            pl.Series("tag", tag_lut[phys], dtype=pl.UInt16),
        )
    phys0 = pl.col("f0").to_physical()
    return cut.with_columns(
        phys0.replace_strict(code_map, return_dtype=pl.UInt8).alias("code"),
        phys0.replace_strict(tag_map, return_dtype=pl.UInt16).alias("tag"),
    )


def scan_xes(path: Path) -> XesRows:
    """Read an XES file's attribute rows the vectorised way.

    Raises:
        NotFastPath: The file is not in a layout this reader proves it handles.
        OSError: The file cannot be read.
    """
    state = _State()
    frames: list[pl.DataFrame] = []
    for block in _blocks(path):
        data = block
        if not frames:
            if data[:3] == b"\xef\xbb\xbf":
                data = data[3:]
            # The header (up to the first trace) has the lines with many quotes: on its own.
            cut = data.rfind(b"\n", 0, max(data.find(b"<trace"), 0)) + 1
            if cut:
                frames.append(_scan_block(data[:cut], state))
                data = data[cut:]
        frames.append(_scan_block(data, state))
    if not frames:
        raise NotFastPath("empty file")
    box = [pl.concat(frames, rechunk=False) if len(frames) > 1 else frames[0]]
    del frames
    return _structure(box, state)


def _structure(box: list[pl.DataFrame], state: _State) -> XesRows:
    rows = box.pop()  # the only reference: freed as soon as it is no longer needed
    code = pl.col("code")
    if state.pis:
        first_pi, decl = state.pis[0]
        if len(state.pis) > 1 or first_pi != 0 or not _DECL_RE.fullmatch(decl.strip(_XML_WS)):
            raise NotFastPath("processing instruction or declaration")
    opening = code.is_in([_OPEN, _TRACE, _EVENT, _ATTR_OPEN])
    delta = pl.when(opening).then(1).when(code == _CLOSE).then(-1).otherwise(0).cast(pl.Int32)
    tagged = code.is_in([_OPEN, _TRACE, _EVENT, _ATTR_OPEN, _CLOSE])
    info = (
        rows.lazy()
        .filter(code != _PI)
        .with_columns(delta.cum_sum().alias("after"))
        .with_columns((pl.col("after") - delta).alias("before"))
        .collect()
    )
    del rows
    checks = info.select(
        pl.col("after").min().alias("min"),
        pl.col("after").last().alias("last"),
        ((pl.col("before") == 0) & (code != _IGN)).sum().alias("top"),
        code.filter(code != _IGN).first().alias("first_code"),
        pl.col("tag").filter(code != _IGN).first().alias("first_tag"),
    ).row(0, named=True)
    if not (
        checks["min"] >= 0
        and checks["last"] == 0
        and checks["top"] == 1
        and checks["first_code"] == _OPEN
        and checks["first_tag"] == state.tags.get("log")
    ):
        raise NotFastPath("document structure")
    # Every closing tag closes the element last opened at its level.
    level = pl.when(code == _CLOSE).then(pl.col("after")).otherwise(pl.col("before"))
    mismatched = (
        info.lazy()
        .filter(tagged)
        .select(code, "tag", level.alias("level"))
        .with_columns(pl.col("tag").shift(1).over("level").alias("opened"))
        .filter((code == _CLOSE) & (pl.col("tag") != pl.col("opened")).fill_null(True))
        .select(pl.len())
        .collect()
        .item()
    )
    if mismatched:
        raise NotFastPath("closing tag mismatch")
    before = pl.col("before")
    is_trace = (code == _TRACE) & (before == 1)
    in_trace = pl.when(opening & (before == 1)).then(code == _TRACE).forward_fill().fill_null(False)
    marked = (
        info.lazy()
        .select(
            code,
            before,
            "key",
            pl.col("tag").alias("xtype"),
            "value",
            is_trace.alias("is_trace"),
            in_trace.alias("in_trace"),
        )
        .with_columns(
            ((code == _EVENT) & (before == 2) & pl.col("in_trace")).alias("is_event"),
        )
        .with_columns(
            pl.when(opening & (before == 2))
            .then(pl.col("is_event"))
            .forward_fill()
            .fill_null(False)
            .alias("in_event"),
            (pl.col("is_trace").cum_sum() - 1).alias("trace_no"),
            (pl.col("is_event").cum_sum() - 1).alias("event_no"),
        )
        .collect()
    )
    del info
    attr = (
        code.is_in([_ATTR_SELF, _ATTR_OPEN])
        & ~pl.col("xtype").is_in([state.tags.get("list", 0), state.tags.get("container", 0)])
        & pl.col("key").is_not_null()
    )
    events = marked.lazy().filter(attr & (before == 3) & pl.col("in_event"))
    traces = marked.lazy().filter(attr & (before == 2) & pl.col("in_trace"))
    cols = [pl.col("key"), pl.col("xtype"), pl.col("value")]
    ev, tr, event_trace, counts = pl.collect_all(
        [
            events.select(pl.col("event_no").alias("row"), *cols),
            traces.select(pl.col("trace_no").alias("row"), *cols),
            marked.lazy().filter("is_event").select("trace_no"),
            marked.lazy().select(
                pl.col("is_event").sum().alias("events"), pl.col("is_trace").sum().alias("traces")
            ),
        ]
    )
    del marked
    return XesRows(
        events=_unescape(ev),
        traces=_unescape(tr),
        xtypes={v: k for k, v in state.tags.items()},
        event_trace=event_trace.get_column("trace_no").cast(pl.Int64),
        n_events=int(counts["events"][0]),
        n_traces=int(counts["traces"][0]),
    )


_SPECIAL = (("lt", "<"), ("tab", "\t"), ("cr", "\r"), ("amp", "&"))
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))


def _unescape(frame: pl.DataFrame) -> pl.DataFrame:
    """Resolve the five predefined entities; refuse ``<``, tabs, character references."""
    value = pl.col("value")
    if not frame.select(value.str.contains(r"[<&\t\r]").any()).item():
        return frame  # the usual case: one pass
    flags = frame.select(
        *(value.str.contains(c, literal=True).any().alias(n) for n, c in _SPECIAL),
    ).row(0, named=True)
    if flags["lt"] or flags["tab"] or flags["cr"]:
        raise NotFastPath("a value needs the full XML parser")
    if not flags["amp"]:
        return frame
    known = value.str.count_matches(r"&(?:lt|gt|quot|apos|amp);")
    if frame.select((value.str.count_matches("&", literal=True) != known).any()).item():
        raise NotFastPath("character reference or bare &")
    out = value
    for ent, char in _ENTITIES:  # &amp; last: "&amp;lt;" stays "&lt;"
        out = out.str.replace_all(ent, char, literal=True)
    return frame.with_columns(out.alias("value"))


def pivot(
    rows: pl.DataFrame, height: int, xtypes: dict[int, str]
) -> dict[str, tuple[pl.Series, str]]:
    """Per key (in order of first appearance) its raw text column of ``height`` rows and its
    XES type.

    Raises:
        NotFastPath: A key has two types, needs the full parser, or an element has it twice.
    """
    out: dict[str, tuple[pl.Series, str]] = {}
    if rows.height == 0:
        return out
    parts = rows.partition_by("key", maintain_order=True, as_dict=True)
    del rows
    for (key,), part in parts.items():
        name = str(key)
        if any(c in name for c in "<&\t\r"):
            raise NotFastPath("a key needs the full XML parser")
        kinds = part.get_column("xtype")
        if kinds.min() != kinds.max():
            raise NotFastPath("a key with two types")
        idx = part.get_column("row")
        if part.height > 1 and (idx.diff() == 0).any():
            raise NotFastPath("a key twice in one element")
        values = part.get_column("value").alias(name)
        if part.height != height:
            full = pl.Series(name, [None], dtype=pl.Utf8).extend_constant(None, height - 1)
            values = full.scatter(idx, values)
        out[name] = (values, xtypes[int(kinds[0])])
    return out


_DATE_HEAD = 19  # YYYY-MM-DDTHH:MM:SS
_EPOCH_2000 = 946_684_800_000_000  # 2000-01-01T00:00:00Z in microseconds
_MAX_TAILS = 1 << 14


def fast_dates(text: pl.Series, reference: Callable[[pl.Series], pl.Series]) -> pl.Series | None:
    """XES dates as ``Datetime("us", "UTC")`` exactly as ``reference`` parses them, or ``None``.

    A date is a fixed-width head (``2011-10-01T00:38:44``), which polars parses on its fast path,
    and a tail (``.546+02:00``, ``Z``, ``""``) that adds a fixed number of microseconds. Logs
    have few distinct tails (fractions times offsets), so ``reference`` parses each tail once
    behind a fixed head and every value gets its tail's offset: the result is the reference
    parser's by construction; nulls stay null. ``None`` (the caller parses with ``reference``)
    when a head does not parse (a blank value too) or there are too many distinct tails.
    """
    if text.dtype != pl.Utf8 or text.null_count() == len(text):
        return None
    head = text.str.slice(0, _DATE_HEAD).str.to_datetime(
        "%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us", cache=False
    )
    if head.null_count() != text.null_count():
        return None
    tail = text.str.slice(_DATE_HEAD)
    tails = tail.unique().drop_nulls()
    if len(tails) > _MAX_TAILS:
        return None
    try:
        anchored = reference(("2000-01-01T00:00:00" + tails).alias(text.name))
    except LiuchengError:
        return None  # some tail is not a date ending: the caller reports the first bad value
    shift = anchored.to_physical() - _EPOCH_2000
    micro = tail.replace_strict(tails, shift, return_dtype=pl.Int64)
    return (head.to_physical() + micro).cast(pl.Datetime("us", "UTC")).alias(text.name)
