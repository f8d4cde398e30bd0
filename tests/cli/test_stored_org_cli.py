"""The CLIs use the organisation stored in the database when no ``--org FILE`` is given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from liucheng.cli import app
from liucheng.engine import Engine
from liucheng.store import SqlStore
from tests.work.conftest import user_task_process

runner = CliRunner()
ORG = Path(__file__).resolve().parents[1] / "api" / "data" / "org.yaml"


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_raci_reads_the_stored_organisation(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'org.db'}"
    from_file = json.loads(_run("org", "raci", str(ORG), "order", "--json"))
    assert from_file["accountable"] == "olga"
    _run("org", "import", str(ORG), "--database", db)
    stored = json.loads(_run("org", "raci", "order", "--database", db, "--json"))
    assert stored == from_file
    # FILE and --database together are refused (which one would it be?)
    both = runner.invoke(app, ["org", "raci", str(ORG), "order", "--database", db])
    assert both.exit_code != 0
    assert getattr(both.exception, "code", None) == "cli.org.source"
    empty = runner.invoke(app, ["org", "raci", "order", "-d", f"sqlite:///{tmp_path / 'e.db'}"])
    assert empty.exit_code != 0
    assert getattr(empty.exception, "code", None) == "org.not_stored"


def test_tasks_without_org_use_the_stored_groups(tmp_path: Path) -> None:
    """anna's group comes from the stored organisation: she may claim a service-desk task."""
    db = f"sqlite:///{tmp_path / 'tasks.db'}"
    store = SqlStore(db)
    try:
        engine = Engine(store)
        engine.deploy([("p.bpmn", user_task_process('camunda:candidateGroups="service-desk"'))])
        pid = engine.start_process("p")
    finally:
        store.dispose()

    def candidate_tasks() -> list[str]:
        out = _run("tasks", "list", "-d", db, "--user", "anna", "--candidate", "--json")
        return [t["instance_id"] for t in json.loads(out)["tasks"]]

    assert candidate_tasks() == []  # nothing stored yet: anna is in no group
    _run("org", "import", str(ORG), "--database", db)
    assert candidate_tasks() == [pid]


def _option_help(*path: str) -> str:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    [option] = [p for p in command.params if "--org" in getattr(p, "opts", ())]
    assert not option.required
    return " ".join((option.help or "").split())


def test_org_option_help_says_it_is_optional() -> None:
    for path in (("worker",), ("tasks", "list"), ("tasks", "claim")):
        text = _option_help(*path)
        assert "Optional" in text and "stored in the database" in text, (path, text)
    assert "first stored revision" in _option_help("serve")
