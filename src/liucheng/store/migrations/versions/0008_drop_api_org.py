"""server: drop lc_api_org, the REST API's own organisation versions

The server now keeps the organisation where every engine reads it: ``lc_org_revision`` (0007),
written through ``Engine.org_admin`` (``PUT /api/v1/org`` and the edit routes). When
``lc_org_revision`` is still empty, the newest ``lc_api_org`` version is carried over as
revision 1 (same author and time), so a server's imported organisation survives the upgrade; a
version that no longer validates is left out with a warning (import it again). The downgrade
recreates the empty table (the server then falls back to its ``org_file``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from __future__ import annotations

import datetime as _dt
import json
import logging

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


log = logging.getLogger("alembic.runtime.migration")


def _carry_over() -> None:
    from liucheng.errors import LiuchengError
    from liucheng.org import organisation_document, organisation_from_dict
    from liucheng.store.schema import JsonText, UTCDateTime

    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM lc_org_revision")).scalar():
        return
    row = bind.execute(
        sa.text(
            "SELECT id, content, imported_at, imported_by FROM lc_api_org ORDER BY id DESC LIMIT 1"
        )
    ).first()
    if row is None:
        return
    try:
        import yaml

        text = row.content
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
        doc = organisation_document(organisation_from_dict(data, file="lc_api_org"))
    except (LiuchengError, ValueError, yaml.YAMLError) as exc:
        log.warning("lc_api_org version %s not carried over: %s", row.id, exc)
        return
    target = sa.table(
        "lc_org_revision",
        sa.column("revision", sa.Integer()),
        sa.column("doc", JsonText()),
        sa.column("created_at", UTCDateTime()),
        sa.column("author", sa.String()),
        sa.column("comment", sa.Text()),
    )
    at = row.imported_at
    if isinstance(at, str):  # SQLite without type information in a text() query
        at = _dt.datetime.fromisoformat(at)
    bind.execute(
        target.insert().values(
            revision=1,
            doc=doc,
            created_at=at,
            author=row.imported_by,
            comment=f"carried over from lc_api_org version {row.id}",
        )
    )


def upgrade() -> None:
    _carry_over()
    op.drop_table("lc_api_org")


def downgrade() -> None:
    op.create_table(
        "lc_api_org",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
