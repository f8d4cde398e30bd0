"""``liucheng --help`` stays light: heavy packages load only for the commands that use them."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("polars", "numpy", "scipy", "pandas", "pyarrow", "liucheng.model", "liucheng.analytics")


def _imported(*args: str) -> set[str]:
    """Every module a fresh ``python -m liucheng.cli ARGS`` imports (from ``-X importtime``)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "liucheng.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Usage" in proc.stdout
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "typer" in names  # the listing really was read
    return names


@pytest.mark.parametrize("args", [("--help",), ("mine", "--help"), ("bpmn", "--help")])
def test_help_does_not_import_heavy_packages(args: tuple[str, ...]) -> None:
    loaded = _imported(*args)
    assert not {m for m in loaded for h in HEAVY if m == h or m.startswith(h + ".")}
