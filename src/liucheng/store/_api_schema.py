"""Tables of the server part (``liucheng.api``): users, tokens, audit log, model lifecycle.

Owned by the server; defined on :data:`liucheng.store.schema.metadata` and created by migration
``0002``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .schema import JsonText, UTCDateTime, metadata

__all__ = [
    "api_audit",
    "api_model",
    "api_model_event",
    "api_model_version",
    "api_token",
    "api_user",
]


def _serial() -> Column[int]:
    return Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


api_user = Table(
    "lc_api_user",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("display_name", String(400)),
    Column("password_hash", Text()),
    Column("groups", JsonText(), nullable=False),
    Column("is_admin", Boolean(), nullable=False),
    Column("disabled", Boolean(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# API tokens and session tokens; ``id`` is the SHA-256 of the secret (never stored in clear).
api_token = Table(
    "lc_api_token",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("user_id", String(200), nullable=False),
    Column("name", String(200)),
    Column("kind", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Index("ix_lc_api_token_user", "user_id"),
)

api_audit = Table(
    "lc_api_audit",
    metadata,
    _serial(),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(200)),
    Column("method", String(10), nullable=False),
    Column("path", Text(), nullable=False),
    Column("status", Integer(), nullable=False),
    Column("ip", String(100)),
    Column("detail", JsonText()),
    Index("ix_lc_api_audit_at", "at"),
)

api_model = Table(
    "lc_api_model",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(400)),
    Column("owner", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("latest_version", Integer(), nullable=False),
    Column("published_version", Integer()),
    Column("review_version", Integer()),
    Column("instance_id", String(200)),
    Column("deployment_id", String(200)),
    Column("created_by", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

api_model_version = Table(
    "lc_api_model_version",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("model_id", String(200), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("xml", Text(), nullable=False),
    Column("problems", JsonText(), nullable=False),
    Column("created_by", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("model_id", "version", name="uq_lc_api_model_version"),
)

api_model_event = Table(
    "lc_api_model_event",
    metadata,
    _serial(),
    Column("model_id", String(200), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(200)),
    Column("kind", String(40), nullable=False),
    Column("version", Integer()),
    Column("comment", Text()),
    Index("ix_lc_api_model_event_model", "model_id"),
)
