"""History rows of a SQL transaction: the append of a command's events (two events of one
element instance merged into one row, see ``_MERGE``) and the query that splits them again.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import or_, select

from liucheng.engine.memory import matches, page_of
from liucheng.engine.ports import HistoryEvent, Page

from . import _codec, schema
from ._sql_base import SqlTransactionBase, _record


class SqlHistory(SqlTransactionBase):
    """History rows of :class:`~liucheng.store.SqlTransaction`: append and query."""

    def _append_history(self, events: list[HistoryEvent]) -> None:
        # The busiest write of all (dozens of events per command): rows go to the driver's
        # executemany directly, converted here the way the column types would convert them.
        # Two steps: events become logical rows (pairs merged, see _MERGE), then each run of
        # logical rows of one instance and time becomes one physical row (see _BATCH).
        logical: list[tuple[Any, ...]] = []
        add = logical.append
        n = len(events)
        i = 0
        while i < n:
            h = events[i]
            i += 1
            kind = h.kind
            data = h.data
            if kind in _MERGE_FIRST and i < n:
                after = events[i]
                merged = _MERGE.get((kind, after.kind))
                if (
                    merged is not None
                    and (data is None if merged != _TASK_DONE else after.data == _DONE)
                    and after.seq == h.seq + 1
                    and after.element_instance_id == h.element_instance_id
                    and after.at == h.at
                    and after.instance_id == h.instance_id
                    and after.element_id == h.element_id
                    and after.element_type == h.element_type
                    and after.actor == h.actor
                    and after.definition_id == h.definition_id
                ):
                    # Two events of one element instance, one after the other: one row (see
                    # _MERGE), half the rows and index entries (e.g. of a script task).
                    kind = merged
                    if merged != _TASK_DONE:
                        data = after.data
                    i += 1  # the end of the pair is written with its start
            add((kind, h, data))
        self.raw.executemany(
            _HISTORY_SQL_SQLITE if self.dialect != "postgresql" else _HISTORY_SQL_PG,
            self._physical_rows(logical),
        )

    def _physical_rows(self, logical: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        ttl = self.history_ttl
        sqlite_dialect = self.dialect != "postgresql"
        times: dict[_dt.datetime, tuple[Any, Any]] = {}  # most events share the command's time
        # Many events share one payload object (e.g. the engine's constant "completed" data):
        # encode each object once. Keyed by id(), valid while ``logical`` holds the objects.
        texts: dict[int, str] = {}
        dumps = _codec.dumps
        rows: list[tuple[Any, ...]] = []
        append = rows.append
        n = len(logical)
        i = 0
        while i < n:
            kind, h, data = logical[i]
            h_at = h.at
            hit = times.get(h_at)
            if hit is None:
                at = h_at.astimezone(_dt.UTC).replace(tzinfo=None) if h_at.tzinfo else h_at
                removal = None if ttl is None else at + ttl
                if sqlite_dialect:
                    hit = (_sqlite_time(at), None if removal is None else _sqlite_time(removal))
                else:
                    hit = (at, removal)
                times[h_at] = hit
            iid = h.instance_id
            j = i + 1
            if iid is not None and kind not in _UNBATCHED:
                did = h.definition_id
                while j < n:
                    k2, h2, _d2 = logical[j]
                    if (
                        k2 in _UNBATCHED
                        or h2.instance_id != iid
                        or h2.at != h_at
                        or h2.definition_id != did
                    ):
                        break
                    j += 1
            if j - i > 1:
                entries = [
                    (
                        k,
                        e.element_id,
                        e.element_type,
                        e.element_instance_id,
                        e.actor,
                        d,
                        e.seq,
                    )
                    for k, e, d in logical[i:j]
                ]
                append(
                    (
                        _BATCH,
                        hit[0],
                        iid,
                        h.definition_id,
                        None,
                        None,
                        None,
                        None,
                        dumps(entries),
                        h.seq,
                        hit[1],
                    )
                )
                i = j
                continue
            if data is None:
                data_text = None
            else:
                data_text = texts.get(id(data))
                if data_text is None:
                    data_text = texts[id(data)] = dumps(data)
            append(
                (
                    kind,
                    hit[0],
                    iid,
                    h.definition_id,
                    h.element_id,
                    h.element_type,
                    h.element_instance_id,
                    h.actor,
                    data_text,
                    h.seq,
                    hit[1],
                )
            )
            i += 1
        return rows

    # ---------------------------------------------------------------------------- history
    def find_history(
        self,
        filters: dict[str, Any] | None = None,
        *,
        page: Page | None = None,
    ) -> list[HistoryEvent]:
        """History events matching the filters, in append order.

        A stored activity pair (see ``_PAIR``) comes back as the two events it was written from,
        a batch row (see ``_BATCH``) as the events it holds.
        """
        t = schema.history
        stmt = select(t).order_by(t.c.id)
        post: dict[str, Any] = {}
        for name, want in (filters or {}).items():
            if name not in t.c or name in ("data", "seq"):
                post[name] = want
            elif name == "kind":
                kinds = set(want) if isinstance(want, list | tuple | set | frozenset) else {want}
                pairs = {m for m, halves in _HALVES.items() if kinds & halves}
                if pairs:
                    # a merged row holds two events: read it, keep the half asked
                    kinds |= pairs
                    post[name] = want
                if kinds - _UNBATCHED:
                    # a batch row may hold events of the kinds asked: read it, keep those
                    kinds.add(_BATCH)
                    post[name] = want
                stmt = stmt.where(t.c.kind.in_(sorted(k for k in kinds if k is not None)))
            elif name in _ENTRY_COLUMNS:
                # a batch row has these per event, inside: read every batch row too
                column = t.c[name]
                if isinstance(want, list | tuple | set | frozenset):
                    cond = column.in_(list(want))
                elif want is None:
                    cond = column.is_(None)
                else:
                    cond = column == want
                stmt = stmt.where(or_(cond, t.c.kind == _BATCH))
                post[name] = want
            elif isinstance(want, list | tuple | set | frozenset):
                stmt = stmt.where(t.c[name].in_(list(want)))
            elif want is None:
                stmt = stmt.where(t.c[name].is_(None))
            else:
                stmt = stmt.where(t.c[name] == want)
        if not post and page is not None and page.limit is not None:
            # Every row is one or two events, so the first offset + limit rows hold the page.
            stmt = stmt.limit(page.offset + page.limit)
        events = _expand(_unbatch(_record(HistoryEvent, r) for r in self.c.execute(stmt)))
        if post:
            events = [e for e in events if matches(e, post)]
        return page_of(events, page)


#: Stored kinds of two events written one right after the other in one command for the same
#: element instance (same time and columns, actor included; seq and seq + 1), as one row with
#: the first one's seq, read back as both events. Never kinds the engine emits.
#: - activity_run: activity_start (no data) + activity_end (its data): an activity that started
#:   and ended within the command (script tasks, gateways, events);
#: - task_wait: activity_start (no data) + task_create (its data): a user task begins;
#: - task_done: task_complete (its data) + activity_end with the data ``{"completed": true}``.
#: One row instead of two halves the rows and index entries a command writes.
_PAIR = "activity_run"
_TASK_WAIT = "task_wait"
_TASK_DONE = "task_done"
_MERGE = {
    ("activity_start", "activity_end"): _PAIR,
    ("activity_start", "task_create"): _TASK_WAIT,
    ("task_complete", "activity_end"): _TASK_DONE,
}
_HALVES = {m: frozenset(pair) for pair, m in _MERGE.items()}
_MERGE_FIRST = frozenset(first for first, _second in _MERGE)
_SPLIT = {m: pair for pair, m in _MERGE.items()}
_DONE = {"completed": True}


#: Kind of a row that holds a run of events (logical rows: merged pairs included) one command
#: appended for one instance at one time, other than the process events: ``data`` is the JSON
#: list of ``[kind, element_id, element_type, element_instance_id, actor, data, seq]``, the
#: row's ``seq`` the first one's. Each row costs an insert, index entries and WAL space, so a
#: command that runs a dozen steps of an instance writes one row instead of a dozen (about a
#: third of a straight-through command's work). Never a kind the engine emits.
_BATCH = "batch"
#: Kinds always written as rows of their own: the partial index ``ix_lc_history_process``
#: (and the metrics counting started/ended instances) read them by kind.
_UNBATCHED = frozenset({"process_start", "process_end"})
#: Columns a batch row leaves empty (each event inside has its own).
_ENTRY_COLUMNS = frozenset({"element_id", "element_type", "element_instance_id", "actor"})


def _unbatch(rows: Iterable[HistoryEvent]) -> Iterator[HistoryEvent]:
    for row in rows:
        if row.kind != _BATCH:
            yield row
            continue
        at = row.at
        iid = row.instance_id
        did = row.definition_id
        entries: list[list[Any]] = row.data  # type: ignore[assignment]  # a batch's list
        for kind, element_id, element_type, eiid, actor, data, seq in entries:
            yield HistoryEvent(kind, at, iid, did, element_id, element_type, eiid, actor, data, seq)


def _expand(events: Iterable[HistoryEvent]) -> list[HistoryEvent]:
    out: list[HistoryEvent] = []
    for e in events:
        pair = _SPLIT.get(e.kind)
        if pair is not None:
            first, second = pair
            done = e.kind == _TASK_DONE
            out.append(
                HistoryEvent(
                    first,
                    e.at,
                    e.instance_id,
                    e.definition_id,
                    e.element_id,
                    e.element_type,
                    e.element_instance_id,
                    e.actor,
                    e.data if done else None,
                    e.seq,
                )
            )
            e.kind = second
            e.seq += 1
            if done:
                e.data = {"completed": True}
        out.append(e)
    return out


_HISTORY_COLUMNS = (
    "kind, at, instance_id, definition_id, element_id, element_type, element_instance_id, "
    "actor, data, seq, removal_time"
)
_HISTORY_SQL_SQLITE = f"INSERT INTO lc_history ({_HISTORY_COLUMNS}) VALUES ({', '.join('?' * 11)})"
_HISTORY_SQL_PG = f"INSERT INTO lc_history ({_HISTORY_COLUMNS}) VALUES ({', '.join(['%s'] * 11)})"


def _sqlite_time(value: _dt.datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime type writes and parses ("%Y-%m-%d %H:%M:%S.%f").
    return value.isoformat(" ", "microseconds")
