"""Authorisation: who may start which process, see and work which task, and administer what.

Pure: :func:`AuthorizationPolicy.authorize` answers with a :class:`Decision` (allowed + reason);
:meth:`AuthorizationPolicy.require` raises :class:`liucheng.errors.AuthorizationError`. The engine
and the REST API call it and record refusals in history.

Resources are strings: ``process:<process id>``, ``definition:<process id>``, ``org``,
``history:<process id>``; tasks are :class:`TaskResource` values (named
``task:<process id>/<task id>``). Grant patterns use shell wildcards (``process:service_*``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from liucheng.errors import AuthorizationError, ConfigurationError

from ._model import Organisation

__all__ = [
    "Action",
    "AuthorizationPolicy",
    "Decision",
    "Grant",
    "Principal",
    "TaskResource",
    "policy_from_dict",
    "principal_for",
]


class Action(StrEnum):
    """What a principal wants to do."""

    START_PROCESS = "process.start"
    SEE_TASK = "task.see"
    CLAIM_TASK = "task.claim"
    WORK_TASK = "task.work"  # complete, resolve, delegate, comment
    ADMIN_DEFINITIONS = "definitions.admin"
    ADMIN_ORG = "org.admin"
    READ_HISTORY = "history.read"


TASK_ACTIONS = (Action.SEE_TASK, Action.CLAIM_TASK, Action.WORK_TASK)


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user id with the groups and roles they hold."""

    id: str
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskResource:
    """A task as authorisation sees it."""

    id: str
    process_id: str | None = None
    assignee: str | None = None
    candidate_users: tuple[str, ...] = ()
    candidate_groups: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """``task:<process>/<id>`` (the string grant patterns match)."""
        return f"task:{self.process_id or '-'}/{self.id}"


@dataclass(frozen=True)
class Grant:
    """A permission (or, with ``effect="deny"``, a prohibition).

    Exactly one of ``user``, ``group``, ``role`` names who it is for; ``"*"`` as ``user`` is
    everyone. ``action`` may be ``"*"``; ``resource`` is a wildcard pattern.
    """

    action: str
    resource: str = "*"
    user: str | None = None
    group: str | None = None
    role: str | None = None
    effect: str = "allow"

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.user, self.group, self.role)) != 1:
            raise ConfigurationError(
                f"grant {self.action} on {self.resource} needs exactly one of user, group, role",
                code="auth.grant.invalid",
            )
        if self.effect not in ("allow", "deny"):
            raise ConfigurationError(
                f"grant effect must be allow or deny, not {self.effect!r}",
                code="auth.grant.invalid",
            )
        known = {a.value for a in Action} | {"*"}
        if self.action not in known:
            raise ConfigurationError(
                f"unknown action {self.action!r}",
                code="auth.grant.invalid",
                hint="one of " + ", ".join(sorted(known)),
            )

    def applies(self, principal: Principal, action: str, resource: str) -> bool:
        """Whether the grant covers this principal, action and resource."""
        if self.action not in ("*", action):
            return False
        if not fnmatchcase(resource, self.resource):
            return False
        if self.user is not None:
            return self.user in ("*", principal.id)
        if self.group is not None:
            return self.group in principal.groups
        return self.role in principal.roles

    def describe(self) -> str:
        """Short text for reasons."""
        who = (
            f"user {self.user}"
            if self.user is not None
            else f"group {self.group}"
            if self.group is not None
            else f"role {self.role}"
        )
        return f"{self.effect} {self.action} on {self.resource} for {who}"


