"""history: a command's events of one instance in one row; the process index ordered by time

From this version on, the store may write a run of events that one command appends for one
instance at one time (other than ``process_start``/``process_end``) as one ``lc_history`` row of
kind ``batch`` whose ``data`` lists the events (``liucheng.store._sql_history._BATCH``): one insert
and one index entry instead of a dozen. The downgrade writes every batch row back as the rows it
holds (merged pairs stay merged: the downgrade of 0006 splits those), keeping the append order
(``id``) of all rows.

``ix_lc_history_process`` becomes (at, kind): process starts and ends were inserted at two places
of a (kind, at) index, one of them in the middle (a page split every few commands); by time, every
entry goes to the right edge. Queries by kind still use it (partial on those kinds, ``kind`` is in
the index).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_PROCESS_KINDS = "kind = 'process_start' OR kind = 'process_end'"
_COLUMNS = (
    "id, kind, at, instance_id, definition_id, element_id, element_type, element_instance_id, "
    "actor, data, seq, removal_time"
)


def _process_index(columns: list[str]) -> None:
    op.drop_index("ix_lc_history_process", table_name="lc_history")
    op.create_index(
        "ix_lc_history_process",
        "lc_history",
        columns,
        unique=False,
        sqlite_where=sa.text(_PROCESS_KINDS),
        postgresql_where=sa.text(_PROCESS_KINDS),
    )


def upgrade() -> None:
    _process_index(["at", "kind"])


def _text(value: Any) -> str | None:
    # the store's encoding of a payload (tags such as {"$n": "1.5"} are plain JSON objects here)
    if value is None:
        return None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _split_batches() -> None:
    """Rewrite each batch row as the rows it holds, in place in ``id`` order.

    Every row moves up by the number of extra rows of the batches before it.
    """
    bind = op.get_bind()
    count = bind.execute(sa.text("SELECT COUNT(*) FROM lc_history WHERE kind = 'batch'"))
    if not count.scalar_one():
        return
    rows = bind.execute(sa.text(f"SELECT {_COLUMNS} FROM lc_history ORDER BY id")).all()
    out: list[dict[str, Any]] = []
    shift = 0
    for r in rows:
        m = r._mapping
        if m["kind"] != "batch":
            out.append({**m, "id": m["id"] + shift})
            continue
        entries = json.loads(m["data"])
        for k, (kind, element_id, element_type, eiid, actor, data, seq) in enumerate(entries):
            out.append(
                {
                    **m,
                    "id": m["id"] + shift + k,
                    "kind": kind,
                    "element_id": element_id,
                    "element_type": element_type,
                    "element_instance_id": eiid,
                    "actor": actor,
                    "data": _text(data),
                    "seq": seq,
                }
            )
        shift += len(entries) - 1
    op.execute("DELETE FROM lc_history")
    names = [c.strip() for c in _COLUMNS.split(",")]
    insert = sa.text(
        f"INSERT INTO lc_history ({_COLUMNS}) VALUES ({', '.join(':' + n for n in names)})"
    )
    for start in range(0, len(out), 1000):
        bind.execute(insert, out[start : start + 1000])
    if bind.dialect.name == "postgresql":
        # the next appended row continues after the highest id
        op.execute(
            "SELECT setval(pg_get_serial_sequence('lc_history', 'id'), "
            "(SELECT MAX(id) FROM lc_history))"
        )


def downgrade() -> None:
    _split_batches()
    _process_index(["kind", "at"])
