"""The hot statements of the SQL store, run on the database driver's cursor directly.

An engine command runs a handful of statements (read the instance and a task row, update the
instance, replace index rows, append history). Through SQLAlchemy Core each one costs far more
Python time than SQLite needs to run it, so these statements are rendered once per table and
dialect as plain SQL and executed on the DBAPI cursor of the transaction's connection, converting
values exactly the way the schema's column types do (:class:`~liucheng.store.schema.UTCDateTime`,
:class:`~liucheng.store.schema.JsonText`, ``Boolean``). Driver errors are re-raised as the
SQLAlchemy exceptions the callers already handle.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import operator
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Boolean, Connection, LargeBinary
from sqlalchemy import Table as _Table
from sqlalchemy.exc import DBAPIError

from . import _codec, schema

__all__ = ["RawCursor", "TableCodec", "codec_for", "driver_of", "quote"]

_UTC = _dt.UTC
_fromiso = _dt.datetime.fromisoformat
Convert = Callable[[Any], Any] | None

# The sqlite3 module binds only int, float, str and bytearray directly; any other parameter (None,
# bool, bytes) goes through its adapter lookup, which for a type without a registered adapter
# builds and discards two AttributeErrors (asking the protocol for __adapt__, the value for
# __conform__) - about a microsecond per parameter, a fifth of a history insert. Registered
# adapters are found in one dict lookup; these give the driver exactly the value it would bind
# anyway (None binds NULL, bool binds as int, bytes as a blob), so every sqlite3 connection of
# the process behaves as before, only faster.
sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))  # C, gives None
sqlite3.register_adapter(bool, int)
sqlite3.register_adapter(bytes, bytes)


# Texts of the times bound last: a command stamps most rows with its one "now" (created_at,
# started_at, ...), and isoformat with a separator builds its text through PyUnicode_FromFormat,
# several times the cost of a dict lookup. Equal aware times are the same instant (same UTC
# text); a naive time never equals an aware one.
_TIME_TEXTS: dict[_dt.datetime, str] = {}
_TIME_TEXTS_MAX = 64


def _sqlite_time_bind(value: _dt.datetime | None) -> str | None:
    if value is None:
        return None
    text = _TIME_TEXTS.get(value)
    if text is not None:
        return text
    tz = value.tzinfo
    if tz is _UTC:
        # the engine's times: the text below plus "+00:00", cut off (cheaper than converting)
        text = value.isoformat(" ", "microseconds")[:26]
    else:
        plain = value.astimezone(_UTC).replace(tzinfo=None) if tz is not None else value
        # The text SQLAlchemy's SQLite DateTime type writes and parses ("%Y-%m-%d %H:%M:%S.%f").
        text = plain.isoformat(" ", "microseconds")
    if len(_TIME_TEXTS) >= _TIME_TEXTS_MAX:
        _TIME_TEXTS.clear()
    _TIME_TEXTS[value] = text
    return text


def _sqlite_time_read(value: Any) -> _dt.datetime | None:
    if value is None:
        return None
    if len(value) == 26:
        # "%Y-%m-%d %H:%M:%S.%f", as written above: parsing it with the offset costs a fraction
        # of parsing it naive and replacing the tzinfo
        return _fromiso(value + "+00:00")
    return _fromiso(value).replace(tzinfo=_UTC)


def _pg_time_bind(value: _dt.datetime | None) -> _dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(_UTC)
    return value.replace(tzinfo=None)


def _pg_time_read(value: _dt.datetime | None) -> _dt.datetime | None:
    return None if value is None else value.replace(tzinfo=_UTC)


def _json_bind(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is list and not value:  # candidate lists mostly
        return "[]"
    return _codec.dumps(value)


def _json_read(value: Any) -> Any:
    if value is None:
        return None
    if value == "[]":
        return []
    return _codec.loads(value)


def _bool_read(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _bytes_read(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def quote(name: str) -> str:
    """A column name quoted for SQLite and PostgreSQL alike (some are keywords)."""
    return f'"{name}"'


class TableCodec:
    """Rendered statements and value conversions of one table and record class."""

    def __init__(self, table: _Table, cls: type[Any], dialect: str) -> None:
        self.table = table
        self.cls = cls
        self.dialect = dialect
        self.postgres = dialect == "postgresql"
        self.names: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(cls))
        binds: list[Convert] = []
        reads: list[Convert] = []
        for name in self.names:
            column_type = table.c[name].type
            if isinstance(column_type, schema.UTCDateTime):
                binds.append(_pg_time_bind if self.postgres else _sqlite_time_bind)
                reads.append(_pg_time_read if self.postgres else _sqlite_time_read)
            elif isinstance(column_type, schema.JsonText):
                binds.append(_json_bind)
                reads.append(_json_read)
            elif isinstance(column_type, Boolean):
                binds.append(None)
                reads.append(_bool_read)
            elif isinstance(column_type, LargeBinary):
                binds.append(None)
                reads.append(_bytes_read)
            else:
                binds.append(None)
                reads.append(None)
        self.binds = tuple(binds)
        self.reads = tuple(reads)
        self.bind_of = dict(zip(self.names, binds, strict=True))
        self._conv_binds = tuple((i, f) for i, f in enumerate(binds) if f is not None)
        self._conv_reads = tuple((i, f) for i, f in enumerate(reads) if f is not None)
        p = self.mark
        name = table.name
        q = {n: quote(n) for n in self.names}
        cols = ", ".join(q.values())
        self.select = f"SELECT {cols} FROM {name}"
        self.select_id = f"{self.select} WHERE id = {p}"
        self.select_id_locked = self.select_id + (" FOR UPDATE" if self.postgres else "")
        self.insert = f"INSERT INTO {name} ({cols}) VALUES ({', '.join([p] * len(self.names))})"
        rest = [n for n in self.names if n != "id"]
        self.upsert = f"{self.insert} ON CONFLICT (id) DO UPDATE SET " + ", ".join(
            f"{q[n]} = excluded.{q[n]}" for n in rest
        )
        # UPDATE ... SET every column but id WHERE id = ? : parameters are the row values
        # without id, then id.
        self.update_id = (
            f"UPDATE {name} SET {', '.join(f'{q[n]} = {p}' for n in rest)} WHERE id = {p}"
        )
        self._id_index = self.names.index("id")
        # every column value in one C call (a tuple even for a one-column table)
        getter = operator.attrgetter(*self.names)
        self._get: Callable[[Any], tuple[Any, ...]] = (
            getter if len(self.names) > 1 else (lambda record: (getter(record),))
        )
        #: DELETE ... WHERE id IN (n marks), by n (see delete_in)
        self._delete_in: dict[int, str] = {}

    @property
    def mark(self) -> str:
        """The driver's parameter placeholder."""
        return "%s" if self.postgres else "?"

    def params(self, record: Any) -> list[Any]:
        """The record's column values, converted for the driver, in :attr:`names` order."""
        values = list(self._get(record))
        for i, f in self._conv_binds:
            value = values[i]
            if value is not None:  # (every conversion keeps NULL)
                values[i] = f(value)
        return values

    def delete_in(self, n: int) -> str:
        """``DELETE`` of the rows whose id is one of ``n`` parameters."""
        sql = self._delete_in.get(n)
        if sql is None:
            marks = ", ".join([self.mark] * n)
            sql = self._delete_in[n] = f"DELETE FROM {self.table.name} WHERE id IN ({marks})"
        return sql

    def update_params(self, record: Any) -> list[Any]:
        """Parameters of :attr:`update_id`: every column but id, then id."""
        values = self.params(record)
        row_id = values.pop(self._id_index)
        values.append(row_id)
        return values

    def record(self, row: Sequence[Any]) -> Any:
        """A record from a row selected with :attr:`select`."""
        values = list(row)
        for i, f in self._conv_reads:
            value = values[i]
            if value is not None:  # (every conversion keeps NULL; most optional columns are)
                values[i] = f(value)
        return self.cls(*values)

    def bind_value(self, name: str, value: Any) -> Any:
        """A filter value converted like the column ``name``."""
        f = self.bind_of.get(name)
        return value if f is None or value is None else f(value)


