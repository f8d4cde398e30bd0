"""Authorisation: tasks for candidates and assignees only, grants, admins, denials."""

from __future__ import annotations

import pytest

from liucheng.errors import AuthorizationError, ConfigurationError, LiuchengError
from liucheng.org import (
    Action,
    AuthorizationPolicy,
    Grant,
    Principal,
    TaskResource,
    load_organisation,
    policy_from_dict,
    principal_for,
)
from tests.conftest import ROOT

ORG = load_organisation(ROOT / "processes" / "service_desk" / "org.yaml")
POLICY = policy_from_dict(
    {
        "admins": {"users": ["root"], "groups": ["it-admins"]},
        "grants": [
            {"action": "process.start", "resource": "process:service_*", "role": "agent"},
            {"action": "task.see", "resource": "task:service_desk/*", "role": "team-lead"},
            {"action": "history.read", "resource": "history:*", "role": "auditor"},
            {"action": "org.admin", "resource": "org", "user": "hanna"},
            {"action": "*", "resource": "*", "user": "mallory", "effect": "deny"},
        ],
    }
)
QUEUED = TaskResource("t1", "service_desk", None, (), ("service-desk",))
ASSIGNED = TaskResource("t2", "service_desk", "anna", (), ("service-desk",))


def who(user: str) -> Principal:
    return principal_for(ORG, user)


def test_candidates_see_and_claim_but_must_claim_to_work() -> None:
    ben = who("ben")
    assert POLICY.authorize(ben, Action.SEE_TASK, QUEUED).reason == "candidate"
    assert POLICY.authorize(ben, "task.claim", QUEUED).allowed
    work = POLICY.authorize(ben, "task.work", QUEUED)
    assert not work and "claim" in work.reason
    assert not POLICY.authorize(ben, "task.claim", ASSIGNED)
    assert POLICY.authorize(ben, "task.see", ASSIGNED)  # still a candidate


def test_assignee_works_outsider_is_refused_and_the_refusal_is_recordable() -> None:
    anna = who("anna")
    assert POLICY.authorize(anna, "task.work", ASSIGNED).reason == "assignee"
    olga = who("olga")  # auditor, not a candidate
    for action in ("task.see", "task.claim", "task.work"):
        decision = POLICY.authorize(olga, action, QUEUED)
        assert not decision.allowed
    with pytest.raises(AuthorizationError) as info:
        POLICY.require(olga, "task.work", ASSIGNED)
    assert info.value.code == "auth.forbidden"
    assert info.value.details["principal"] == "olga"
    assert info.value.details["resource"] == "task:service_desk/t2"
    assert isinstance(info.value, LiuchengError)
    direct = TaskResource("t3", "service_desk", None, ("olga",), ())
    assert POLICY.authorize(olga, "task.see", direct).allowed


def test_grants_admins_and_denials() -> None:
    assert POLICY.authorize(who("carla"), "process.start", "process:service_desk")
    assert not POLICY.authorize(who("carla"), "process.start", "process:payroll")
    assert not POLICY.authorize(who("mei"), "process.start", "process:service_desk")
    # team leads see every task of the process through a grant, but may not work them
    assert POLICY.authorize(who("tom"), "task.see", ASSIGNED).allowed
    assert not POLICY.authorize(who("sofia"), "task.work", ASSIGNED).allowed
    assert POLICY.authorize(who("olga"), "history.read", "history:service_desk")
    assert POLICY.authorize(who("hanna"), "org.admin", "org")
    assert not POLICY.authorize(who("anna"), "org.admin", "org")
    root = Principal("root")
    assert POLICY.authorize(root, "definitions.admin", "definition:x").reason == "administrator"
    assert POLICY.authorize(root, "task.work", ASSIGNED).allowed
    admin_member = principal_for(ORG, "olga", extra_groups=("it-admins",))
    assert POLICY.authorize(admin_member, "org.admin", "org")
    mallory = Principal("mallory", groups=("it-admins",))
    assert not POLICY.authorize(mallory, "task.see", QUEUED)
    assert principal_for(ORG, "stranger") == Principal("stranger")


def test_bad_policy_and_actions() -> None:
    with pytest.raises(ConfigurationError):
        Grant("process.start", "*")  # nobody named
    with pytest.raises(ConfigurationError):
        Grant("process.fly", "*", user="x")
    with pytest.raises(ConfigurationError):
        policy_from_dict({"grants": [{"action": "process.start", "whom": "x"}]})
    with pytest.raises(ConfigurationError):
        AuthorizationPolicy().authorize(Principal("x"), "launch", "process:y")
