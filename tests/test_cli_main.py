"""The ``liucheng`` entry point: exit codes and clean errors, never a traceback."""

from __future__ import annotations

import subprocess
import sys


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "liucheng.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_our_errors_exit_2_with_message() -> None:
    out = _run("db", "upgrade", "--database", "mysql://nobody@nowhere/x")
    assert out.returncode == 2
    assert "config.database_url" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_usage_is_clicks_message() -> None:
    out = _run("db", "upgrade", "--no-such-option")
    assert out.returncode == 2
    assert "No such option" in out.stderr
    assert "Traceback" not in out.stderr


def test_help_lists_the_command_families() -> None:
    out = _run("--help")
    assert out.returncode == 0
    for family in ("bpmn", "dmn", "db", "worker", "bench", "mine", "sla", "staffing"):
        assert family in out.stdout


def test_python_dash_m_liucheng_is_the_same_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "liucheng", "db", "upgrade", "--database", "mysql://nobody@x/y"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 2
    assert "config.database_url" in out.stderr


def test_a_database_that_does_not_answer_is_a_message_not_a_traceback() -> None:
    out = _run("db", "upgrade", "--database", "postgresql+psycopg://postgres@127.0.0.1:1/nope")
    assert out.returncode == 2
    assert "[store.operational]" in out.stderr
    assert "Traceback" not in out.stderr