_CODECS: dict[tuple[str, str, type[Any]], TableCodec] = {}


def codec_for(table: _Table, cls: type[Any], dialect: str) -> TableCodec:
    """The (cached) codec of ``table`` read as ``cls`` on ``dialect``."""
    key = (table.name, dialect, cls)
    codec = _CODECS.get(key)
    if codec is None:
        codec = _CODECS[key] = TableCodec(table, cls, dialect)
    return codec


def driver_of(connection: Connection) -> Any:
    """The DBAPI connection under ``connection``, looked up once per connection object.

    (SQLAlchemy's lookup goes through two properties each time, several microseconds, paid
    a few times per transaction.) A connection object serves one checkout: PostgreSQL and nested
    transactions take a new one each time; the SQLite connections kept checked out are replaced
    once invalidated (``SqlStore._hot_connection``, the read connections), never revalidated.
    """
    try:
        return connection._lc_driver  # type: ignore[attr-defined]
    except AttributeError:
        driver = connection.connection.driver_connection
        assert driver is not None
        connection._lc_driver = driver  # type: ignore[attr-defined]
        return driver


class RawCursor:
    """A DBAPI cursor on a transaction's connection; errors come out as SQLAlchemy's."""

    def __init__(self, connection: Connection) -> None:
        self._cursor = driver_of(connection).cursor()
        dbapi = connection.dialect.dbapi
        assert dbapi is not None
        self._error: type[Exception] = dbapi.Error
        self._dialect = connection.dialect

    def _wrap(self, sql: str, params: Any, exc: BaseException) -> BaseException:
        return DBAPIError.instance(
            sql,
            params,
            exc,
            self._error,
            dialect=self._dialect,
        )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; returns the cursor (for ``fetchone``/``fetchall``/``rowcount``)."""
        try:
            self._cursor.execute(sql, params)
        except self._error as exc:
            raise self._wrap(sql, params, exc) from exc
        return self._cursor

    def close(self) -> None:
        """Close the driver cursor."""
        self._cursor.close()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for every parameter row."""
        if len(rows) == 1:
            self.execute(sql, rows[0])
            return
        try:
            self._cursor.executemany(sql, rows)
        except self._error as exc:
            raise self._wrap(sql, rows, exc) from exc
