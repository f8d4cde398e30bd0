"""The organisation kept in the store: which revision an engine uses, and stored edits.

An engine whose store implements :class:`~.ports.OrgStore` and that has no organisation of its
own uses the newest stored revision (:class:`StoredOrganisation`). It looks whether a newer one
exists **at most once per** ``org_refresh`` **seconds** (one indexed ``max(revision)`` read, at
the first use of the organisation after the interval; ``0`` looks at every use) and loads the
document only when the number changed, so every engine, worker and server on one database
follows imports and edits made anywhere within that interval. An organisation set on the engine
(``Engine(organisation=...)``, :meth:`set_organisation`) wins over the stored one.

:class:`OrgAdmin` (``engine.org_admin(user)``) makes imports and edits commands that persist:
each stores a new revision with who, when and what; an edit names (or reads) the revision it
starts from and fails with :class:`~liucheng.errors.ConcurrencyError`, storing nothing, when
another revision was stored meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from liucheng.errors import ConcurrencyError, EngineError

from .ports import OrgRevisionRecord, OrgStore

if TYPE_CHECKING:
    from liucheng.org import Organisation, OrgRevision

    from ._engine import Engine

__all__ = ["OrgAdmin", "StoredOrganisation"]


class StoredOrganisation:
    """The newest stored organisation revision, cached for one engine.

    Args:
        store: The engine's store (without the ``OrgStore`` port nothing is ever stored).
        refresh: Seconds between two looks at the newest stored revision (0: every use).
    """

    def __init__(self, store: Any, refresh: float = 1.0) -> None:
        self.port: OrgStore | None = store if isinstance(store, OrgStore) else None
        self.refresh_seconds = refresh
        #: The revision in hand (0: none stored, or not looked yet).
        self.revision = 0
        self.organisation: Any = None
        self._next_check = 0.0
        self._lock = threading.Lock()

    def current(self) -> Any:
        """The organisation of the newest stored revision (``None``: none stored)."""
        if self.port is None or time.monotonic() < self._next_check:
            return self.organisation
        return self.refresh()

    def refresh(self) -> Any:
        """Look at the store now; load the newest revision if it is not the one in hand."""
        port = self.port
        if port is None:
            return None
        with self._lock:
            newest = port.org_revision()
            if newest != self.revision:
                record = port.load_org(newest) if newest else None
                self._install(record)
            self._next_check = time.monotonic() + self.refresh_seconds
            return self.organisation

    def _install(self, record: OrgRevisionRecord | None) -> None:
        if record is None:
            self.revision, self.organisation = 0, None
            return
        from liucheng.org import organisation_from_document

        org = organisation_from_document(
            record.doc, source=f"organisation revision {record.revision}"
        )
        self.revision, self.organisation = record.revision, org

    def installed(self, revision: int, organisation: Any) -> None:
        """Take a revision this engine just stored (no need to read it back)."""
        with self._lock:
            if revision > self.revision:
                self.revision, self.organisation = revision, organisation


class OrgAdmin:
    """Imports and edits of the stored organisation, as commands (``engine.org_admin()``).

    Every method stores a new revision and returns it as ``liucheng.org.OrgRevision``; a failed
    edit (``OrgValidationError``), a refused user (``AuthorizationError``) or a stale
    ``expected_revision`` (``ConcurrencyError``) stores nothing. Without ``expected_revision``
    an edit applies to the newest stored revision and is retried on a conflict (like every
    command); with it, a conflict is reported to the caller (an editor that showed revision n).

    Args:
        engine: The engine (its store must keep organisations).
        user: The acting person: recorded as the author and, when the engine has an
            authorisation policy, checked for ``org.admin`` on ``org``.
        groups: The user's groups besides those of the organisation.
    """

    def __init__(self, engine: Engine, user: str | None = None, groups: Iterable[str] = ()) -> None:
        stored = engine.stored_org
        if stored.port is None:
            raise EngineError(
                "this engine's store does not keep an organisation",
                code="engine.org.no_store",
                hint="use a SqlStore or MemoryStore",
            )
        self.engine = engine
        self.user = user
        self.groups = tuple(groups)
        self.port: OrgStore = stored.port

    # ------------------------------------------------------------------ reading

    @property
    def revision(self) -> int:
        """The newest stored revision number (0: none)."""
        return self.port.org_revision()

    def current(self) -> OrgRevision | None:
        """The newest stored revision, or ``None``."""
        return self.get(None)

    def get(self, revision: int | None) -> OrgRevision | None:
        """A stored revision (``None``: the newest)."""
        from liucheng.org import OrgRevision, organisation_from_document

        record = self.port.load_org(revision)
        if record is None:
            return None
        org = organisation_from_document(
            record.doc, source=f"organisation revision {record.revision}"
        )
        return OrgRevision(record.revision, org, record.created_at, record.author, record.comment)

    def history(self) -> list[dict[str, Any]]:
        """Every stored revision's metadata (revision, created_at, author, comment), oldest
        first."""
        return [
            {
                "revision": r.revision,
                "created_at": r.created_at.isoformat(),
                "author": r.author,
                "comment": r.comment,
            }
            for r in self.port.org_revisions()
        ]

    # ------------------------------------------------------------------ writing

    def import_organisation(
        self,
        organisation: Organisation,
        *,
        comment: str | None = "import",
        expected_revision: int | None = None,
        rebalance: bool = False,
    ) -> OrgRevision:
        """Store a whole organisation as the next revision (e.g. read from a file).

        Args:
            organisation: The new organisation.
            comment: What it is (e.g. the file name).
            expected_revision: Store only if this is still the newest revision.
            rebalance: Move the open work of everyone absent now and plan the re-balancing job
                for the next absence (see :meth:`Engine.set_organisation`).
        """
        return self.edit(
            lambda _old: organisation,
            comment=comment,
            expected_revision=expected_revision,
            rebalance=rebalance,
            allow_empty=True,
        )

    def edit(
        self,
        change: Callable[[Any], Organisation],
        *,
        comment: str | None = None,
        expected_revision: int | None = None,
        rebalance: bool = True,
        allow_empty: bool = False,
    ) -> OrgRevision:
        """Apply ``change`` (old organisation → new one) to the stored organisation and store it.

        Args:
            change: Builds the new organisation from the stored one (``None`` if none stored
                and ``allow_empty``); it must not have side effects (it may run again after a
                conflict).
            comment: What changed.
            expected_revision: The revision the change was made on; when another one is newest,
                ``ConcurrencyError`` (``org.revision.conflict``) and nothing is stored.
            rebalance: When this engine uses the stored organisation: move the open work of
                everyone absent now and plan the re-balancing job for the next absence start.
            allow_empty: Whether the change may start from no stored organisation.

        Raises:
            ConcurrencyError: A stale ``expected_revision`` (or conflicts on every attempt).
            EngineError: No organisation is stored yet (``engine.org.none_stored``).
        """
        from liucheng.org import OrgRevision, organisation_document

        self._authorise()
        attempt = 0
        while True:
            attempt += 1
            current = self.get(None)
            base = current.revision if current is not None else 0
            if expected_revision is not None and expected_revision != base:
                raise ConcurrencyError(
                    f"the organisation was changed meanwhile: revision {expected_revision} is "
                    f"not the newest ({base})",
                    code="org.revision.conflict",
                    hint="reload the organisation and apply the change again",
                    details={"expected": expected_revision, "newest": base},
                )
            if current is None and not allow_empty:
                raise EngineError(
                    "no organisation is stored yet",
                    code="engine.org.none_stored",
                    hint="import one first: liucheng org import FILE --database URL",
                )
            new = change(current.organisation if current is not None else None)
            now = self.engine.clock.now()
            record = OrgRevisionRecord(
                base + 1, organisation_document(new), now, self.user, comment
            )
            try:
                self.port.save_org(record)
            except ConcurrencyError:
                if expected_revision is not None or attempt >= self.engine.max_attempts:
                    raise
                continue
            break
        self.engine.stored_org.installed(record.revision, new)
        engine = self.engine
        if rebalance and engine.organisation is new:
            # the existing re-balancing (docs/work.md): work of people absent now moves, and
            # the job for the next absence start is (re)planned
            engine.rebalance(actor=self.user)
            engine._command(engine._plan_rebalance)
        return OrgRevision(record.revision, new, now, self.user, comment)

    def _authorise(self) -> None:
        if self.user is not None and self.engine.authorization is not None:
            self.engine.as_user(self.user, groups=self.groups)._require("org.admin", "org")

    def _named(
        self, edit_name: str, default_comment: str, /, *args: Any, **kwargs: Any
    ) -> OrgRevision:
        # Positional-only: the edits' own keyword arguments include ``name`` and ``comment``.
        from liucheng.org import edit_function

        expected = kwargs.pop("expected_revision", None)
        rebalance = kwargs.pop("rebalance", True)
        note = kwargs.pop("comment", None) or default_comment
        return self.edit(
            edit_function(edit_name, *args, **kwargs),
            comment=note,
            expected_revision=expected,
            rebalance=rebalance,
        )

    # ------------------------------------------------------------------ named edits
    # Each takes the arguments of the ``Organisation`` method of the same name plus
    # ``expected_revision=``, ``comment=`` and ``rebalance=`` (see :meth:`edit`).

    def add_person(self, person: Any, **options: Any) -> OrgRevision:
        """Add a person (``liucheng.org.Person``)."""
        return self._named("add_person", f"add_person {person.id}", person, **options)

    def update_person(self, person_id: str, **changes: Any) -> OrgRevision:
        """Change fields of a person (``skills=``, ``superior=``, ``department=``, ...)."""
        return self._named("update_person", f"update_person {person_id}", person_id, **changes)

    def remove_person(self, person_id: str, **options: Any) -> OrgRevision:
        """Remove a person (their reports move to the removed person's superior)."""
        return self._named("remove_person", f"remove_person {person_id}", person_id, **options)

    def set_absences(self, person_id: str, absences: Iterable[Any], **options: Any) -> OrgRevision:
        """Replace a person's absences (an absence that has begun moves their open work)."""
        return self._named(
            "set_absences", f"set_absences {person_id}", person_id, tuple(absences), **options
        )

    def add_absence(self, person_id: str, absence: Any, **options: Any) -> OrgRevision:
        """Add an absence (``liucheng.org.Absence``) to a person."""
        return self._named("add_absence", f"add_absence {person_id}", person_id, absence, **options)

    def add_department(self, department: Any, **options: Any) -> OrgRevision:
        """Add a department (``liucheng.org.Department``)."""
        return self._named(
            "add_department", f"add_department {department.id}", department, **options
        )

    def update_department(self, department_id: str, **changes: Any) -> OrgRevision:
        """Change a department (``name=``, ``head=``, ``parent=``)."""
        return self._named(
            "update_department", f"update_department {department_id}", department_id, **changes
        )

    def move_department(
        self, department_id: str, parent: str | None, **options: Any
    ) -> OrgRevision:
        """Move a department under another one (``None``: to the top)."""
        return self._named(
            "update_department",
            f"move_department {department_id} to {parent or '-'}",
            department_id,
            parent=parent,
            **options,
        )

    def remove_department(self, department_id: str, **options: Any) -> OrgRevision:
        """Remove a department."""
        return self._named(
            "remove_department", f"remove_department {department_id}", department_id, **options
        )

    def add_role(self, role: Any, **options: Any) -> OrgRevision:
        """Add a role (``liucheng.org.Role``)."""
        return self._named("add_role", f"add_role {role.id}", role, **options)

    def remove_role(self, role_id: str, **options: Any) -> OrgRevision:
        """Remove a role."""
        return self._named("remove_role", f"remove_role {role_id}", role_id, **options)

    def add_group(self, group: Any, **options: Any) -> OrgRevision:
        """Add a group (``liucheng.org.Group``)."""
        return self._named("add_group", f"add_group {group.id}", group, **options)

    def set_process(self, process: Any, **options: Any) -> OrgRevision:
        """Add or replace a process entry (``liucheng.org.ProcessOrg``)."""
        return self._named("set_process", f"set_process {process.id}", process, **options)

    def set_calendar(self, name: str, calendar: Any, **options: Any) -> OrgRevision:
        """Add or replace a business calendar."""
        return self._named("set_calendar", f"set_calendar {name}", name, calendar, **options)
