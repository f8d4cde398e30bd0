"""Writes of a SQL transaction: deployments and :meth:`~SqlWrites.apply` of a change set."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from liucheng.engine.ports import (
    REVISIONED_KINDS,
    ChangeSet,
    DefinitionRecord,
    DeploymentRecord,
    InstanceRecord,
)
from liucheng.errors import ConcurrencyError

from . import schema
from ._raw import codec_for, quote
from ._sql_base import _as_dict, _identity
from ._sql_connection import _DEPLOYING, _LATEST
from ._sql_history import SqlHistory

_CHUNK = 500
#: PostgreSQL NOTIFY channel announcing new or changed jobs (payload empty).
JOB_CHANNEL = "liucheng_jobs"
#: PostgreSQL NOTIFY channel announcing external tasks (payload: the topic).
EXTERNAL_TASK_CHANNEL = "liucheng_external_tasks"


class SqlWrites(SqlHistory):
    """The writing half of :class:`~liucheng.store.SqlTransaction`."""

    # ------------------------------------------------------------------------ definitions
    def add_deployment(
        self, deployment: DeploymentRecord, definitions: Sequence[DefinitionRecord]
    ) -> None:
        """Store a deployment, its resources and its definition versions."""
        # Before the first write: until this transaction ends, this connection's
        # latest-definition cache is dropped and not refilled (see latest_definition).
        self._deploying()
        try:
            self.c.execute(
                insert(schema.deployment),
                [
                    {
                        "id": deployment.id,
                        "name": deployment.name,
                        "deployed_at": deployment.deployed_at,
                    }
                ],
            )
            if deployment.resources:
                self.c.execute(
                    insert(schema.resource),
                    [
                        {"deployment_id": deployment.id, "name": name, "content": content}
                        for name, content in deployment.resources.items()
                    ],
                )
            if definitions:
                self.c.execute(insert(schema.definition), [_as_dict(d) for d in definitions])
        except IntegrityError as exc:
            raise ConcurrencyError(
                f"deployment {deployment.id} conflicts with a concurrent deployment: {exc.orig}",
                code="store.deployment_conflict",
            ) from exc

    def _deploying(self) -> None:
        # Drop this connection's latest-definition cache and keep it off until the transaction
        # (and its group-commit batch) ends: it would otherwise keep a definition that a
        # rollback or a failed commit takes back. _raw_end clears the flag.
        info = self.c.info
        info.pop(_LATEST, None)
        info[_DEPLOYING] = True

    def apply(self, changes: ChangeSet) -> None:
        """Write a change set, checking every instance revision.

        Raises:
            ConcurrencyError: An instance's stored revision is not the expected one.
        """
        raw = self.raw
        if changes.instances_insert or changes.instances_update:
            icodec = self._codec("instance")
        if changes.instances_insert:
            rows = []
            for rec in changes.instances_insert:
                values = icodec.params(rec)
                values[_REVISION_COLUMN] = 1
                rows.append(values)
            try:
                raw.executemany(icodec.insert, rows)
            except IntegrityError as exc:
                raise ConcurrencyError(
                    f"process instance exists already: {exc.orig}", code="store.instance_exists"
                ) from exc
        identity = self._identity
        for rec, expected in changes.instances_update:
            if identity.get(rec.id) == _identity(rec):
                # Only the columns a command changes: SQLite rewrites the entries of every index
                # whose columns an UPDATE sets, changed or not (four indexes on lc_instance).
                values = icodec.params(rec)
                values = [values[i] for i in _STATE_AT]
                values[_STATE_REVISION_AT] = expected + 1
                values += (rec.id, expected)
                sql = _UPDATE_STATE_SQL[self.dialect]
            else:
                values = icodec.update_params(rec)
                # update_params ends with the id; the revision is one of the set columns
                values[_REVISION_AT] = expected + 1
                values.append(expected)
                sql = _UPDATE_INSTANCE_SQL[self.dialect]
            if raw.execute(sql, values).rowcount != 1:
                raise _conflict(rec.id, expected)
        for instance_id, expected in changes.instances_delete:
            if not expected:
                continue
            result = raw.execute(_DELETE_INSTANCE_SQL[self.dialect], (instance_id, expected))
            if result.rowcount != 1:
                raise _conflict(instance_id, expected)
        for kind, ids in changes.deletes.items():
            if not ids:
                continue
            codec = self._codec(kind)
            id_list = list(ids)
            for start in range(0, len(id_list), _CHUNK):
                chunk = id_list[start : start + _CHUNK]
                raw.execute(codec.delete_in(len(chunk)), chunk)
        for kind, upserts in changes.upserts.items():
            if not upserts:
                continue
            if kind in REVISIONED_KINDS:
                self._write_revisioned(kind, list(upserts.values()))
                continue
            read = self._read.get(kind)
            if read:
                fresh = [r for r in upserts.values() if r.id not in read]
                self._update_read(kind, [r for r in upserts.values() if r.id in read])
            else:
                fresh = list(upserts.values())
            if fresh:
                codec = self._codec(kind)
                raw.executemany(codec.upsert, [codec.params(r) for r in fresh])
        if changes.history:
            self._append_history(changes.history)
        c = self.c
        if changes.upserts.get("job"):
            self.jobs_changed = True
            if self.dialect == "postgresql":
                c.execute(text("SELECT pg_notify(:channel, '')"), {"channel": JOB_CHANNEL})
        if changes.upserts.get("external_task") and self.dialect == "postgresql":
            topics = sorted({r.topic for r in changes.upserts["external_task"].values()})
            for topic in topics:
                c.execute(
                    text("SELECT pg_notify(:channel, :topic)"),
                    {"channel": EXTERNAL_TASK_CHANNEL, "topic": topic[:7000]},
                )
        # Only after every write succeeded: the records now carry the stored revision.
        for rec in changes.instances_insert:
            rec.revision = 1
        for rec, expected in changes.instances_update:
            rec.revision = expected + 1

    def _write_revisioned(self, kind: str, records: list[Any]) -> None:
        # Optimistic locking for small shared rows (round-robin cursors): a record is written
        # only over the revision it was read at (revision - 1); revision 1 of a row that does
        # not exist yet is an insert, which fails if another transaction inserted it first.
        codec = self._codec(kind)
        check = codec.update_id + f" AND revision = {codec.mark}"
        for rec in records:
            params = [*codec.update_params(rec), rec.revision - 1]
            if self.raw.execute(check, params).rowcount == 1:
                continue
            if rec.revision == 1:
                try:
                    self.raw.execute(codec.insert, codec.params(rec))
                    continue
                except IntegrityError as exc:
                    raise ConcurrencyError(
                        f"{kind.replace('_', ' ')} {rec.id} was created meanwhile",
                        code="store.row_changed",
                        details={"kind": kind, "id": rec.id},
                    ) from exc
            raise ConcurrencyError(
                f"{kind.replace('_', ' ')} {rec.id} changed meanwhile",
                code="store.row_changed",
                details={"kind": kind, "id": rec.id},
            )

    def _update_read(self, kind: str, records: list[Any]) -> None:
        codec = self._codec(kind)
        for rec in records:
            if self.raw.execute(codec.update_id, codec.update_params(rec)).rowcount != 1:
                raise ConcurrencyError(
                    f"{kind.replace('_', ' ')} {rec.id} was removed meanwhile",
                    code="store.row_gone",
                    details={"kind": kind, "id": rec.id},
                )


def _update_instance_sql(dialect: str) -> str:
    codec = codec_for(schema.instance, InstanceRecord, dialect)
    return codec.update_id + f" AND revision = {codec.mark}"


_UPDATE_INSTANCE_SQL = {d: _update_instance_sql(d) for d in ("sqlite", "postgresql")}
# The columns of lc_instance a command changes in place; the others (_identity) are fixed at
# start, except through migration to another definition, which then writes every column.
_STATE_COLUMNS = ("definition_id", "state", "ended_at", "revision", "doc", "has_incident")
_INSTANCE_NAMES = tuple(f.name for f in dataclasses.fields(InstanceRecord))
_STATE_AT = tuple(_INSTANCE_NAMES.index(n) for n in _STATE_COLUMNS)
_STATE_REVISION_AT = _STATE_COLUMNS.index("revision")
_REVISION_COLUMN = _INSTANCE_NAMES.index("revision")
_DELETE_INSTANCE_SQL = {
    d: f"DELETE FROM lc_instance WHERE id = {m} AND revision = {m}"
    for d, m in (("sqlite", "?"), ("postgresql", "%s"))
}
_UPDATE_STATE_SQL = {
    d: f"UPDATE lc_instance SET {', '.join(f'{quote(n)} = {m}' for n in _STATE_COLUMNS)} "
    f"WHERE id = {m} AND revision = {m}"
    for d, m in (("sqlite", "?"), ("postgresql", "%s"))
}

# Position of the revision among update_params' values (every column but id, in order).
_REVISION_AT = [n for n in dataclasses.fields(InstanceRecord) if n.name != "id"].index(
    next(f for f in dataclasses.fields(InstanceRecord) if f.name == "revision")
)


def _conflict(instance_id: str, expected: int) -> ConcurrencyError:
    return ConcurrencyError(
        f"process instance {instance_id} changed meanwhile (expected revision {expected})",
        element_id=None,
        details={"instance_id": instance_id, "expected_revision": expected},
    )
