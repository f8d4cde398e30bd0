"""Organisation model: loading, validation with file/line, edits, RACI, availability, FEEL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from liucheng.errors import NotFoundError
from liucheng.feel import compile_expression
from liucheng.org import (
    Absence,
    Department,
    Organisation,
    OrgValidationError,
    Person,
    ProcessOrg,
    Role,
    dump_organisation,
    load_organisation,
    org_functions,
    org_python_functions,
    organisation_to_dict,
    parse_organisation_csv,
    save_organisation,
    summarise,
)
from tests.conftest import ROOT

EXAMPLE = ROOT / "processes" / "service_desk" / "org.yaml"


@pytest.fixture(scope="module")
def org() -> Organisation:
    return load_organisation(EXAMPLE)


def write(tmp_path: Path, text: str, name: str = "org.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BASE = """\
roles: [{id: agent}, {id: lead}]
departments: [{id: top, head: boss}]
people:
  - {id: boss, roles: [lead], department: top}
"""


def problems(exc: OrgValidationError) -> list[dict[str, Any]]:
    return list(exc.details["problems"])


def test_example_loads_with_tree_superiors_and_calendars(org: Organisation) -> None:
    assert len(org.people) == 9
    assert org.departments["first-level"].parent == "service"
    assert org.departments["service"].parent == "company"
    # no explicit superiors: the department heads form the chain
    assert org.superior("anna") == "tom"
    assert org.superior("tom") == "sofia"  # tom heads first-level, so the parent's head
    assert org.superior_chain("anna") == ("tom", "sofia", "hanna")
    assert org.superior("hanna") is None
    assert set(org.members("agent")) == {"tom", "anna", "ben", "carla"}
    assert set(org.department_members("service")) == {
        "sofia",
        "tom",
        "anna",
        "ben",
        "carla",
        "mei",
        "jonas",
    }
    assert org.department_members("service", recursive=False) == ("sofia",)
    assert org.calendar_of("ben") is org.calendars["late-shift"]
    assert org.calendar_of("anna") is org.calendars["office"]
    assert org.calendars["late-shift"].spec.timezone == "Europe/Berlin"  # inherited


def test_availability_absence_and_shift(org: Organisation) -> None:
    # Monday 2025-08-04 10:00 CEST: anna on vacation, ben's late shift starts at noon
    t = datetime(2025, 8, 4, 8, tzinfo=UTC)
    assert org.availability("anna", t) == "absent (vacation)"
    assert org.availability("ben", t) == "off shift"
    assert org.availability("carla", t) is None
    # the vacation ends with the 15th (whole local days, both included)
    assert not org.is_available("anna", datetime(2025, 8, 15, 21, 59, tzinfo=UTC))
    assert org.is_available("anna", datetime(2025, 8, 18, 8, tzinfo=UTC))
    # datetime absences are half-open instants
    assert not org.is_available("jonas", datetime(2025, 9, 22, 11, tzinfo=UTC))
    assert org.is_available("jonas", datetime(2025, 9, 22, 16, tzinfo=UTC)) is False  # 18:00 CEST
    assert org.is_available("jonas", datetime(2025, 9, 22, 15, 59, tzinfo=UTC)) is False
    assert org.is_available("jonas", datetime(2025, 9, 23, 8, tzinfo=UTC))


def test_raci(org: Organisation) -> None:
    view = org.raci("service_desk")
    rows = {row.task: row for row in view.rows}
    assert view.accountable == "sofia"
    assert rows["Classify ticket"].lane == "First level"
    assert set(rows["Classify ticket"].responsible) == {"tom", "anna", "ben", "carla"}
    assert rows["Solve problem"].responsible == ("mei", "jonas")
    assert (
        rows["Review overdue ticket"].lane is None
        and rows["Review overdue ticket"].role == "team-lead"
    )
    assert rows["Solve problem"].informed == ("olga", "hanna")
    assert rows["Solve problem"].consulted == ("mei", "jonas")
    # tasks from a BPMN model by name → lane
    extra = org.raci("service_desk", {"Close ticket": "First level"})
    assert {r.task for r in extra.rows} >= {"Close ticket", "Solve problem"}
    with pytest.raises(OrgValidationError):
        org.raci("service_desk", {"Odd": "No such lane"})
    with pytest.raises(NotFoundError):
        org.raci("nope")


def test_unknown_superior_and_role_name_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        BASE
        + "  - {id: ann, roles: [agent]}\n"
        + "  - {id: bob, roles: [agnet], superior: ann}\n"
        + "  - {id: cat, superior: nobody}\n",
    )
    with pytest.raises(OrgValidationError) as info:
        load_organisation(path)
    found = {(p["code"], p["line"]) for p in problems(info.value)}
    assert ("org.role.unknown", 6) in found
    assert ("org.superior.unknown", 7) in found
    assert info.value.file == str(path)
    assert info.value.line == 6


def test_superior_cycle_and_department_cycle(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        BASE + "  - {id: a, superior: b}\n  - {id: b, superior: c}\n  - {id: c, superior: a}\n",
    )
    with pytest.raises(OrgValidationError) as info:
        load_organisation(path)
    cycles = [p for p in problems(info.value) if p["code"] == "org.superior.cycle"]
    assert {p["line"] for p in cycles} == {5, 6, 7}
    assert "a → b → c → a" in cycles[0]["message"]
    depts = write(
        tmp_path,
        "departments:\n  - {id: x, parent: z}\n  - {id: y, parent: x}\n  - {id: z, parent: y}\n",
        "d.yaml",
    )
    with pytest.raises(OrgValidationError) as info:
        load_organisation(depts)
    assert info.value.code == "org.department.cycle"
    assert info.value.line == 2


def test_duplicates_and_shape_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        BASE + "  - {id: boss}\n  - {id: eve, skills: {python: 7}, colour: red}\n",
    )
    with pytest.raises(OrgValidationError) as info:
        load_organisation(path)
    found = {(p["code"], p["line"]) for p in problems(info.value)}
    assert ("org.duplicate", 5) in found
    assert ("org.shape", 6) in found
    assert any("python" in p["message"] for p in problems(info.value))
    assert any("colour" in p["message"] for p in problems(info.value))


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OrgValidationError) as info:
        load_organisation(write(tmp_path, "people: [\n  {id: a\n"))
    assert info.value.code == "yaml.syntax"
    assert info.value.line is not None
    with pytest.raises(OrgValidationError):
        load_organisation(tmp_path / "none.yaml")


def test_csv_people_with_department_paths(tmp_path: Path) -> None:
    text = (
        "id,name,department,roles,superior,skills,absences,head_of\n"
        "boss,Boss,acme,lead,,,,acme\n"
        "ann,Ann,acme/support,agent;lead,,sql:3;network:2,2025-01-06/2025-01-10,support\n"
        "bob,Bob,acme/support,agent,,sql:1,2025-02-03,\n"
    )
    org = parse_organisation_csv(text, file="people.csv")
    assert org.departments["support"].parent == "acme"
    assert org.departments["support"].head == "ann"
    assert org.superior("bob") == "ann"
    assert org.superior("ann") == "boss"
    assert org.people["ann"].skills == {"sql": 3, "network": 2}
    assert org.people["bob"].absences == (Absence(date(2025, 2, 3), date(2025, 2, 3)),)
    again = parse_organisation_csv(dump_organisation(org, "csv"))
    assert again.people == org.people
    assert again.departments == org.departments


def test_csv_errors_have_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "id,name,superior\na,A,\nb,B,zed\na,A again,\n",
        "people.csv",
    )
    with pytest.raises(OrgValidationError) as info:
        load_organisation(path)
    found = {(p["code"], p["line"]) for p in problems(info.value)}
    assert ("org.duplicate", 4) in found
    assert ("org.superior.unknown", 3) in found
    bad_header = write(tmp_path, "id,nmae\na,A\n", "h.csv")
    with pytest.raises(OrgValidationError) as info:
        load_organisation(bad_header)
    assert "nmae" in info.value.message


def test_yaml_people_from_csv_checks_roles(tmp_path: Path) -> None:
    write(tmp_path, "id,roles\nann,agent\nbob,gardener\n", "people.csv")
    path = write(tmp_path, "roles: [agent]\npeople: people.csv\n")
    with pytest.raises(OrgValidationError) as info:
        load_organisation(path)
    assert info.value.code == "org.role.unknown"
    assert info.value.file is not None and info.value.file.endswith("people.csv")
    assert info.value.line == 3


def test_yaml_round_trip(org: Organisation, tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    save_organisation(org, out)
    again = load_organisation(out)
    assert again.people == org.people
    assert again.departments == org.departments
    assert again.processes == org.processes
    assert {n: c.spec for n, c in again.calendars.items()} == {
        n: c.spec.__class__(**{**c.spec.__dict__, "name": n}) for n, c in org.calendars.items()
    }
    assert organisation_to_dict(again)["people"] == organisation_to_dict(org)["people"]


def test_edits_return_new_validated_versions(org: Organisation) -> None:
    added = org.add_person(Person("zoe", "Zoe", department="first-level", roles=("agent",)))
    assert "zoe" in added.people and "zoe" not in org.people
    assert added.superior("zoe") == "tom"
    with pytest.raises(OrgValidationError):
        org.add_person(Person("anna", "Second Anna"))
    with pytest.raises(OrgValidationError) as info:
        org.add_person(Person("x", "X", roles=("astronaut",)))
    assert info.value.code == "org.role.unknown"
    with pytest.raises(OrgValidationError):
        org.update_person("anna", superior="anna")
    moved = org.update_person("carla", superior="jonas")
    assert moved.superior("carla") == "jonas" and org.superior("carla") == "tom"
    away = org.add_absence("carla", Absence(date(2025, 3, 3), date(2025, 3, 7), "course"))
    assert not away.is_available("carla", datetime(2025, 3, 5, 9, tzinfo=UTC))
    assert org.is_available("carla", datetime(2025, 3, 5, 9, tzinfo=UTC))
    # removing a person hands their reports to their superior
    chain = moved.remove_person("jonas")
    assert chain.superior("carla") == "mei"  # jonas's own superior (head of second-level)
    # a department head cannot simply vanish
    with pytest.raises(OrgValidationError):
        org.remove_person("tom")
    with pytest.raises(OrgValidationError):
        org.remove_department("service")  # people and children still point at it
    more = org.add_role(Role("trainer", "Trainer")).add_department(
        Department("training", "Training", parent="company")
    )
    assert more.update_person("olga", roles=("trainer",), department="training").members(
        "trainer"
    ) == ("olga",)
    with pytest.raises(OrgValidationError):
        org.set_process(ProcessOrg("p", owner="ghost"))


def test_constructor_validates() -> None:
    with pytest.raises(OrgValidationError) as info:
        Organisation(people={"a": Person("a", "A", department="nowhere")})
    assert info.value.code == "org.department.unknown"
    with pytest.raises(OrgValidationError):
        Organisation(timezone="Mars/Base")


def test_summary(org: Organisation) -> None:
    summary = summarise(org)
    assert summary["counts"]["people"] == 9
    assert summary["per_role"]["agent"] == 4
    assert summary["per_department"]["first-level"] == 4
    assert summary["superiors"]["top"] == ["hanna"]
    assert summary["superiors"]["longest_chain"] == 3


def test_org_feel_functions(org: Organisation) -> None:
    fns = org_python_functions(org)
    assert fns["superior"]("anna") == "tom"
    assert fns["superior"]("nobody") is None
    assert fns["superiors"]("anna") == ["tom", "sofia", "hanna"]
    assert fns["members"]("specialist") == ["mei", "jonas"]
    assert fns["group members"]("network") == ["mei", "jonas"]
    assert set(fns["department members"]("second-level")) == {"mei", "jonas"}
    assert fns["department"]("olga") == "quality"
    assert fns["department head"]("quality") == "olga"
    assert fns["has role"]("tom", "team-lead") is True
    assert fns["person"]("mei")["skills"] == {"network": 5, "databases": 4}
    assert fns["skill level"]("anna", "network") == 0
    ctx = org_functions(org)
    assert set(ctx) == set(fns)
    assert compile_expression('superior("anna")').evaluate(ctx) == "tom"
    assert compile_expression('superior(superior("anna"))').evaluate(ctx) == "sofia"
    assert compile_expression('group members("network")').evaluate(ctx) == ["mei", "jonas"]
    assert compile_expression('count(members("agent"))').evaluate(ctx) == 4
    assert compile_expression('has role(person: "tom", role: "agent")').evaluate(ctx) is True
    assert compile_expression('superior("ghost")').evaluate(ctx) is None
