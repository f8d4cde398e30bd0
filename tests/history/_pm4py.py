"""pm4py as the reference implementation (test-only): quiet, warnings suppressed, cached."""

from __future__ import annotations

import contextlib
import io
import warnings
from functools import cache
from pathlib import Path
from typing import Any

from tests.conftest import require_shared

LOGS = (
    "running-example.xes",
    "reviewing.xes.gz",
    "repairExample.xes.gz",
    "receipt.xes.gz",
    "helpdesk.xes.gz",
)
BIG = "bpic2012.xes.gz"


def log_path(name: str) -> Path:
    return require_shared("data", "logs", name)


@contextlib.contextmanager
def quiet() -> Any:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def pm4py() -> Any:
    with quiet():
        import pm4py as mod
    return mod


@cache
def pm4py_frame(name: str) -> Any:
    """pm4py's dataframe of a shared log (rows in file order)."""
    mod = pm4py()
    with quiet():
        return mod.read_xes(str(log_path(name)), show_progress_bar=False)


def pm4py_complete(frame: Any) -> Any:
    """Only complete (or lifecycle-less) events, as ``liucheng mine dfg`` counts by default."""
    if "lifecycle:transition" not in frame.columns:
        return frame
    life = frame["lifecycle:transition"].astype("string").str.lower()
    return frame[(life == "complete") | life.isna()]


def as_pm4py(frame: Any) -> Any:
    """Our event-log frame as the pandas frame pm4py's algorithms expect (same events)."""
    pdf = frame.select(
        frame["case_id"].alias("case:concept:name"),
        frame["activity"].alias("concept:name"),
        frame["timestamp"].alias("time:timestamp"),
        frame["lifecycle"].alias("lifecycle:transition"),
    ).to_pandas()
    return pdf
