"""``liucheng bpmn check`` and ``liucheng bpmn roundtrip``."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from liucheng.cli import app, main
from tests.conftest import require_shared
from tests.model.samples import RICH
from tests.model.xmlcompare import differences

runner = CliRunner()

BROKEN = RICH.replace('targetRef="End" />', 'targetRef="Nowhere" />', 1)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``liucheng.cli.main`` in-process, the way the console script does."""

    def run(*args: str) -> Run:
        monkeypatch.setattr(sys, "argv", ["liucheng", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    return run


def test_check_miwg_suite_passes() -> None:
    folder = require_shared("conformance", "bpmn-miwg")
    files = [str(p) for p in sorted(folder.glob("*.bpmn"))]
    result = runner.invoke(app, ["bpmn", "check", "--json", *files])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["ok"] is True and doc["errors"] == 0
    assert len(doc["files"]) == len(files)


def test_check_reports_problem_with_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bpmn"
    bad.write_text(BROKEN)
    result = runner.invoke(app, ["bpmn", "check", str(bad)])
    assert result.exit_code == 1
    line = next(i for i, t in enumerate(BROKEN.splitlines(), 1) if 'targetRef="Nowhere"' in t)
    assert f"{bad}:{line}" in result.output
    assert "bpmn.flow.dangling" in result.output
    assert "hint:" in result.output


def test_check_json_lists_problems(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.bpmn", tmp_path / "bad.bpmn"
    good.write_text(RICH)
    bad.write_text(BROKEN)
    result = runner.invoke(app, ["bpmn", "check", "--json", str(good), str(bad)])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert [f["ok"] for f in doc["files"]] == [True, False]
    problem = next(p for p in doc["files"][1]["problems"] if p["code"] == "bpmn.flow.dangling")
    assert problem["element_id"] == "F6"
    assert problem["file"] == str(bad)
    assert problem["line"] > 1


def test_check_unparseable_file_is_a_problem_not_a_crash(tmp_path: Path, cli: Any) -> None:
    junk = tmp_path / "junk.bpmn"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    result = cli("bpmn", "check", "--json", str(junk))
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["files"][0]["problems"][0]["code"] == "bpmn.xml.malformed"
    assert "Traceback" not in result.stderr


def test_roundtrip_writes_equivalent_file(tmp_path: Path) -> None:
    src = require_shared("conformance", "bpmn-miwg", "B.2.0.bpmn")
    out = tmp_path / "out.bpmn"
    result = runner.invoke(app, ["bpmn", "roundtrip", str(src), str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["elements"] > 50
    assert differences(src.read_bytes(), out.read_bytes()) == []


def test_roundtrip_of_bad_input_exits_2_with_message(tmp_path: Path, cli: Any) -> None:
    src = tmp_path / "in.bpmn"
    src.write_text("<definitions")
    result = cli("bpmn", "roundtrip", str(src), str(tmp_path / "out.bpmn"))
    assert result.returncode == 2
    assert "bpmn.xml.malformed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.bpmn").exists()


def test_demo_summarises_bundled_processes() -> None:
    result = runner.invoke(app, ["demo", "--check-only", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["ok"] is True
    desk = next(f for f in doc["files"] if f["file"].endswith("service_desk.bpmn"))
    assert desk["processes"][0]["id"] == "service_desk"
    assert desk["processes"][0]["lanes"] == ["First level", "Second level", "Supervisor"]
    assert desk["elements"]["userTask"] >= 4
    assert desk["errors"] == 0


def test_demo_text_and_invalid_folder(tmp_path: Path, cli: Any) -> None:
    result = runner.invoke(app, ["demo", "--check-only"])
    assert result.exit_code == 0
    assert "service_desk" in result.output and "valid" in result.output
    (tmp_path / "bad.bpmn").write_text(BROKEN)
    bad = cli("demo", "--processes", str(tmp_path))
    assert bad.returncode == 1
    assert "INVALID" in bad.stdout and "bpmn.flow.dangling" in bad.stdout


def test_check_expands_folders_and_info_describes(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.bpmn").write_text(RICH)
    (tmp_path / "b.bpmn").write_text(BROKEN)
    result = runner.invoke(app, ["bpmn", "check", "--json", str(tmp_path)])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert sorted(Path(f["file"]).name for f in doc["files"]) == ["a.bpmn", "b.bpmn"]
    info = runner.invoke(app, ["bpmn", "info", "--json", str(tmp_path / "sub" / "a.bpmn")])
    assert info.exit_code == 0
    (desc,) = json.loads(info.output)["files"]
    assert desc["processes"][0]["id"] == "P"
    assert desc["processes"][0]["lanes"] == ["Agents", "Juniors"]
    assert desc["elements"]["userTask"] == 1 and desc["elements"]["scriptTask"] == 1
