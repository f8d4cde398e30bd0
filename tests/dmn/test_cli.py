from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liucheng.cli import app, main

ROOT = Path(__file__).resolve().parents[2]
PRIORITY = ROOT / "processes" / "service_desk" / "priority.dmn"


def test_eval_prints_the_value_as_json() -> None:
    result = CliRunner().invoke(
        app,
        [
            "dmn",
            "eval",
            str(PRIORITY),
            "priority",
            "--input",
            '{"impact": "high", "urgency": "high"}',
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == "critical"


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``liucheng.cli.main`` in-process (a subprocess pays for importing every part)."""
    old = sys.argv
    sys.argv = ["liucheng", *args]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    out = capsys.readouterr()
    return code, out.out, out.err


def test_eval_errors_are_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _main(["dmn", "eval", str(PRIORITY), "priority", "--input", "{nope"], capsys)
    assert code == 2 and "not valid JSON" in err and "Traceback" not in err
    code, _, err = _main(["dmn", "eval", str(PRIORITY), "priority", "--input", "[1]"], capsys)
    assert code == 2 and "JSON object" in err
    code, _, err = _main(["dmn", "eval", str(PRIORITY), "nosuch", "--input", "{}"], capsys)
    assert code == 2 and "no decision 'nosuch'" in err
    code, _, err = _main(["dmn", "eval", str(PRIORITY.with_name("missing.dmn")), "x"], capsys)
    assert code == 2 and "cannot read" in err


def test_eval_prints_problems_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "dmn",
        "eval",
        str(PRIORITY),
        "priority",
        "--input",
        '{"impact": "x", "urgency": "low"}',
    ]
    code, out, err = _main(args, capsys)
    assert code == 0 and json.loads(out) is None and "does not conform" in err


def test_tck_json_shape(tmp_path: Path) -> None:
    (tmp_path / "m.dmn").write_text(
        '<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:m" name="m">'
        '<decision id="d" name="d"><variable name="d"/><literalExpression><text>1 + 1</text>'
        "</literalExpression></decision></definitions>"
    )
    (tmp_path / "t.xml").write_text(
        '<testCases xmlns="http://www.omg.org/spec/DMN/20160719/testcase" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        '<modelName>m.dmn</modelName><testCase id="1"><resultNode name="d"><expected>'
        '<value xsi:type="xsd:decimal">2</value></expected></resultNode></testCase></testCases>'
    )
    result = CliRunner().invoke(app, ["dmn", "tck", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["passed"] == 1 and doc["failed"] == 0 and doc["errors"] == 0
    assert doc["results"] == [
        {
            "model": f"{tmp_path.name}/m.dmn",
            "test": "t.xml:1",
            "ok": True,
            "message": "1 result(s) ok",
        }
    ]


def test_tck_on_a_missing_folder_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _main(["dmn", "tck", str(tmp_path / "nope"), "--json"], capsys)
    assert code == 2 and "not a directory" in err


def test_check_reports_ok_and_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(["dmn", "check", str(PRIORITY)], capsys)
    assert code == 0 and "ok (2 decisions)" in out
    bad = tmp_path / "bad.dmn"
    bad.write_text(
        '<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" namespace="urn:b" name="b">'
        '<decision id="d" name="d"><variable name="d"/><literalExpression><text>1 +</text>'
        "</literalExpression></decision></definitions>"
    )
    code, _, err = _main(["dmn", "check", str(bad)], capsys)
    assert code == 2 and "dmn.feel.syntax" in err and "bad.dmn" in err