@dataclass(frozen=True)
class Decision:
    """An authorisation answer; truthy when allowed."""

    allowed: bool
    reason: str
    principal: str
    action: str
    resource: str

    def __bool__(self) -> bool:
        return self.allowed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the refusal record)."""
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
        }


@dataclass(frozen=True)
class AuthorizationPolicy:
    """Grants plus administrators.

    Attributes:
        grants: Allow and deny grants; a matching deny always wins.
        admin_users: Users allowed everything not explicitly denied.
        admin_groups: Groups whose members are administrators.
    """

    grants: tuple[Grant, ...] = ()
    admin_users: frozenset[str] = field(default_factory=frozenset)
    admin_groups: frozenset[str] = field(default_factory=frozenset)

    def is_admin(self, principal: Principal) -> bool:
        """Whether the principal is an administrator."""
        return principal.id in self.admin_users or bool(
            self.admin_groups.intersection(principal.groups)
        )

    def authorize(
        self, principal: Principal, action: str | Action, resource: str | TaskResource
    ) -> Decision:
        """May ``principal`` do ``action`` on ``resource``?

        Order: a matching deny grant refuses; an administrator is allowed; for tasks the assignee
        may see, claim and work, candidates (user or group) may see and — while nobody has it —
        claim; a matching allow grant allows (e.g. supervisors seeing ``task:service_desk/*``);
        anything else is refused.
        """
        try:
            act = Action(action).value
        except ValueError:
            raise ConfigurationError(
                f"unknown action {action!r}",
                code="auth.action.unknown",
                hint="one of " + ", ".join(a.value for a in Action),
            ) from None
        name = resource.name if isinstance(resource, TaskResource) else resource

        def decide(allowed: bool, reason: str) -> Decision:
            return Decision(allowed, reason, principal.id, act, name)

        for grant in self.grants:
            if grant.effect == "deny" and grant.applies(principal, act, name):
                return decide(False, f"denied by grant ({grant.describe()})")
        if self.is_admin(principal):
            return decide(True, "administrator")
        if isinstance(resource, TaskResource) and act in {a.value for a in TASK_ACTIONS}:
            task_decision = _task_rule(principal, act, resource)
            if task_decision is not None and task_decision[0]:
                return decide(True, task_decision[1])
            for grant in self.grants:
                if grant.effect == "allow" and grant.applies(principal, act, name):
                    return decide(True, f"allowed by grant ({grant.describe()})")
            reason = task_decision[1] if task_decision is not None else "no rule allows it"
            return decide(False, reason)
        for grant in self.grants:
            if grant.effect == "allow" and grant.applies(principal, act, name):
                return decide(True, f"allowed by grant ({grant.describe()})")
        return decide(False, f"no grant allows {act} on {name}")

    def require(
        self, principal: Principal, action: str | Action, resource: str | TaskResource
    ) -> Decision:
        """Like :meth:`authorize`, but a refusal raises.

        Raises:
            AuthorizationError: Refused; ``details`` holds the decision (for the refusal record).
        """
        decision = self.authorize(principal, action, resource)
        if not decision.allowed:
            raise AuthorizationError(
                f"{principal.id} may not {decision.action} {decision.resource}: {decision.reason}",
                code="auth.forbidden",
                details=decision.to_dict(),
            )
        return decision


def _task_rule(principal: Principal, action: str, task: TaskResource) -> tuple[bool, str] | None:
    is_assignee = task.assignee is not None and task.assignee == principal.id
    is_candidate = principal.id in task.candidate_users or bool(
        set(task.candidate_groups).intersection(principal.groups)
    )
    if is_assignee:
        return True, "assignee"
    if action == Action.SEE_TASK.value:
        if is_candidate:
            return True, "candidate"
        return False, "neither the assignee nor a candidate"
    if action == Action.CLAIM_TASK.value:
        if not is_candidate:
            return False, "not a candidate"
        if task.assignee is not None:
            return False, f"already assigned to {task.assignee}"
        return True, "candidate of an unassigned task"
    if is_candidate:
        return False, "a candidate must claim the task before working on it"
    return False, "neither the assignee nor a candidate"


def principal_for(
    org: Organisation | None, user_id: str, extra_groups: Iterable[str] = ()
) -> Principal:
    """The principal of a user: groups and roles from the organisation (unknown user: none)."""
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    if org is not None and user_id in org.people:
        person = org.people[user_id]
        groups, roles = person.groups, person.roles
    return Principal(user_id, tuple(dict.fromkeys((*groups, *extra_groups))), roles)


def policy_from_dict(data: Mapping[str, Any]) -> AuthorizationPolicy:
    """A policy from YAML-shaped data::

        admins: {users: [root], groups: [it-admins]}
        grants:
          - {action: process.start, resource: "process:service_desk", role: agent}
          - {action: task.see, resource: "task:service_desk/*", group: supervisors}
          - {action: "*", resource: "org", user: mallory, effect: deny}

    Raises:
        ConfigurationError: Unknown keys, actions or grants without a subject.
    """
    admins = data.get("admins") or {}
    grants: list[Grant] = []
    for i, raw in enumerate(data.get("grants") or []):
        if not isinstance(raw, Mapping):
            raise ConfigurationError(f"grant {i} must be a mapping", code="auth.grant.invalid")
        unknown = set(raw) - {"action", "resource", "user", "group", "role", "effect"}
        if unknown or "action" not in raw:
            raise ConfigurationError(
                f"grant {i}: needs 'action'; unknown keys {sorted(unknown)}",
                code="auth.grant.invalid",
            )
        grants.append(Grant(**{k: str(v) for k, v in raw.items()}))
    return AuthorizationPolicy(
        tuple(grants),
        frozenset(map(str, admins.get("users", []) or [])),
        frozenset(map(str, admins.get("groups", []) or [])),
    )
