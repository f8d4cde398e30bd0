"""liucheng.history: event logs in and out (XES, CSV, Parquet, OCEL 2.0).

The event-log frame (the contract every analytics function relies on)
--------------------------------------------------------------------

``read_log(path, *, mapping: ColumnMapping | None = None, format: str | None = None)``
returns a ``polars.DataFrame`` with these columns, first and in this order:

- ``case_id`` (Utf8): the case (XES trace ``concept:name``).
- ``activity`` (Utf8): the activity (XES event ``concept:name``).
- ``timestamp`` (``Datetime("us", "UTC")``): the event time; naive input is taken as UTC.
- ``lifecycle`` (Utf8, lower case, nullable): XES ``lifecycle:transition``.
- ``resource`` (Utf8, nullable): XES ``org:resource``.
- ``event_index`` (Int64): 0-based position of the event in the source file.

Then every other event attribute as its own column under its original key (``cost:total``,
``org:group`` ...), and every trace attribute as ``case:<key>`` (``case:AMOUNT_REQ``), typed:
int → Int64, float → Float64, date → Datetime UTC, boolean → Boolean, string → Utf8.

Rows are sorted by (order of the case's first appearance in the file, ``timestamp``,
``event_index``): a stable per-case time order, like pm4py. Events without a timestamp sort last
within their case.

``write_log(frame, path, format=None)`` writes such a frame as XES, CSV, Parquet or OCEL 2.0
(JSON/XML/SQLite). OCEL logs are read with :func:`read_ocel` into an :class:`OcelLog` and
written with :func:`write_ocel`; :func:`read_log` flattens them on one object type.

Sources: files (``xes``, ``tabular``, ``ocel`` modules) and the engine's own history
(:func:`read_engine_log`; ``read_log`` takes a database URL or a Liucheng SQLite file too).
"""

from __future__ import annotations

from ._io import FORMATS, detect_format, read_log, write_log
from ._schema import CORE_COLUMNS, ColumnMapping, EventLogError, parse_timestamps
from .engine_log import is_engine_database, read_engine_log
from .tabular import from_frame
from .xes import read_xes, write_xes

__all__ = [
    "CORE_COLUMNS",
    "FORMATS",
    "ColumnMapping",
    "EventLogError",
    "detect_format",
    "from_frame",
    "is_engine_database",
    "parse_timestamps",
    "read_engine_log",
    "read_log",
    "read_xes",
    "write_log",
    "write_xes",
]
