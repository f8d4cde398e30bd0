"""Assignment strategies: fairness, least load, skills, rules, availability, re-balancing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liucheng.errors import ConfigurationError
from liucheng.org import (
    Absence,
    AssignmentState,
    Group,
    LeastLoaded,
    Manual,
    Organisation,
    OrgValidationError,
    Person,
    Role,
    RoundRobin,
    RuleStrategy,
    SkillBased,
    TaskToAssign,
    calendar_from_dict,
    load_organisation,
    make_strategy,
    rebalance,
    strategy_for,
    with_decision,
)
from tests.conftest import ROOT

MONDAY_10 = datetime(2025, 3, 3, 10, tzinfo=UTC)
DAY = calendar_from_dict({"timezone": "UTC", "week": {"mon-fri": ["08:00-16:00"]}})
NIGHT = calendar_from_dict({"timezone": "UTC", "week": {"all": ["20:00-04:00"]}})


def team(n: int = 10, **extra: Any) -> Organisation:
    people = {
        f"p{i:02d}": Person(f"p{i:02d}", f"P{i}", roles=("agent",), **extra) for i in range(n)
    }
    return Organisation(
        people=people, roles={"agent": Role("agent", "Agent")}, calendars={"day": DAY}
    )


def test_round_robin_is_fair_over_1000_tasks() -> None:
    org = team()
    strategy = RoundRobin()
    state = AssignmentState()
    counts: Counter[str] = Counter()
    for i in range(1000):
        decision = strategy.assign(
            org, TaskToAssign(f"t{i}", role="agent"), at=MONDAY_10, state=state
        )
        assert decision.assignee is not None
        counts[decision.assignee] += 1
        # the engine persists the cursor as plain data and reads it back
        state = AssignmentState(dict(decision.state.to_dict()))
    assert len(counts) == 10
    assert max(counts.values()) - min(counts.values()) <= 1
    assert sum(counts.values()) == 1000


def test_round_robin_fair_with_odd_count_and_absent_member() -> None:
    org = team().add_absence("p03", Absence(date(2025, 3, 3), date(2025, 3, 3)))
    state = AssignmentState()
    counts: Counter[str] = Counter()
    for i in range(1003):
        decision = RoundRobin().assign(
            org, TaskToAssign(f"t{i}", role="agent"), at=MONDAY_10, state=state
        )
        state = decision.state
        counts[decision.assignee or ""] += 1
    assert "p03" not in counts
    assert len(counts) == 9
    assert max(counts.values()) - min(counts.values()) <= 1
    last = RoundRobin().assign(org, TaskToAssign("x", role="agent"), at=MONDAY_10, state=state)
    assert any(e.person == "p03" and e.reason == "absent" for e in last.excluded)


def test_nobody_available_leaves_task_in_queue_with_reason() -> None:
    org = team(3, calendar="day")
    saturday = datetime(2025, 3, 8, 10, tzinfo=UTC)
    for strategy in (RoundRobin(), LeastLoaded(), SkillBased()):
        decision = strategy.assign(
            org, TaskToAssign("t", role="agent", candidate_groups=()), at=saturday
        )
        assert decision.assignee is None
        assert decision.candidate_groups == ("agent",)
        assert "nobody available" in decision.reason
        assert {e.reason for e in decision.excluded} == {"off shift"}
        assert decision.state == AssignmentState()


def test_manual_is_a_group_queue() -> None:
    org = team(3)
    decision = Manual().assign(
        org, TaskToAssign("t", candidate_groups=("first-level",), role="agent"), at=MONDAY_10
    )
    assert decision.assignee is None
    assert decision.candidate_groups == ("first-level",)
    assert decision.strategy == "manual"
    assert decision.to_dict()["assignee"] is None


def test_least_loaded_weighted_and_capacity() -> None:
    org = team(3, capacity=5.0)
    load = {"p00": 4.5, "p01": 2.0, "p02": 3.0}
    decision = LeastLoaded().assign(
        org, TaskToAssign("t", role="agent", effort=2.0), at=MONDAY_10, workload=load
    )
    assert decision.assignee == "p01"
    assert any(e.person == "p00" and "capacity" in e.reason for e in decision.excluded)
    after = with_decision(load, decision)
    assert after["p01"] == 4.0
    full = LeastLoaded().assign(
        org, TaskToAssign("t", role="agent", effort=4.0), at=MONDAY_10, workload=after
    )
    assert full.assignee is None


@settings(max_examples=60, deadline=None)
@given(
    loads=st.lists(st.integers(min_value=0, max_value=20), min_size=2, max_size=8),
    absent=st.sets(st.integers(min_value=0, max_value=7)),
    efforts=st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.0]), min_size=1, max_size=30),
)
def test_least_loaded_never_picks_someone_busier(
    loads: list[int], absent: set[int], efforts: list[float]
) -> None:
    n = len(loads)
    people = {
        f"p{i}": Person(
            f"p{i}",
            f"P{i}",
            roles=("agent",),
            absences=(Absence(date(2025, 3, 1), date(2025, 3, 31)),) if i in absent else (),
        )
        for i in range(n)
    }
    org = Organisation(people=people, roles={"agent": Role("agent", "Agent")})
    load: dict[str, float] = {f"p{i}": float(v) for i, v in enumerate(loads)}
    state = AssignmentState()
    eligible = [p for p in people if int(p[1:]) not in absent]
    for i, effort in enumerate(efforts):
        decision = LeastLoaded().assign(
            org,
            TaskToAssign(f"t{i}", role="agent", effort=effort),
            at=MONDAY_10,
            workload=load,
            state=state,
        )
        if not eligible:
            assert decision.assignee is None
            break
        assert decision.assignee in eligible
        assert all(load[decision.assignee] <= load[p] for p in eligible)
        load = with_decision(load, decision)
        state = decision.state


def _availability_org(shifts: Sequence[int], absences: Sequence[int]) -> Organisation:
    calendars = {"day": DAY, "night": NIGHT}
    names = [None, "day", "night"]
    people = {
        f"p{i}": Person(
            f"p{i}",
            f"P{i}",
            roles=("agent",),
            groups=("desk",),
            skills={"sql": 1 + i % 5},
            calendar=names[shift],
            absences=(
                Absence(
                    date(2025, 3, 1) + timedelta(days=absences[i]),
                    date(2025, 3, 1) + timedelta(days=absences[i] + 1),
                ),
            ),
        )
        for i, shift in enumerate(shifts)
    }
    return Organisation(
        people=people,
        roles={"agent": Role("agent", "Agent")},
        groups={"desk": Group("desk", "Desk")},
        calendars=calendars,
    )


@settings(max_examples=40, deadline=None)
@given(
    shifts=st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=6),
    absence_days=st.lists(st.integers(min_value=0, max_value=9), min_size=6, max_size=6),
    hours=st.lists(st.integers(min_value=0, max_value=24 * 10), min_size=1, max_size=10),
)
def test_nobody_absent_or_off_shift_gets_work(
    shifts: list[int], absence_days: list[int], hours: list[int]
) -> None:
    org = _availability_org(shifts, absence_days)
    strategies = [
        RoundRobin(),
        LeastLoaded(),
        SkillBased(),
        RuleStrategy(hook=lambda task, eligible, ctx: sorted(org.people)),
    ]
    for h in hours:
        at = datetime(2025, 3, 1, tzinfo=UTC) + timedelta(hours=h)
        available = {p for p in org.people if org.is_available(p, at)}
        for strategy in strategies:
            decision = strategy.assign(
                org,
                TaskToAssign("t", candidate_groups=("desk",), required_skills={"sql": 1}),
                at=at,
            )
            if decision.assignee is None:
                assert not available or strategy.name == "rule"
            else:
                assert decision.assignee in available
            assert set(decision.eligible) == available


def test_skill_based_best_and_closest() -> None:
    people = {
        "novice": Person("novice", "N", roles=("agent",), skills={"network": 2}),
        "expert": Person("expert", "E", roles=("agent",), skills={"network": 5, "sql": 4}),
        "solid": Person("solid", "S", roles=("agent",), skills={"network": 3, "sql": 3}),
        "busy": Person("busy", "B", roles=("agent",), skills={"network": 5, "sql": 4}),
    }
    org = Organisation(people=people, roles={"agent": Role("agent", "Agent")})
    task = TaskToAssign("t", role="agent", required_skills={"network": 3, "sql": 2})
    best = SkillBased().assign(org, task, at=MONDAY_10, workload={"busy": 3, "expert": 1})
    assert best.assignee == "expert"  # top score shared with busy, expert less loaded
    assert any(e.person == "novice" and "network 2<3" in e.reason for e in best.excluded)
    closest = SkillBased(match="closest").assign(org, task, at=MONDAY_10)
    assert closest.assignee == "solid"


def test_rule_hook_and_ineligible_choice() -> None:
    org = team(3).add_absence("p01", Absence(date(2025, 3, 3), date(2025, 3, 3), "sick"))
    seen: dict[str, Any] = {}

    def hook(task: TaskToAssign, eligible: Sequence[str], ctx: Any) -> str:
        seen["eligible"] = eligible
        return "p02" if task.variables.get("vip") else "p01"

    vip = RuleStrategy(hook=hook).assign(
        org, TaskToAssign("t", role="agent", variables={"vip": True}), at=MONDAY_10
    )
    assert vip.assignee == "p02"
    assert seen["eligible"] == ("p00", "p02")
    normal = RuleStrategy(hook=hook).assign(org, TaskToAssign("t", role="agent"), at=MONDAY_10)
    assert normal.assignee is None
    assert "absent (sick)" in normal.reason


def test_rule_feel_expression() -> None:
    org = team(3).add_absence("p00", Absence(date(2025, 3, 3), date(2025, 3, 3)))
    decision = RuleStrategy(expression='if vip then "p02" else candidates[1]').assign(
        org, TaskToAssign("t", role="agent", variables={"vip": True}), at=MONDAY_10
    )
    assert decision.assignee == "p02"
    # FEEL lists are 1-based: candidates[1] is the first eligible person (p00 is absent)
    plain = RuleStrategy(expression='if vip then "p02" else candidates[1]').assign(
        org, TaskToAssign("t", role="agent", variables={"vip": False}), at=MONDAY_10
    )
    assert plain.assignee == "p01"
    # the org functions are in scope: the members of a role, filtered by the rule
    via_org = RuleStrategy(expression='members("agent")[item != "p01"]').assign(
        org, TaskToAssign("t", role="agent"), at=MONDAY_10
    )
    assert via_org.assignee == "p02"  # p00 (absent) is skipped, p02 is the first eligible


def test_make_strategy() -> None:
    assert make_strategy("round-robin").name == "round-robin"
    assert make_strategy("Least_Loaded").name == "least-loaded"
    assert isinstance(make_strategy("skill-based", match="closest"), SkillBased)
    with pytest.raises(ConfigurationError):
        make_strategy("lottery")
    with pytest.raises(ConfigurationError):
        make_strategy("manual", colour="red")


def test_rebalance_when_someone_goes_absent() -> None:
    org = team(4)
    state = AssignmentState()
    load: dict[str, float] = {}
    assignments = []
    for i in range(8):
        decision = LeastLoaded().assign(
            org, TaskToAssign(f"t{i}", role="agent"), at=MONDAY_10, workload=load, state=state
        )
        state = decision.state
        load = with_decision(load, decision)
        assignments.append((TaskToAssign(f"t{i}", role="agent"), decision.assignee or ""))
    assert load == {"p00": 2, "p01": 2, "p02": 2, "p03": 2}
    away = org.add_absence("p01", Absence(date(2025, 3, 3), date(2025, 3, 14), "vacation"))
    decisions, state, new_load = rebalance(
        away, LeastLoaded(), assignments, at=MONDAY_10, workload=load, state=state
    )
    assert len(decisions) == 2
    assert all(d.previous_assignee == "p01" for d in decisions)
    assert all(d.assignee not in (None, "p01") for d in decisions)
    assert new_load["p01"] == 0
    assert sum(new_load.values()) == 8
    assert max(new_load.values()) - min(v for k, v in new_load.items() if k != "p01") <= 1
    assert "re-balanced: p01 absent" in decisions[0].reason
    # relieving one named person works without an absence too
    named, _, _ = rebalance(org, RoundRobin(), assignments, at=MONDAY_10, person="p02")
    assert [d.previous_assignee for d in named] == ["p02", "p02"]
    assert all(d.assignee != "p02" for d in named)


def test_strategy_per_task_or_lane_from_the_org_file() -> None:
    org = load_organisation(ROOT / "processes" / "service_desk" / "org.yaml")
    assert strategy_for(org, "service_desk", "Classify ticket").name == "round-robin"  # lane
    solve = strategy_for(org, "service_desk", "Solve problem")
    assert isinstance(solve, SkillBased) and solve.match == "closest"
    assert strategy_for(org, "service_desk", "Review overdue ticket").name == "manual"
    assert strategy_for(org, "service_desk", "Unknown", lane="First level").name == "round-robin"
    assert strategy_for(org, "other", "x").name == "manual"


def test_bad_strategy_in_org_file_is_reported_with_line(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(
        "roles: [agent]\nprocesses:\n  - id: p\n    lanes: {L: agent}\n"
        "    assignment:\n      L: lottery\n"
    )
    with pytest.raises(OrgValidationError) as info:
        load_organisation(path)
    assert info.value.code == "org.assignment.unknown"
    assert info.value.line == 6
