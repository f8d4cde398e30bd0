"""The executor's one-step path for plain nodes (``Node.plain``) against the general chain.

Every conformance scenario (and the extra ones) runs twice: once as compiled, once with no node
marked plain, so every token takes ``execute``/``complete``/``leave``. History, instance documents
and index rows must be the same, ids compared by order of first appearance.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from liucheng.engine import _graph
from liucheng.engine.conformance import _Runner, find_scenarios
from tests.conftest import SHARED

_ROOTS = [SHARED / "conformance" / "scenarios", Path(__file__).parent / "scenarios_extra"]
_FOLDERS = [f for root in _ROOTS if root.is_dir() for f in find_scenarios(root)]
_ID = re.compile(r"[0-9a-f]{22}")


def _run(folder: Path) -> tuple[Any, int]:
    spec = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8"))
    runner = _Runner(folder, spec, False)
    try:
        runner.run()
        outcome = "ok"
    except Exception as exc:  # the same failure either way is what counts
        outcome = f"{type(exc).__name__}: {exc}"
    store = runner.store
    plain = sum(1 for g in runner.engine._graphs.values() for n in g.nodes.values() if n.plain)
    history = [
        (e.kind, e.element_id, e.element_type, e.element_instance_id, e.actor, e.data)
        for e in store.history
    ]
    docs = sorted(
        json.dumps([r.id, r.state, r.doc], sort_keys=True, default=str)
        for r in store.instances.values()
    )
    rows = {k: sorted(repr(v) for v in rs.values()) for k, rs in store.rows.items()}
    text = json.dumps([outcome, history, docs, rows], sort_keys=True, default=repr)
    return _normalise(text), plain


def _normalise(text: str) -> str:
    seen: dict[str, str] = {}
    return _ID.sub(lambda m: seen.setdefault(m.group(0), f"<id{len(seen)}>"), text)


def test_scenarios_found() -> None:
    assert len(_FOLDERS) > 100


@pytest.mark.parametrize("folder", _FOLDERS, ids=[f"{f.parent.name}/{f.name}" for f in _FOLDERS])
def test_plain_path_same_as_general(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, plain = _run(folder)
    monkeypatch.setattr(_graph, "_is_plain", lambda node: False)
    general, none = _run(folder)
    assert none == 0
    assert fast == general
    if plain == 0:
        pytest.skip("no plain node in this scenario")


_ADHOC = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
             id="defs_plainAdhoc" targetNamespace="http://liucheng.dev/scenarios">
  <process id="plainAdhoc" isExecutable="true">
    <startEvent id="theStart"/>
    <adHocSubProcess id="adhoc" cancelRemainingInstances="%s">
      <scriptTask id="A" scriptFormat="feel"><script>{n: 1}</script></scriptTask>
      <task id="A2"/>
      <scriptTask id="B" scriptFormat="feel"><script>{done: true}</script></scriptTask>
      <userTask id="C"/>
      <sequenceFlow id="f_A_A2" sourceRef="A" targetRef="A2"/>
      <completionCondition xsi:type="tFormalExpression">done</completionCondition>
    </adHocSubProcess>
    <userTask id="after"/>
    <endEvent id="theEnd"/>
    <sequenceFlow id="f_theStart_adhoc" sourceRef="theStart" targetRef="adhoc"/>
    <sequenceFlow id="f_adhoc_after" sourceRef="adhoc" targetRef="after"/>
    <sequenceFlow id="f_after_theEnd" sourceRef="after" targetRef="theEnd"/>
  </process>
</definitions>
"""


@pytest.mark.parametrize("cancel", ["true", "false"])
def test_plain_nodes_in_an_adhoc_subprocess(
    cancel: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain script tasks end an ad-hoc subprocess by its completion condition either way."""
    (tmp_path / "model.bpmn").write_text(_ADHOC % cancel, encoding="utf-8")
    (tmp_path / "scenario.yaml").write_text(
        "name: plain nodes in an ad-hoc subprocess\n"
        "steps:\n  - start: {variables: {done: false}}\n  - expect: {active: [%s]}\n"
        % ("after" if cancel == "true" else "C"),
        encoding="utf-8",
    )
    fast, plain = _run(tmp_path)
    monkeypatch.setattr(_graph, "_is_plain", lambda node: False)
    general, _ = _run(tmp_path)
    assert plain >= 4
    assert '"ok"' in fast
    assert fast == general


@pytest.mark.parametrize(
    "workload, variables",
    [("W1_straight_through", "{}"), ("W3_parallel_fanout", "{items: [1, 2, 3, 4]}")],
)
def test_plain_path_on_the_bench_workloads(
    workload: str, variables: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The benchmark models (straight through, multi-instance fan-out) both ways."""
    src = SHARED / "bench" / "workloads" / "feel" / f"{workload}.bpmn"
    if not src.exists():
        pytest.skip(f"{src} is missing")
    (tmp_path / src.name).write_bytes(src.read_bytes())
    (tmp_path / "scenario.yaml").write_text(
        f"name: {workload}\nsteps:\n  - start: {{variables: {variables}}}\n"
        "  - expect: {ended: true}\n",
        encoding="utf-8",
    )
    fast, plain = _run(tmp_path)
    monkeypatch.setattr(_graph, "_is_plain", lambda node: False)
    general, _ = _run(tmp_path)
    assert plain >= 2
    assert '"ok"' in fast
    assert fast == general
