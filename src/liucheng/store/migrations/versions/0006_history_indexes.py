"""history and instances: fewer, partial indexes (fewer pages written per command)

``ix_lc_history_kind_at`` (every row, one leaf page per event kind and command) becomes
``ix_lc_history_process``, partial on process start/end events; ``ix_lc_history_removal`` becomes
partial on rows that have a removal time; ``ix_lc_instance_business_key`` and
``ix_lc_instance_parent`` become partial on rows that have a value. See
``liucheng.store.schema``.

From this version on, the store may write two events of one element instance as one
``lc_history`` row of kind ``activity_run``, ``task_wait`` or ``task_done``
(``liucheng.store._sql._MERGE``); the downgrade splits every such row back into its two rows,
which the code of older versions reads, keeping the append order (``id``) of all rows.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_PROCESS_KINDS = "kind = 'process_start' OR kind = 'process_end'"
_HAS_REMOVAL = "removal_time IS NOT NULL"
_PARTIAL_INSTANCE = (
    ("ix_lc_instance_business_key", "business_key"),
    ("ix_lc_instance_parent", "parent_id"),
)


def upgrade() -> None:
    op.drop_index("ix_lc_history_kind_at", table_name="lc_history")
    op.drop_index("ix_lc_history_removal", table_name="lc_history")
    op.create_index(
        "ix_lc_history_process",
        "lc_history",
        ["kind", "at"],
        unique=False,
        sqlite_where=sa.text(_PROCESS_KINDS),
        postgresql_where=sa.text(_PROCESS_KINDS),
    )
    op.create_index(
        "ix_lc_history_removal",
        "lc_history",
        ["removal_time"],
        unique=False,
        sqlite_where=sa.text(_HAS_REMOVAL),
        postgresql_where=sa.text(_HAS_REMOVAL),
    )
    for name, column in _PARTIAL_INSTANCE:
        op.drop_index(name, table_name="lc_instance")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            name,
            "lc_instance",
            [column],
            unique=False,
            sqlite_where=where,
            postgresql_where=where,
        )


# Columns of lc_history besides id, kind, data and seq, copied as they are.
_KEPT = (
    "at, instance_id, definition_id, element_id, element_type, element_instance_id, actor, "
    "removal_time"
)


# Merged kinds: (first kind, its data, second kind, its data) as SQL (``data``: the row's).
_SPLITS = {
    "activity_run": ("activity_start", "NULL", "activity_end", "data"),
    "task_wait": ("activity_start", "NULL", "task_create", "data"),
    "task_done": ("task_complete", "data", "activity_end", ":done"),
}
# The data of the activity_end of a task_done row (as the store encodes it).
_DONE = '{"completed":true}'


def _split_merged_rows() -> None:
    """Rewrite each merged row as its two rows, in place in ``id`` order.

    Every row moves up by the number of merged rows before it, making room for the first event
    right before the second; the first has the row's seq, the second seq + 1.
    """
    bind = op.get_bind()
    merged = ", ".join(f"'{k}'" for k in _SPLITS)
    count = bind.execute(
        sa.text(f"SELECT COUNT(*) FROM lc_history WHERE kind IN ({merged})")
    ).scalar_one()
    if not count:
        return
    shifted = (
        f"SELECT h.*, COALESCE(SUM(CASE WHEN kind IN ({merged}) THEN 1 ELSE 0 END) "
        "OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS shift "
        "FROM lc_history h"
    )
    op.execute(f"CREATE TABLE lc_history_split AS {shifted}")
    op.execute("DELETE FROM lc_history")
    op.execute(
        f"INSERT INTO lc_history (id, kind, data, seq, {_KEPT}) "
        f"SELECT id + shift, kind, data, seq, {_KEPT} FROM lc_history_split "
        f"WHERE kind NOT IN ({merged})"
    )
    for kind, (first, first_data, second, second_data) in _SPLITS.items():
        op.execute(
            f"INSERT INTO lc_history (id, kind, data, seq, {_KEPT}) "
            f"SELECT id + shift, '{first}', {first_data}, seq, {_KEPT} "
            f"FROM lc_history_split WHERE kind = '{kind}'"
        )
        second_sql = sa.text(
            f"INSERT INTO lc_history (id, kind, data, seq, {_KEPT}) "
            f"SELECT id + shift + 1, '{second}', {second_data}, seq + 1, {_KEPT} "
            f"FROM lc_history_split WHERE kind = '{kind}'"
        )
        if second_data == ":done":
            second_sql = second_sql.bindparams(done=_DONE)
        op.execute(second_sql)
    op.execute("DROP TABLE lc_history_split")
    if bind.dialect.name == "postgresql":
        # the next appended row continues after the highest id
        op.execute(
            "SELECT setval(pg_get_serial_sequence('lc_history', 'id'), "
            "(SELECT MAX(id) FROM lc_history))"
        )


def downgrade() -> None:
    _split_merged_rows()
    for name, column in _PARTIAL_INSTANCE:
        op.drop_index(name, table_name="lc_instance")
        op.create_index(name, "lc_instance", [column], unique=False)
    op.drop_index("ix_lc_history_removal", table_name="lc_history")
    op.drop_index("ix_lc_history_process", table_name="lc_history")
    op.create_index("ix_lc_history_removal", "lc_history", ["removal_time"], unique=False)
    op.create_index("ix_lc_history_kind_at", "lc_history", ["kind", "at"], unique=False)
