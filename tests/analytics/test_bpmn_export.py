"""BPMN export of discovered models and BPMN → Petri net translation."""

from __future__ import annotations

from pathlib import Path

import pytest

from liucheng.analytics.mining import (
    MiningError,
    align,
    bpmn_to_petri_net,
    check_soundness,
    discover_heuristics,
    discover_inductive,
    heuristics_to_petri_net,
    read_bpmn_net,
    to_petri_net,
    tree_to_bpmn,
    write_model_bpmn,
)
from liucheng.model import ProcessBuilder, Task, parse_bpmn, write_bpmn
from tests.analytics.test_petri_support import make_log, real_log


@pytest.mark.parametrize("name", ["running-example.xes", "repairExample.xes.gz"])
def test_discovered_bpmn_keeps_behaviour(name: str, tmp_path: Path) -> None:
    log = real_log(name)
    tree = discover_inductive(log, 0.2)
    path = write_model_bpmn(tree, tmp_path / "m.bpmn")
    defs = parse_bpmn(path)
    tasks = [n for n in defs.processes[0].flow_nodes if isinstance(n, Task)]
    assert {t.name for t in tasks} == tree.activities()
    shapes = defs.diagrams[0].plane.shapes
    assert len(shapes) == len(defs.processes[0].flow_nodes)  # every node has a shape
    back = read_bpmn_net(path)
    assert check_soundness(back, 50_000).sound is True
    a1, a2 = align(log, to_petri_net(tree)), align(log, back)
    assert a1.average_trace_fitness == pytest.approx(a2.average_trace_fitness)


def test_heuristics_net_exports(tmp_path: Path) -> None:
    log = real_log("running-example.xes")
    net = heuristics_to_petri_net(discover_heuristics(log))
    path = write_model_bpmn(net, tmp_path / "h.bpmn")
    back = read_bpmn_net(path)
    assert back.labels == net.labels


def _gateway_model() -> bytes:
    b = ProcessBuilder("p")
    b.start_event("s").task("a", name="A").parallel_gateway("fork")
    b.branch().task("b", name="B")
    b.branch().task("c", name="C")
    b.join("sync", "parallel").inclusive_gateway("or")
    b.branch().task("d", name="D")
    b.branch().task("e", name="E")
    b.join("orj", "inclusive").exclusive_gateway("x")
    b.branch().task("f", name="F")
    b.branch()
    b.join("xj").end_event("end")
    return write_bpmn(b.build())


def test_bpmn_gateways_translate_to_the_expected_language() -> None:
    net = bpmn_to_petri_net(parse_bpmn(_gateway_model()))
    assert net.labels == {"A", "B", "C", "D", "E", "F"}
    log = make_log(
        [
            ["A", "B", "C", "D", "F"],
            ["A", "C", "B", "E", "D"],
            ["A", "B", "C", "E"],
        ]
    )
    assert align(log, net).average_trace_fitness == 1.0
    bad = make_log([["A", "B", "F"]])  # C missing, no inclusive branch
    assert align(bad, net).average_trace_fitness < 1.0


def test_subprocess_is_expanded() -> None:
    b = ProcessBuilder("p")
    b.start_event("s").task("a", name="A").sub_process("sub")
    b.start_event("ss").task("b", name="B").end_event("se")
    b.end_sub_process().task("c", name="C").end_event("e")
    net = bpmn_to_petri_net(b.build())
    assert net.labels == {"A", "B", "C"}
    assert align(make_log([["A", "B", "C"]]), net).average_trace_fitness == 1.0


def test_bpmn_without_start_event_is_refused() -> None:
    b = ProcessBuilder("p")
    b.task("a", name="A")
    with pytest.raises(MiningError) as err:
        bpmn_to_petri_net(b.build())
    assert err.value.code == "mining.bpmn.no_start"


def test_tree_to_bpmn_has_a_start_and_an_end() -> None:
    tree = discover_inductive(make_log([["a", "b"], ["a", "c"]]))
    defs = tree_to_bpmn(tree)
    kinds = {type(n).__name__ for n in defs.processes[0].flow_nodes}
    assert {"StartEvent", "EndEvent", "Task", "ExclusiveGateway"} <= kinds
