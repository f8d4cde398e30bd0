"""Social network of hand-overs and working together."""

from __future__ import annotations

from liucheng.analytics.mining import handover_network, working_together
from tests.analytics.test_petri_support import make_log


def _log():  # type: ignore[no-untyped-def]
    traces = [["a", "b", "c"], ["a", "b"], ["a", "c"]]
    res = [["ann", "bob", "bob"], ["ann", "cid"], ["ann", "bob"]]
    return make_log(traces, res)


def test_handover_counts() -> None:
    net = handover_network(_log())
    rows = {(r["source"], r["target"]): r for r in net.iter_rows(named=True)}
    assert rows[("ann", "bob")]["count"] == 2
    assert rows[("ann", "cid")]["count"] == 1
    assert ("bob", "bob") not in rows
    assert abs(sum(net["share"].to_list()) - 1.0) < 1e-12
    with_self = handover_network(_log(), include_self=True)
    assert with_self.filter(with_self["source"] == with_self["target"])["count"].item() == 1


def test_working_together() -> None:
    wt = working_together(_log())
    rows = {(r["resource_a"], r["resource_b"]): r["cases"] for r in wt.iter_rows(named=True)}
    assert rows == {("ann", "bob"): 2, ("ann", "cid"): 1}
