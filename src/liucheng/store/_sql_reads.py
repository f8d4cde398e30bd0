"""Reads and queries of a SQL transaction (definitions, instances, index rows, due jobs)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select

from liucheng.engine.memory import instance_filters, matches
from liucheng.engine.ports import (
    DefinitionRecord,
    DeploymentRecord,
    InstanceRecord,
    JobRecord,
    Page,
)
from liucheng.errors import StoreError

from . import schema
from ._database import RAW_TX, READ_ONLY
from ._raw import TableCodec, codec_for, quote
from ._sql_base import _LOCKED_KINDS, SqlTransactionBase, _identity, _paged, _record
from ._sql_connection import _DEPLOYING, _LATEST

# Hot statements run on the driver cursor (see ._raw); the rest are SQLAlchemy Core, built once
# where they are fixed.
_GET_DEFINITION = select(schema.definition).where(schema.definition.c.id == bindparam("id"))

#: A find_rows statement: SQL (``None``: nothing can match), per bound filter its name, the
#: column's conversion and whether the value is a list, the filters compared in Python, codec.
_Plan = tuple[str | None, tuple[tuple[str, Any, bool], ...], tuple[str, ...], TableCodec]
_PLANS: dict[tuple[Any, str], _Plan] = {}
_PLANS_MAX = 512


class SqlReads(SqlTransactionBase):
    """The reading half of :class:`~liucheng.store.SqlTransaction`."""

    # ------------------------------------------------------------------------ definitions
    def get_deployment(self, deployment_id: str) -> DeploymentRecord | None:
        """A deployment with its resources."""
        row = self.c.execute(
            select(schema.deployment).where(schema.deployment.c.id == deployment_id)
        ).first()
        if row is None:
            return None
        resources = {
            r.name: bytes(r.content)
            for r in self.c.execute(
                select(schema.resource).where(schema.resource.c.deployment_id == deployment_id)
            )
        }
        return DeploymentRecord(
            id=row.id, name=row.name, deployed_at=row.deployed_at, resources=resources
        )

    def get_definition(self, definition_id: str) -> DefinitionRecord | None:
        """A definition version by id."""
        cached = self.definitions.get(definition_id)
        if cached is not None:
            return cached
        row = self.c.execute(_GET_DEFINITION, {"id": definition_id}).first()
        if row is None:
            return None
        record: DefinitionRecord = _record(DefinitionRecord, row)
        self.definitions[definition_id] = record  # a definition version never changes
        return record

    def latest_definition(self, key: str, kind: str = "bpmn") -> DefinitionRecord | None:
        """The highest version of ``key``.

        In a SQLite write transaction begun on the driver (the group commit's connection) the
        answer is cached on the connection, valid while ``PRAGMA data_version`` (which changes
        when another connection, of this process or another, commits) stays the same: holding
        the write lock, the transaction sees the newest commit, and nobody else commits until
        it ends. A deployment on the same connection drops the cache (:meth:`_deploying`).
        """
        cache: tuple[int, dict[tuple[str, str], DefinitionRecord]] | None = None
        info = self.c.info
        if (
            self.dialect == "sqlite"
            and info.get(RAW_TX)
            and not info.get(READ_ONLY)
            and not info.get(_DEPLOYING)
        ):
            version: int = self.raw.execute("PRAGMA data_version").fetchone()[0]
            cache = info.get(_LATEST)
            if cache is None or cache[0] != version:
                fresh: dict[tuple[str, str], DefinitionRecord] = {}
                cache = info[_LATEST] = (version, fresh)
            hit = cache[1].get((key, kind))
            if hit is not None:
                return hit
        codec = codec_for(schema.definition, DefinitionRecord, self.dialect)
        p = codec.mark
        row = self.raw.execute(
            f'{codec.select} WHERE "key" = {p} AND kind = {p} ORDER BY version DESC LIMIT 1',
            (key, kind),
        ).fetchone()
        if row is None:
            return None
        record: DefinitionRecord = codec.record(row)
        if cache is not None:
            cache[1][key, kind] = record
        return record

    def definition_by_version(
        self, key: str, version: int, kind: str = "bpmn"
    ) -> DefinitionRecord | None:
        """Version ``version`` of ``key``."""
        t = schema.definition
        row = self.c.execute(
            select(t).where(t.c.key == key, t.c.kind == kind, t.c.version == version)
        ).first()
        return None if row is None else _record(DefinitionRecord, row)

    def list_definitions(
        self, key: str | None = None, kind: str | None = None
    ) -> list[DefinitionRecord]:
        """Definitions ordered by key and version."""
        t = schema.definition
        stmt = select(t).order_by(t.c.key, t.c.version)
        if key is not None:
            stmt = stmt.where(t.c.key == key)
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        return [_record(DefinitionRecord, r) for r in self.c.execute(stmt)]

    # -------------------------------------------------------------------------- instances
    def get_instance(self, instance_id: str) -> InstanceRecord | None:
        """A live instance by id."""
        codec = self._codec("instance")
        row = self.raw.execute(codec.select_id, (instance_id,)).fetchone()
        if row is None:
            return None
        rec: InstanceRecord = codec.record(row)
        self._identity[instance_id] = _identity(rec)
        return rec

    def known_instance(self, rec: InstanceRecord) -> None:
        """Note an instance the engine took from its cache as if read (identity columns)."""
        self._identity[rec.id] = _identity(rec)

    def find_instances(
        self,
        *,
        key: str | None = None,
        definition_id: str | None = None,
        business_key: str | None = None,
        parent_id: str | None = None,
        root_id: str | None = None,
        page: Page | None = None,
    ) -> list[InstanceRecord]:
        """Live instances matching every filter, oldest first."""
        t = schema.instance
        stmt = select(t).order_by(t.c.started_at, t.c.id)
        given = instance_filters(
            key=key,
            definition_id=definition_id,
            business_key=business_key,
            parent_id=parent_id,
            root_id=root_id,
        )
        for name, value in given.items():
            stmt = stmt.where(t.c[name] == value)
        return [_record(InstanceRecord, r) for r in self.c.execute(_paged(stmt, page))]

    # -------------------------------------------------------------------------- index rows
    def get_row(self, kind: str, row_id: str) -> Any | None:
        """One index row by id.

        On PostgreSQL, job and external-task rows are read ``FOR UPDATE``: a command acting on one
        holds it until commit, so two processes can never both apply the same job (the second
        waits, then finds the row gone or changed).
        """
        codec = self._codec(kind)
        locked = kind in _LOCKED_KINDS
        sql = codec.select_id_locked if locked else codec.select_id
        row = self.raw.execute(sql, (row_id,)).fetchone()
        if row is None:
            return None
        if locked:
            self._read[kind].add(row_id)
        return codec.record(row)

    def find_rows(
        self,
        kind: str,
        filters: dict[str, Any] | None = None,
        *,
        page: Page | None = None,
        order_by: Sequence[str] = (),
    ) -> list[Any]:
        """Index rows whose attributes equal every filter value (lists: any member)."""
        # The statement depends on the filters' names and shapes (value, NULL, a list of n),
        # the order and the page: built once per shape (_plan), bound per call.
        shape: list[Any] = [kind, tuple(order_by)]
        if page is not None:
            shape.append((page.limit, page.offset))
        if filters:
            for name, want in filters.items():
                if want is None:
                    shape.append((name, None))
                elif isinstance(want, list | tuple | set | frozenset):
                    shape.append((name, len(want)))
                else:
                    shape.append(name)
        key = tuple(shape)
        plan = _PLANS.get((key, self.dialect))
        if plan is None:
            plan = self._plan(kind, filters, page, order_by)
            if len(_PLANS) >= _PLANS_MAX:
                _PLANS.clear()
            _PLANS[key, self.dialect] = plan
        sql, binds, post, codec = plan
        if sql is None:
            return []
        params: list[Any] = []
        if binds:
            assert filters is not None
            for name, bind, many in binds:
                want = filters[name]
                if many:
                    if bind is None:
                        params.extend(want)
                    else:
                        params.extend(v if v is None else bind(v) for v in want)
                else:
                    params.append(want if bind is None else bind(want))
        record = codec.record
        rows = [record(r) for r in self.raw.execute(sql, params).fetchall()]
        if post:
            assert filters is not None
            rows = [r for r in rows if matches(r, {n: filters[n] for n in post})]
            if page is not None:
                end = None if page.limit is None else page.offset + page.limit
                rows = rows[page.offset : end]
        if kind in _LOCKED_KINDS:
            self._read[kind].update(r.id for r in rows)
        return rows

    def _plan(
        self,
        kind: str,
        filters: dict[str, Any] | None,
        page: Page | None,
        order_by: Sequence[str],
    ) -> _Plan:
        table = self._table(kind)
        codec = self._codec(kind)
        p = codec.mark
        where: list[str] = []
        binds: list[tuple[str, Any, bool]] = []
        post: list[str] = []
        for name, want in (filters or {}).items():
            column = table.c.get(name)
            if column is None:
                raise StoreError(f"{kind} rows have no attribute {name!r}", code="store.filter")
            if isinstance(column.type, schema.JsonText):
                post.append(name)  # JSON values compare in Python, exactly like the memory store
            elif isinstance(want, list | tuple | set | frozenset):
                if not want:
                    return (None, (), (), codec)
                where.append(f"{quote(name)} IN ({', '.join([p] * len(want))})")
                binds.append((name, codec.bind_of.get(name), True))
            elif want is None:
                where.append(f"{quote(name)} IS NULL")
            else:
                where.append(f"{quote(name)} = {p}")
                binds.append((name, codec.bind_of.get(name), False))
        for name in order_by:
            if name not in table.c:
                raise StoreError(f"{kind} rows have no attribute {name!r}", code="store.filter")
        columns = list(order_by) or [n for n in ("created_at", "seq", "id") if n in table.c]
        sql = codec.select
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY " + ", ".join(quote(n) for n in columns)
        if page is not None and not post:
            if page.limit is not None:
                sql += f" LIMIT {int(page.limit)}"
            elif page.offset and not codec.postgres:
                sql += " LIMIT -1"
            if page.offset:
                sql += f" OFFSET {int(page.offset)}"
        if kind == "external_task" and "topic" in (filters or {}) and self.dialect == "postgresql":
            # Fetch-and-lock reads tasks by topic to lock some of them: concurrent fetchers
            # skip each other's rows instead of locking the same task twice.
            sql += " FOR UPDATE SKIP LOCKED"
        return (sql, tuple(binds), tuple(post), codec)

    def due_jobs(self, now: _dt.datetime, *, limit: int | None = None) -> list[JobRecord]:
        """Due jobs with retries left and no live lock, earliest first."""
        t = schema.job
        stmt = (
            select(t)
            .where(
                t.c.due_at <= now,
                t.c.retries > 0,
                (t.c.lock_owner.is_(None)) | (t.c.lock_expires_at <= now),
            )
            .order_by(t.c.due_at, t.c.priority.desc(), t.c.seq)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_record(JobRecord, r) for r in self.c.execute(stmt)]
