"""State and helpers shared by the mixins that make up ``._sql.SqlTransaction``."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy import Table as _Table

from liucheng.engine.ports import INDEX_KINDS, DefinitionRecord, InstanceRecord, Page
from liucheng.errors import NotFoundError

from . import schema
from ._raw import RawCursor, TableCodec, codec_for

_LOCKED_KINDS = frozenset({"job", "external_task"})
_FIELDS: dict[type[Any], tuple[str, ...]] = {}
_KIND_CODECS: dict[tuple[str, str], TableCodec] = {}


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _as_dict(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _field_names(type(record))}


def _record(cls: type[Any], row: Any) -> Any:
    mapping = row._mapping
    return cls(**{name: mapping[name] for name in _field_names(cls)})


def _paged(stmt: Select[Any], page: Page | None) -> Select[Any]:
    if page is None:
        return stmt
    if page.offset:
        stmt = stmt.offset(page.offset)
    if page.limit is not None:
        stmt = stmt.limit(page.limit)
    return stmt


def _identity(rec: InstanceRecord) -> tuple[Any, ...]:
    return (rec.key, rec.business_key, rec.parent_id, rec.root_id, rec.started_at)


class SqlTransactionBase:
    """The state of a :class:`~liucheng.store.SqlTransaction` and what its mixins share."""

    def __init__(
        self,
        connection: Connection,
        dialect: str,
        history_ttl: _dt.timedelta | None = None,
        definitions: dict[str, DefinitionRecord] | None = None,
    ) -> None:
        self.c = connection
        self.dialect = dialect
        self.history_ttl = history_ttl
        self.definitions = definitions if definitions is not None else {}
        self.jobs_changed = False
        # Ids of job / external-task rows this transaction read: writing one of them back is an
        # update that must find the row, never an insert that resurrects a row another
        # transaction deleted meanwhile.
        self._read: dict[str, set[str]] = {kind: set() for kind in _LOCKED_KINDS}
        self._cursor: RawCursor | None = None
        # Identity columns of the instances read (see _identity): unchanged, an update writes
        # only the state columns.
        self._identity: dict[str, tuple[Any, ...]] = {}

    def close(self) -> None:
        """Close the driver cursor (the transaction's statements are done)."""
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    @property
    def raw(self) -> RawCursor:
        """The driver cursor the hot statements run on (see :mod:`liucheng.store._raw`)."""
        if self._cursor is None:
            self._cursor = RawCursor(self.c)
        return self._cursor

    def _codec(self, kind: str) -> TableCodec:
        codec = _KIND_CODECS.get((kind, self.dialect))
        if codec is None:
            if kind == "instance":
                codec = codec_for(schema.instance, InstanceRecord, self.dialect)
            else:
                codec = codec_for(self._table(kind), INDEX_KINDS[kind], self.dialect)
            _KIND_CODECS[kind, self.dialect] = codec
        return codec

    def _table(self, kind: str) -> _Table:
        table = schema.INDEX_TABLES.get(kind)
        if table is None:
            raise NotFoundError(f"unknown index row kind {kind!r}", code="store.kind")
        return table
