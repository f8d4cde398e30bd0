"""``liucheng tasks``: list, claim, complete, comment on a SQLite database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from liucheng.cli import app
from liucheng.engine import Engine
from liucheng.store import SqlStore

from .conftest import user_task_process

FORM = {
    "components": [{"type": "number", "key": "n", "label": "N", "validate": {"required": True}}]
}


def _db(tmp_path: Path) -> tuple[str, list[str]]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = SqlStore(url)
    try:
        engine = Engine(store)
        engine.deploy(
            [
                (
                    "p.bpmn",
                    user_task_process('camunda:candidateUsers="kim" camunda:formKey="f.form"'),
                ),
                ("f.form", json.dumps(FORM).encode()),
            ]
        )
        pids = [engine.start_process("p") for _ in range(2)]
        ids = [engine.tasks(instance_id=p)[0].id for p in pids]
    finally:
        store.dispose()
    return url, ids


def test_list_claim_comment_complete(tmp_path: Path) -> None:
    url, ids = _db(tmp_path)
    runner = CliRunner()
    out = runner.invoke(app, ["tasks", "list", "-d", url, "--user", "kim", "--candidate", "--json"])
    assert out.exit_code == 0, out.output
    assert [t["id"] for t in json.loads(out.stdout)["tasks"]] == ids
    assert runner.invoke(app, ["tasks", "claim", ids[0], "-u", "kim", "-d", url]).exit_code == 0
    assert (
        runner.invoke(app, ["tasks", "comment", ids[0], "hello", "-u", "kim", "-d", url]).exit_code
        == 0
    )
    mine = runner.invoke(app, ["tasks", "list", "-d", url, "-u", "kim", "--mine", "--json"])
    assert [t["id"] for t in json.loads(mine.stdout)["tasks"]] == [ids[0]]
    done = runner.invoke(app, ["tasks", "complete", ids[0], "--var", "n=3", "-d", url])
    assert done.exit_code == 0, done.output
    left = runner.invoke(app, ["tasks", "list", "-d", url, "--json"])
    assert [t["id"] for t in json.loads(left.stdout)["tasks"]] == [ids[1]]


def test_bad_form_submission_is_a_clean_error(tmp_path: Path) -> None:
    url, ids = _db(tmp_path)
    cli = Path(sys.executable).parent / "liucheng"
    proc = subprocess.run(
        [str(cli), "tasks", "complete", ids[1], "--var", 'n="x"', "-d", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "N must be a number" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
