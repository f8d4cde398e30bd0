"""``liucheng org import/export/history --database``: the organisation stored in the database."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liucheng.cli import app, main
from liucheng.engine import Engine
from liucheng.org import load_organisation, organisation_document, organisation_to_dict
from liucheng.store import SqlStore
from tests.conftest import ROOT

EXAMPLE = ROOT / "processes" / "service_desk" / "org.yaml"
runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def main_exit(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["liucheng", *args])
    with pytest.raises(SystemExit) as info:
        main()
    return int(info.value.code or 0)


def _revisions(url: str) -> list[int]:
    store = SqlStore(url)
    try:
        return [r.revision for r in store.org_revisions()]
    finally:
        store.dispose()


def test_import_stores_and_export_round_trips(sql_url: str, tmp_path: Path) -> None:
    report = json.loads(
        run("org", "import", str(EXAMPLE), "--database", sql_url, "--author", "hanna", "--json")
    )
    assert report["stored"]["revision"] == 1 and report["stored"]["author"] == "hanna"
    assert report["stored"]["comment"] == "import org.yaml"
    original = load_organisation(EXAMPLE)
    out = tmp_path / "exported.yaml"
    run("org", "export", "--database", sql_url, "-o", str(out))
    assert organisation_to_dict(load_organisation(out)) == organisation_to_dict(original)
    # stdout export is the same document
    stdout = run("org", "export", "--database", sql_url)
    assert stdout == out.read_text("utf-8")
    # the CSV form (people, departments, heads, calendars beside it) round-trips what it holds
    csv_out = tmp_path / "people.csv"
    run("org", "export", "--database", sql_url, "-o", str(csv_out))
    again = load_organisation(csv_out)
    assert {p: again.superior(p) for p in again.people} == {
        p: original.superior(p) for p in original.people
    }
    # importing the export again is a second revision of the same organisation
    run("org", "import", str(out), "-d", sql_url, "--comment", "re-import")
    history = json.loads(run("org", "history", "-d", sql_url, "--json"))["revisions"]
    assert [(r["revision"], r["comment"]) for r in history] == [
        (1, "import org.yaml"),
        (2, "re-import"),
    ]
    store = SqlStore(sql_url)
    try:
        newest = Engine(store).org_admin().current()
        assert newest is not None
        assert organisation_document(newest.organisation) == organisation_document(original)
    finally:
        store.dispose()
    first = tmp_path / "first.yaml"
    run("org", "export", "-d", sql_url, "--revision", "1", "-o", str(first))
    assert organisation_to_dict(load_organisation(first)) == organisation_to_dict(original)


def test_bad_file_is_an_error_with_line_and_the_database_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'org.db'}"
    run("org", "import", str(EXAMPLE), "-d", url)
    bad = tmp_path / "bad-org.yaml"
    bad.write_text("roles: [agent]\npeople:\n  - {id: a, superior: ghost}\n")
    assert main_exit(monkeypatch, "org", "import", str(bad), "--database", url) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3" in err and "ghost" in err
    assert _revisions(url) == [1]


def test_stale_expected_revision_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'org.db'}"
    run("org", "import", str(EXAMPLE), "-d", url)
    run("org", "import", str(EXAMPLE), "-d", url, "--expected-revision", "1")
    code = main_exit(
        monkeypatch, "org", "import", str(EXAMPLE), "-d", url, "--expected-revision", "1"
    )
    assert code != 0
    assert "org.revision.conflict" in capsys.readouterr().err
    assert _revisions(url) == [1, 2]


def test_export_needs_a_stored_organisation_and_one_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert main_exit(monkeypatch, "org", "export", "-d", url) != 0
    assert "org.not_stored" in capsys.readouterr().err
    assert main_exit(monkeypatch, "org", "export", str(EXAMPLE), "-d", url) != 0
    assert "cli.org.source" in capsys.readouterr().err


def test_import_without_database_only_validates(tmp_path: Path) -> None:
    out = run("org", "import", str(EXAMPLE))
    assert "valid" in out and "stored" not in out
