"""Shared helpers (no tests here) for the process-mining tests: logs, and pm4py (test-only) conversions."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import polars as pl

from liucheng.analytics.mining import PetriNet
from liucheng.history import read_log
from tests.conftest import require_shared


def make_log(traces: list[list[str]], resources: list[list[str]] | None = None) -> pl.DataFrame:
    """An event-log frame with one case per trace, events one hour apart."""
    rows: dict[str, list[Any]] = {"case_id": [], "activity": [], "timestamp": [], "resource": []}
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for i, tr in enumerate(traces):
        for j, a in enumerate(tr):
            rows["case_id"].append(f"c{i}")
            rows["activity"].append(a)
            rows["timestamp"].append(base + timedelta(days=i, hours=j))
            rows["resource"].append(resources[i][j] if resources else None)
    return pl.DataFrame(
        rows,
        schema={
            "case_id": pl.Utf8,
            "activity": pl.Utf8,
            "timestamp": pl.Datetime("us", "UTC"),
            "resource": pl.Utf8,
        },
    )


@cache
def real_log(name: str, max_cases: int | None = None) -> pl.DataFrame:
    """A shared real log (complete events), optionally its first ``max_cases`` cases."""
    frame = read_log(require_shared("data", "logs", name))
    if "lifecycle" in frame.columns:
        lc = pl.col("lifecycle").str.to_lowercase()
        frame = frame.filter(lc.is_null() | (lc == "complete"))
    if max_cases is not None:
        keep = frame["case_id"].unique(maintain_order=True).head(max_cases)
        frame = frame.filter(pl.col("case_id").is_in(keep.implode()))
    return frame


def to_pandas(frame: pl.DataFrame) -> Any:
    """The frame in pm4py's column convention."""
    pdf = frame.select(
        pl.col("case_id").alias("case:concept:name"),
        pl.col("activity").alias("concept:name"),
        pl.col("timestamp").alias("time:timestamp"),
    ).to_pandas()
    return pdf


def to_pm4py(net: PetriNet) -> tuple[Any, Any, Any]:
    """Our net as a pm4py net with the same place and transition names."""
    from pm4py.objects.petri_net.obj import Marking
    from pm4py.objects.petri_net.obj import PetriNet as PN
    from pm4py.objects.petri_net.utils import petri_utils as pu

    pn = PN("net")
    places = [PN.Place(n) for n in net.places]
    for p in places:
        pn.places.add(p)
    for t in net.transitions:
        tt = PN.Transition(t.name, t.label)
        pn.transitions.add(tt)
        for p, w in t.inputs:
            pu.add_arc_from_to(places[p], tt, pn, weight=w)
        for p, w in t.outputs:
            pu.add_arc_from_to(tt, places[p], pn, weight=w)
    im = Marking({places[p]: n for p, n in net.initial.items()})
    fm = Marking({places[p]: n for p, n in net.final.items()})
    return pn, im, fm


def from_pm4py(pn: Any, im: Any, fm: Any) -> PetriNet:
    """A pm4py net as ours (places and transitions sorted by name)."""
    net = PetriNet()
    idx = {}
    for p in sorted(pn.places, key=lambda x: x.name):
        idx[p] = net.add_place(p.name)
    for t in sorted(pn.transitions, key=lambda x: x.name):
        i = net.add_transition(t.label, t.name)
        for a in t.in_arcs:
            net.arc_in(idx[a.source], i, a.weight)
        for a in t.out_arcs:
            net.arc_out(i, idx[a.target], a.weight)
    net.initial = {idx[p]: n for p, n in im.items()}
    net.final = {idx[p]: n for p, n in fm.items()}
    return net


@contextmanager
def quiet() -> Iterator[None]:
    """Silence pm4py's own warnings and progress bars (the suite turns warnings into errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pm4py.util import constants

        old = constants.SHOW_PROGRESS_BAR
        constants.SHOW_PROGRESS_BAR = False
        try:
            yield
        finally:
            constants.SHOW_PROGRESS_BAR = old
