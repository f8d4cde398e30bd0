"""Every bad input to `liucheng simulate` and `liucheng staffing` exits 2 with a clear message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from liucheng.cli import main

DATA = Path(__file__).parent / "data"
MM = str(DATA / "mm1.bpmn")
FAM = str(DATA / "families.bpmn")
FAM_SC = str(DATA / "families.yaml")
ERLANG = ["staffing", "erlang", "--calls", "100", "--aht", "180"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    made = {
        "bad_demand": ("d.csv", "start,calls\nMon 08:00,abc\n"),
        "demand": ("ok.csv", "start,calls\nMon 08:00,10\nMon 08:30,12\n"),
        "bad_shifts": ("s.yaml", "shifts: [{name: x, length: -1}]\n"),
        "broken": ("b.yaml", ": : :\n"),
        "no_end": ("n.yaml", "arrivals: {interarrival: 60}\n"),
        "not_xml": ("x.bpmn", "not xml"),
        "bad_log": ("l.csv", "a,b\n1,2\n"),
    }
    out = {}
    for key, (name, text) in made.items():
        (tmp_path / name).write_text(text)
        out[key] = str(tmp_path / name)
    out["missing_dir"] = str(tmp_path / "no" / "such" / "dir")
    return out


CASES = [
    # (argv with {placeholders}, text the message must contain)
    ([*ERLANG[:3], "-5", "--aht", "180"], "calls"),
    ([*ERLANG[:5], "0"], "aht"),
    ([*ERLANG, "--target", "1.5"], "target"),
    ([*ERLANG, "--patience", "-1"], "patience"),
    ([*ERLANG, "--agents", "-3"], "agents"),
    ([*ERLANG, "--interval-minutes", "0"], "interval_minutes"),
    (["staffing", "erlang", "--aht", "180"], "--calls"),
    ([*ERLANG, "--simulate", "3"], "--demand"),
    (["staffing", "erlang", "--demand", "{missing_dir}/d.csv", "--aht", "180"], "cannot read"),
    (["staffing", "erlang", "--demand", "{bad_demand}", "--aht", "180"], "calls"),
    (["staffing", "schedule", "{demand}", "--shifts", "{bad_shifts}"], "shifts[0].length"),
    (["staffing", "schedule", "{demand}", "--shifts", "{missing_dir}/s.yaml"], "cannot read"),
    (["staffing", "schedule", "{demand}", "--shifts", "{broken}"], "malformed YAML"),
    (["simulate"], "MODEL.bpmn SCENARIO.yaml"),
    (["simulate", MM], "carries no simulation parameters"),
    (["simulate", "a", "b", "c"], "MODEL.bpmn SCENARIO.yaml"),
    (["simulate", MM, "{no_end}"], "horizon"),
    (["simulate", MM, "{broken}"], "malformed YAML"),
    (["simulate", "{not_xml}", FAM_SC], "not well-formed XML"),
    (["simulate", "{missing_dir}/m.bpmn", FAM_SC], "cannot read"),
    (["simulate", MM, FAM_SC], "no element 'triage'"),
    (["simulate", FAM, FAM_SC, "-r", "0"], "--replications"),
    (["simulate", FAM, FAM_SC, "--seed", "-1"], "--seed"),
    (["simulate", FAM, FAM_SC, "--executor", "bogus"], "--executor"),
    (["simulate", FAM, FAM_SC, "--executor", "compiled", "-r", "1"], "compiled runner"),
    (["simulate", FAM, FAM_SC, "-r", "1", "--log", "{missing_dir}/log.csv"], "cannot write"),
    (["simulate", FAM, FAM_SC, "-r", "1", "--log", "{demand}.nope"], "log format"),
    (["simulate", "compare", FAM_SC], "at least two"),
    (["simulate", "compare", FAM_SC, "{no_end}"], "no BPMN model"),
    (["simulate", "compare", FAM_SC, "{no_end}", "--model", MM], "horizon"),
    (["simulate", "compare", FAM_SC, FAM_SC, "--svg", "{missing_dir}/c.svg"], "cannot write"),
    (["simulate", "--calibrate", "{missing_dir}/log.xes"], "no such event-log file"),
    (["simulate", "--calibrate", "{bad_log}"], "case_id"),
    (["simulate", "--calibrate", "{bad_log}", "extra"], "no other arguments"),
    (["simulate", "calibrate"], "one event log"),
]


@pytest.mark.parametrize(("argv", "expected"), CASES, ids=[" ".join(c[0][:3]) for c in CASES])
def test_bad_input_exits_2_with_a_message(
    argv: list[str],
    expected: str,
    files: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [a.format(**files) for a in argv]
    monkeypatch.setattr(sys, "argv", ["liucheng", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    assert info.value.code == 2, (out, err)
    assert expected in err, err
    assert err.startswith("error: ") and "Traceback" not in err
    assert out == ""


def test_installed_command_exits_2() -> None:
    # (test_calibrate_compare.py::test_cli_errors_are_clean runs `liucheng simulate` the same way)
    exe = Path(sys.executable).parent / "liucheng"
    if not exe.exists():
        pytest.skip("the liucheng script is not installed next to this interpreter")
    for argv, expected in (
        (["staffing", "erlang", "--calls", "-5", "--aht", "180", "--json"], "calls"),
    ):
        proc = subprocess.run([str(exe), *argv], capture_output=True, text=True, check=False)
        assert proc.returncode == 2, proc.stderr
        assert expected in proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stdout == ""
