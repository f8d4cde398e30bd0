"""Organisation functions for FEEL expressions (``superior(person)``, ``members(role)``, ...).

The engine puts the result of :func:`org_functions` into the FEEL evaluation context of
assignment expressions (``candidateUsers="=members(\\"agent\\")"``), so a model can name people
through the organisation model instead of hard-coding ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from liucheng.feel import FeelFunction

from ._model import Organisation

__all__ = ["org_functions", "org_python_functions"]

# name → parameter names; FEEL names may contain spaces.
_SIGNATURES: dict[str, tuple[str, ...]] = {
    "superior": ("person",),
    "superiors": ("person",),
    "members": ("role",),
    "group members": ("group",),
    "department members": ("department",),
    "department": ("person",),
    "department head": ("department",),
    "has role": ("person", "role"),
    "in group": ("person", "group"),
    "person": ("id",),
    "skill level": ("person", "skill"),
}


def org_python_functions(org: Organisation) -> dict[str, Callable[..., Any]]:
    """The org functions as plain Python callables (null-safe: unknown ids give ``None``/``[]``).

    Returns:
        ``superior(person)`` → id or None; ``superiors(person)`` → ids up the chain;
        ``members(role)``, ``group members(group)``, ``department members(department)`` → ids;
        ``department(person)`` → id; ``department head(department)`` → id;
        ``has role(person, role)`` / ``in group(person, group)`` → bool;
        ``person(id)`` → context (id, name, email, department, roles, groups, superior, skills);
        ``skill level(person, skill)`` → 0–5.
    """

    def known(pid: Any) -> bool:
        return isinstance(pid, str) and pid in org.people

    def superior(person: Any) -> str | None:
        return org.superior(person) if known(person) else None

    def superiors(person: Any) -> list[str]:
        return list(org.superior_chain(person)) if known(person) else []

    def members(role: Any) -> list[str]:
        return list(org.members(role)) if isinstance(role, str) else []

    def group_members(group: Any) -> list[str]:
        return list(org.group_members(group)) if isinstance(group, str) else []

    def department_members(department: Any) -> list[str]:
        if not isinstance(department, str) or department not in org.departments:
            return []
        return list(org.department_members(department))

    def department(person: Any) -> str | None:
        return org.people[person].department if known(person) else None

    def department_head(department: Any) -> str | None:
        dept = org.departments.get(department) if isinstance(department, str) else None
        return dept.head if dept is not None else None

    def has_role(person: Any, role: Any) -> bool | None:
        return role in org.people[person].roles if known(person) else None

    def in_group(person: Any, group: Any) -> bool | None:
        return group in org.people[person].groups if known(person) else None

    def person_(id: Any) -> dict[str, Any] | None:
        if not known(id):
            return None
        p = org.people[id]
        return {
            "id": p.id,
            "name": p.name,
            "email": p.email,
            "department": p.department,
            "roles": list(p.roles),
            "groups": list(p.groups),
            "superior": org.superior(p.id),
            "skills": dict(p.skills),
        }

    def skill_level(person: Any, skill: Any) -> int | None:
        return org.people[person].skills.get(skill, 0) if known(person) else None

    return {
        "superior": superior,
        "superiors": superiors,
        "members": members,
        "group members": group_members,
        "department members": department_members,
        "department": department,
        "department head": department_head,
        "has role": has_role,
        "in group": in_group,
        "person": person_,
        "skill level": skill_level,
    }


def org_functions(org: Organisation) -> dict[str, FeelFunction]:
    """The org functions as FEEL function values, ready to merge into a FEEL context.

    Example:
        >>> compile_expression('superior("anna")').evaluate(org_functions(org))
        'tom'
    """
    plain = org_python_functions(org)
    return {name: FeelFunction(_SIGNATURES[name], fn, name=name) for name, fn in plain.items()}
