"""The organisation in the database: one JSON document per revision (``lc_org_revision``).

Every import or edit of the organisation appends the next revision (who, when, what) and never
changes an older one, so the table is also the organisation's audit trail. Writes are
revision-checked: a writer names the revision it read plus one; the primary key refuses a second
writer of the same number (PostgreSQL: the later one fails on the unique index once the first
commits), which becomes a :class:`~liucheng.errors.ConcurrencyError` with nothing written.
Created by migration ``0007``; :class:`SqlOrgRevisions` is mixed into ``SqlStore``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Column, Integer, String, Table, Text, func, insert, select
from sqlalchemy.exc import IntegrityError

from liucheng.engine.ports import OrgRevisionRecord
from liucheng.errors import ConcurrencyError

from ._retry import in_transaction
from .schema import JsonText, UTCDateTime, metadata

__all__ = ["SqlOrgRevisions", "org_revision"]

org_revision = Table(
    "lc_org_revision",
    metadata,
    Column("revision", Integer(), primary_key=True, autoincrement=False),
    Column("doc", JsonText(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("author", String(200)),
    Column("comment", Text()),
)

_NEWEST = select(func.max(org_revision.c.revision))
_LISTING = select(
    org_revision.c.revision,
    org_revision.c.created_at,
    org_revision.c.author,
    org_revision.c.comment,
).order_by(org_revision.c.revision)


def _conflict(expected: int, newest: int | None) -> ConcurrencyError:
    return ConcurrencyError(
        f"the organisation was changed meanwhile: revision {expected} is not the newest"
        + (f" ({newest})" if newest is not None else ""),
        code="org.revision.conflict",
        hint="reload the organisation and apply the change again",
    )


class SqlOrgRevisions:
    """The ``OrgStore`` port (``liucheng.engine.ports``) of ``SqlStore``."""

    # SqlStore provides these two (declared here for the type checker only).
    def transaction(self) -> AbstractContextManager[Any]:  # pragma: no cover
        raise NotImplementedError

    def read_transaction(self) -> AbstractContextManager[Any]:  # pragma: no cover
        raise NotImplementedError

    def org_revision(self) -> int:
        """The newest stored organisation revision (0: none); one indexed ``max`` read."""
        newest = in_transaction(self, lambda tx: tx.c.execute(_NEWEST).scalar(), read=True)
        return int(newest or 0)

    def load_org(self, revision: int | None = None) -> OrgRevisionRecord | None:
        """A stored organisation revision (default: the newest), or ``None``."""
        t = org_revision
        stmt = select(t).order_by(t.c.revision.desc()).limit(1)
        if revision is not None:
            stmt = select(t).where(t.c.revision == revision)
        row = in_transaction(self, lambda tx: tx.c.execute(stmt).first(), read=True)
        if row is None:
            return None
        return OrgRevisionRecord(row.revision, row.doc, row.created_at, row.author, row.comment)

    def save_org(self, record: OrgRevisionRecord) -> None:
        """Append ``record`` as the next revision (``ConcurrencyError`` if it is not the next)."""
        expected = record.revision - 1

        def save(tx: Any) -> None:
            newest = int(tx.c.execute(_NEWEST).scalar() or 0)
            if newest != expected:
                raise _conflict(expected, newest)
            tx.c.execute(
                insert(org_revision).values(
                    revision=record.revision,
                    doc=record.doc,
                    created_at=record.created_at,
                    author=record.author,
                    comment=record.comment,
                )
            )

        try:
            in_transaction(self, save)
        except IntegrityError as exc:
            # another writer inserted the same revision number between our read and insert
            raise _conflict(expected, None) from exc

    def org_revisions(self) -> list[OrgRevisionRecord]:
        """Every stored organisation revision, oldest first (without documents)."""
        rows = in_transaction(self, lambda tx: tx.c.execute(_LISTING).all(), read=True)
        return [OrgRevisionRecord(r.revision, {}, r.created_at, r.author, r.comment) for r in rows]
