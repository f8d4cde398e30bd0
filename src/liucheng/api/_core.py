"""The server's services: engine, store, users, organisation, policy, audit log, metrics."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from liucheng.engine import Engine, OrgAdmin, UserView
from liucheng.errors import ConcurrencyError, ConfigurationError, NotFoundError
from liucheng.org import (
    Action,
    AuthorizationPolicy,
    Organisation,
    OrgRevision,
    Principal,
    TaskResource,
    policy_from_dict,
    principal_for,
)
from liucheng.store import SqlStore
from liucheng.store._api_schema import api_audit
from liucheng.store._retry import in_connection, in_transaction, lost_connection

from ._oidc import OidcVerifier
from ._security import AuthenticationError, RateLimiter, UserRecord, Users
from ._settings import Settings

__all__ = ["ADMIN_GROUP", "Caller", "Services"]

log = logging.getLogger("liucheng.api")

#: Group every ``is_admin`` user is in; the policy always counts it as administrators.
ADMIN_GROUP = "liucheng-admins"


@dataclass(frozen=True)
class Caller:
    """The authenticated user of a request.

    Attributes:
        user: The account.
        principal: Who authorisation sees (groups and roles from the organisation).
        is_admin: Administrator by the policy.
    """

    user: UserRecord
    principal: Principal
    is_admin: bool

    @property
    def id(self) -> str:
        """The user id."""
        return self.user.id


class Services:
    """Everything a request handler needs, created once per application.

    Args:
        settings: The server settings.
        engine: An engine to serve (default: a new one on ``SqlStore(settings.database)``).
    """

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        if engine is None:
            # the stored organisation (lc_org_revision) is looked at every org_check_s seconds
            engine = Engine(SqlStore(settings.database), org_refresh=settings.org_check_s)
        if not isinstance(engine.store, SqlStore):
            raise ConfigurationError("the server needs an engine on a SQL store", code="api.store")
        self.engine = engine
        self.store: SqlStore = engine.store
        self.db = self.store.engine
        self.users = Users(self.db)
        self.login_limiter = RateLimiter(settings.login_rate, 60.0)
        self._policy = self._load_policy()
        # The engine enforces the same policy in its user views (claim, complete, ...).
        engine.set_authorization(self._policy)
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()
        self.executor: Any = None
        self._installed = False
        self._audit_queue: list[dict[str, Any]] = []
        self._audit_waiters: list[Callable[[bool], None]] = []
        self._audit_cv = threading.Condition()
        self._audit_flush_lock = threading.Lock()
        self._audit_stop = False
        self._audit_thread: threading.Thread | None = None
        self.started_at = _dt.datetime.now(_dt.UTC)
        self.oidc: OidcVerifier | None = None
        if settings.oidc_issuer:
            if not (settings.oidc_audience and settings.oidc_jwks):
                raise ConfigurationError(
                    "OIDC needs oidc_audience and oidc_jwks besides oidc_issuer",
                    code="config.oidc",
                )
            self.oidc = OidcVerifier(
                settings.oidc_issuer,
                settings.oidc_audience,
                settings.oidc_jwks,
                user_claim=settings.oidc_user_claim,
                groups_claim=settings.oidc_groups_claim,
            )

    # ------------------------------------------------------------------ policy and org

    def _load_policy(self) -> AuthorizationPolicy:
        data: dict[str, Any] = {}
        if self.settings.policy is not None:
            data = dict(self.settings.policy)
        elif self.settings.policy_file:
            import yaml

            try:
                loaded = yaml.safe_load(Path(self.settings.policy_file).read_text("utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigurationError(
                    f"cannot read policy file {self.settings.policy_file}: {exc}",
                    code="config.policy",
                ) from None
            data = dict(loaded or {})
        base = policy_from_dict(data)
        return AuthorizationPolicy(base.grants, base.admin_users, base.admin_groups | {ADMIN_GROUP})

    @property
    def policy(self) -> AuthorizationPolicy:
        """The authorisation policy."""
        return self._policy

    def org(self) -> Organisation | None:
        """The organisation in force: ``Engine.organisation``, i.e. the newest revision stored
        in the database (``lc_org_revision``), which every engine on the database — servers,
        workers, the CLI — looks up at most every ``org_check_s`` seconds (docs/org.md)."""
        org: Organisation | None = self.engine.organisation
        return org

    def org_state(self) -> tuple[Organisation | None, int | None]:
        """The organisation in force and its stored revision (``None`` when the engine uses one
        set explicitly, which has no revision)."""
        org: Organisation | None = self.engine.organisation
        stored = self.engine.stored_org
        revision = stored.revision
        return org, (revision if org is not None and stored.organisation is org else None)

    def org_admin(self, caller: Caller) -> OrgAdmin:
        """Stored-organisation imports and edits as the caller (``Engine.org_admin``: the
        caller is the revisions' author and needs ``org.admin`` on ``org``)."""
        return self.engine.org_admin(caller.id, groups=self._groups(caller.user))

    def import_org(
        self,
        text: str,
        caller: Caller,
        *,
        rebalance: bool = False,
        expected_revision: int | None = None,
        comment: str | None = None,
    ) -> OrgRevision:
        """Validate an organisation (YAML or JSON text) and store it as the next revision of
        the stored organisation (``OrgAdmin.import_organisation``); with ``rebalance`` the
        open work of everyone absent now moves. Every engine on the database uses it within
        its ``org_refresh`` interval."""
        org = parse_org_text(text, "organisation")
        return self.org_admin(caller).import_organisation(
            org,
            comment=comment or "PUT /org",
            expected_revision=expected_revision,
            rebalance=rebalance,
        )

    def seed_org(self) -> int | None:
        """Import ``org_file`` when the database has no stored organisation yet.

        The file only seeds: once an organisation is stored (by this, ``liucheng org import``
        or ``PUT /org``) it is the one in force and the file is ignored, so restarting a server
        never undoes edits made through the API. Returns the revision stored, if any.
        """
        path = self.settings.org_file
        if not path:
            return None
        admin = self.engine.org_admin(None)
        if admin.revision:
            log.info(
                "org file ignored: an organisation is stored",
                extra={"lc": {"org_file": path, "revision": admin.revision}},
            )
            return None
        from liucheng.org import load_organisation

        org = load_organisation(path)
        try:
            rev = admin.import_organisation(
                org, comment=f"liucheng serve --org {Path(path).name}", expected_revision=0
            )
        except ConcurrencyError as exc:
            if lost_connection(exc):
                raise
            return None  # another server process seeded it at the same moment
        return rev.revision

    @staticmethod
    def _groups(user: UserRecord) -> tuple[str, ...]:
        return (*user.groups, ADMIN_GROUP) if user.is_admin else user.groups

    def view(self, caller: Caller) -> UserView:
        """The engine as the caller (its methods enforce the policy and record refusals)."""
        return self.engine.as_user(caller.id, groups=self._groups(caller.user))

    def authenticate(self, secret: str) -> UserRecord:
        """The user of a bearer secret: our API/session tokens, or an OIDC JWT."""
        if self.oidc is not None and secret.count(".") == 2:
            user_id, groups = self.oidc.verify(secret)
            known = self.users.get(user_id)
            if known is not None:
                if known.disabled:
                    raise AuthenticationError("the account is disabled", code="auth.disabled")
                return UserRecord(
                    known.id,
                    known.display_name,
                    tuple(dict.fromkeys((*known.groups, *groups))),
                    known.is_admin,
                    False,
                    known.created_at,
                )
            return UserRecord(user_id, None, groups, False, False, self.started_at)
        return self.users.authenticate(secret)

    def caller(self, user: UserRecord) -> Caller:
        """The caller for an authenticated user."""
        principal = principal_for(self.org(), user.id, self._groups(user))
        return Caller(user, principal, self._policy.is_admin(principal))

    # ------------------------------------------------------------------ authorisation helpers

    def allowed(self, caller: Caller, action: Action, resource: str | TaskResource) -> bool:
        """Whether the caller may do ``action`` on ``resource``."""
        return bool(self._policy.authorize(caller.principal, action, resource))

    def operable(self, caller: Caller, definition_id: str | None) -> bool:
        """Whether the caller administers what a job or incident belongs to: its process
        (``definitions.admin``), or — for engine-wide jobs without a definition, such as the
        ``org-rebalance`` job organisation edits plan — the organisation (``org.admin``)."""
        if not definition_id:
            return self.allowed(caller, Action.ADMIN_ORG, "org")
        key = self.key_of(definition_id)
        return self.allowed(caller, Action.ADMIN_DEFINITIONS, f"definition:{key}")

    def require(self, caller: Caller, action: Action, resource: str | TaskResource) -> None:
        """Raise :class:`~liucheng.errors.AuthorizationError` unless allowed (logged)."""
        decision = self._policy.authorize(caller.principal, action, resource)
        if not decision.allowed:
            log.info("refused", extra={"lc": decision.to_dict()})
            self._policy.require(caller.principal, action, resource)

    def key_of(self, definition_id: str) -> str:
        """The process/decision key of a definition version."""
        key = self._keys.get(definition_id)
        if key is not None:
            return key
        rec = in_transaction(self.store, lambda tx: tx.get_definition(definition_id))
        if rec is None:
            raise NotFoundError(
                f"definition '{definition_id}' does not exist", code="engine.definition.not_found"
            )
        self._keys[definition_id] = rec.key
        return rec.key

    def task_resource(self, task: Any) -> TaskResource:
        """A task row as authorisation sees it."""
        return TaskResource(
            task.id,
            self.key_of(task.definition_id),
            task.assignee,
            tuple(task.candidate_users or ()),
            tuple(task.candidate_groups or ()),
        )

    # ------------------------------------------------------------------ audit

    def audit(
        self,
        *,
        actor: str | None,
        method: str,
        path: str,
        status: int,
        ip: str | None,
        detail: dict[str, Any] | None = None,
        on_written: Callable[[bool], None] | None = None,
    ) -> None:
        """Queue one audit entry; a background writer commits entries in batches (never raises).

        Batching (group commit) keeps the audit log from doubling the commits of every changing
        call. ``on_written(ok)`` is called once the entry's batch is committed (``ok``) or its
        write failed: the HTTP layer holds each response until then, so no change is answered
        before its audit entry is durable.
        """
        entry = {
            "at": _dt.datetime.now(_dt.UTC),
            "actor": actor,
            "method": method,
            "path": path[:2000],
            "status": status,
            "ip": ip,
            "detail": detail,
        }
        with self._audit_cv:
            self._audit_queue.append(entry)
            if on_written is not None:
                self._audit_waiters.append(on_written)
            self._audit_cv.notify()
        if self._audit_thread is None:
            self.flush_audit()

    def flush_audit(self) -> None:
        """Write every queued audit entry now."""
        with self._audit_flush_lock:
            with self._audit_cv:
                batch, self._audit_queue = self._audit_queue, []
                waiters, self._audit_waiters = self._audit_waiters, []
            ok = True
            if batch:
                try:
                    in_connection(self.db, lambda c: c.execute(insert(api_audit), batch))
                except Exception:
                    ok = False
                    log.exception("audit write failed", extra={"lc": {"entries": len(batch)}})
            for notify in waiters:
                notify(ok)

    def _audit_loop(self) -> None:
        while True:
            with self._audit_cv:
                while not self._audit_queue and not self._audit_stop:
                    self._audit_cv.wait()
                stopping = self._audit_stop
            time.sleep(0.005)  # gather a batch (responses wait for it)
            self.flush_audit()
            if stopping:
                return

    def audit_entries(
        self, *, offset: int, limit: int, actor: str | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """Audit entries, newest first."""
        self.flush_audit()
        stmt = select(api_audit)
        count = select(func.count()).select_from(api_audit)
        if actor is not None:
            stmt = stmt.where(api_audit.c.actor == actor)
            count = count.where(api_audit.c.actor == actor)
        stmt = stmt.order_by(api_audit.c.id.desc()).offset(offset).limit(limit)
        total, rows = in_connection(
            self.db, lambda c: (int(c.execute(count).scalar_one()), c.execute(stmt).all())
        )
        return total, [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "method": r.method,
                "path": r.path,
                "status": r.status,
                "ip": r.ip,
                "detail": r.detail,
            }
            for r in rows
        ]

    # ------------------------------------------------------------------ life cycle

    def bootstrap(self) -> None:
        """Create the bootstrap administrator if missing and deploy the lifecycle process."""
        s = self.settings
        if s.admin_user and s.admin_password and self.users.get(s.admin_user) is None:
            try:
                self.users.add(s.admin_user, s.admin_password, is_admin=True)
                log.info("bootstrap administrator created", extra={"lc": {"user": s.admin_user}})
            except Exception:
                # another server process created it at the same moment
                if self.users.get(s.admin_user) is None:
                    raise
        from ._lifecycle import ensure_lifecycle_deployed

        ensure_lifecycle_deployed(self)

    def start(self) -> None:
        """Bootstrap, then start the audit writer and the job executor (when configured)."""
        s = self.settings
        if s.app and not self._installed:
            from liucheng.jobs import load_registry

            load_registry(s.app).install(self.engine)
            self._installed = True
        self.bootstrap()
        self.seed_org()
        if self._audit_thread is None:
            self._audit_stop = False
            self._audit_thread = threading.Thread(
                target=self._audit_loop, name="liucheng-audit", daemon=True
            )
            self._audit_thread.start()
        if s.run_jobs and self.executor is None:
            from liucheng.jobs import JobExecutor

            self.executor = JobExecutor(self.engine, poll_interval=2.0)
            self.executor.start()

    def stop(self) -> None:
        """Stop the job executor (finishing the job in hand) and close connections."""
        if self.executor is not None:
            self.executor.stop(timeout=10.0)
            self.executor = None
        if self._audit_thread is not None:
            with self._audit_cv:
                self._audit_stop = True
                self._audit_cv.notify()
            self._audit_thread.join(timeout=10.0)
            self._audit_thread = None
        self.flush_audit()
        self.store.dispose()


def parse_org_text(text: str, name: str) -> Organisation:
    """An organisation from YAML/JSON text (inline calendars only: no file references)."""
    from liucheng.org import OrgValidationError, organisation_from_dict

    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise OrgValidationError(f"not JSON: {exc}", file=name) from None
        _no_files(data, name)
        return organisation_from_dict(data, file=name)
    from liucheng.org._yaml import load_yaml_document

    data, lines = load_yaml_document(text, file=name, error=OrgValidationError)
    if data is None:
        raise OrgValidationError("the organisation document is empty", file=name)
    _no_files(data, name)
    return organisation_from_dict(data, file=name, lines=lines)


def _no_files(data: Any, name: str) -> None:
    """Refuse references to server files in an uploaded organisation (calendars, people CSV)."""
    from liucheng.org import OrgValidationError

    if not isinstance(data, dict):
        return
    cals = data.get("calendars")
    refs = isinstance(data.get("people"), str) or (
        isinstance(cals, dict)
        and any(
            isinstance(v, str)
            or (
                isinstance(v, dict)
                and isinstance(v.get("extends"), str)
                and str(v["extends"]).endswith((".yaml", ".yml"))
            )
            for v in cals.values()
        )
    )
    if refs:
        raise OrgValidationError(
            "an uploaded organisation must be self-contained (inline calendars and people)",
            file=name,
            hint="put calendars and people inline instead of naming files",
        )
