"""BPMN in and out for mining: discovered models as BPMN with layout, BPMN models as Petri nets.

:func:`petri_to_bpmn` turns any workflow net (from a process tree or the heuristics miner) into a
BPMN process: visible transitions become tasks, places with several inputs or outputs become
exclusive gateways, transitions (silent or not) with several inputs or outputs become parallel
gateways, and silent one-to-one steps disappear. The diagram comes from the model builder's
layered auto-layout.

:func:`bpmn_to_petri_net` goes the other way for conformance checking: every sequence flow is a
place; tasks (and collapsed call activities) are labelled transitions; exclusive, parallel and
inclusive gateways, start and end events become silent transitions with the matching token
game; embedded subprocesses are expanded in place.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

from liucheng.model import (
    Activity,
    Definitions,
    EndEvent,
    EventBasedGateway,
    ExclusiveGateway,
    FlowElementsContainer,
    FlowNode,
    InclusiveGateway,
    ParallelGateway,
    ProcessBuilder,
    StartEvent,
    SubProcess,
    parse_bpmn,
    write_bpmn,
)

from .errors import MiningError
from .petri import PetriNet, to_petri_net
from .process_tree import ProcessTree

__all__ = [
    "bpmn_to_petri_net",
    "petri_to_bpmn",
    "read_bpmn_net",
    "tree_to_bpmn",
    "write_model_bpmn",
]

_MAX_INCLUSIVE = 6


@dataclass(slots=True)
class _Graph:
    kind: dict[str, str] = field(default_factory=dict)  # id -> task|xor|and|start|end|wire
    name: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def add(self, nid: str, kind: str, name: str | None = None) -> str:
        self.kind[nid] = kind
        if name is not None:
            self.name[nid] = name
        return nid


def _ports(net: PetriNet, g: _Graph) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Entry and exit node of every place and transition in the BPMN graph."""
    n_in = [0] * len(net.places)
    n_out = [0] * len(net.places)
    for t in net.transitions:
        for p, _ in t.inputs:
            n_out[p] += 1
        for p, _ in t.outputs:
            n_in[p] += 1
    for p in net.initial:
        n_in[p] += 1
    for p in net.final:
        n_out[p] += 1
    place_ports: list[tuple[str, str]] = []
    for p in range(len(net.places)):
        if n_in[p] <= 1 and n_out[p] <= 1:
            w = g.add(f"w_p{p}", "wire")
            place_ports.append((w, w))
            continue
        a = g.add(f"Gateway_p{p}_join", "xor") if n_in[p] > 1 else g.add(f"w_pj{p}", "wire")
        b = g.add(f"Gateway_p{p}_split", "xor") if n_out[p] > 1 else g.add(f"w_ps{p}", "wire")
        g.edges.append((a, b))
        place_ports.append((a, b))
    trans_ports: list[tuple[str, str]] = []
    for i, t in enumerate(net.transitions):
        many_in, many_out = len(t.inputs) > 1, len(t.outputs) > 1
        if t.label is not None:
            core = g.add(f"Activity_{i}", "task", t.label)
        elif not many_in and not many_out:
            core = g.add(f"w_t{i}", "wire")
            trans_ports.append((core, core))
            continue
        else:
            core = ""
        a = g.add(f"Gateway_t{i}_join", "and") if many_in else ""
        b = g.add(f"Gateway_t{i}_split", "and") if many_out else ""
        if core:
            if a:
                g.edges.append((a, core))
            if b:
                g.edges.append((core, b))
            trans_ports.append((a or core, b or core))
        else:
            if a and b:
                g.edges.append((a, b))
            trans_ports.append((a or b, b or a))
    return place_ports, trans_ports


def _contract(g: _Graph) -> None:
    """Remove the wire nodes, joining their single input and output."""
    for w in [n for n, k in g.kind.items() if k == "wire"]:
        ins = [e for e in g.edges if e[1] == w]
        outs = [e for e in g.edges if e[0] == w]
        g.edges = [e for e in g.edges if w not in e]
        for a, _ in ins:
            for _, b in outs:
                if a != w and b != w:
                    g.edges.append((a, b))
        del g.kind[w]


def petri_to_bpmn(
    net: PetriNet, process_id: str = "discovered", name: str | None = None
) -> Definitions:
    """Convert a workflow net into a BPMN model with diagram (see the module docs)."""
    if len(net.initial) != 1 or len(net.final) != 1:
        raise MiningError(
            "only workflow nets (one source place, one sink place) can be exported to BPMN",
            code="mining.bpmn.not_workflow_net",
        )
    g = _Graph()
    start = g.add("StartEvent_1", "start")
    end = g.add("EndEvent_1", "end")
    pp, tp = _ports(net, g)
    for i, t in enumerate(net.transitions):
        for p, _ in t.inputs:
            g.edges.append((pp[p][1], tp[i][0]))
        for p, _ in t.outputs:
            g.edges.append((tp[i][1], pp[p][0]))
    (src,) = net.initial
    (snk,) = net.final
    g.edges.append((start, pp[src][0]))
    g.edges.append((pp[snk][1], end))
    _contract(g)
    return _emit(g, process_id, name)


def _emit(g: _Graph, process_id: str, name: str | None) -> Definitions:
    b = ProcessBuilder(process_id, name=name, executable=False)
    succ: dict[str, list[str]] = {n: [] for n in g.kind}
    seen_edges: set[tuple[str, str]] = set()
    for a, c in g.edges:
        if (a, c) not in seen_edges:
            seen_edges.add((a, c))
            succ[a].append(c)
    created: set[str] = set()

    def create(nid: str) -> None:
        kind = g.kind[nid]
        if kind == "start":
            b.start_event(nid)
        elif kind == "end":
            b.end_event(nid)
        elif kind == "task":
            b.task(nid, name=g.name[nid])
        elif kind == "xor":
            b.exclusive_gateway(nid)
        else:
            b.parallel_gateway(nid)
        created.add(nid)

    order = ["StartEvent_1"]
    create("StartEvent_1")
    i = 0
    while i < len(order):
        u = order[i]
        i += 1
        for v in succ[u]:
            b.move_to(u)
            if v in created:
                b.connect_to(v)
            else:
                create(v)
                order.append(v)
    for nid in g.kind:
        if nid not in created:
            b.move_to(order[-1])
            create(nid)  # unreachable leftovers keep their node (and one flow)
    return b.build()


def tree_to_bpmn(
    tree: ProcessTree, process_id: str = "discovered", name: str | None = None
) -> Definitions:
    """A BPMN model (with layout) for a process tree."""
    return petri_to_bpmn(to_petri_net(tree), process_id, name)


def write_model_bpmn(
    model: ProcessTree | PetriNet, path: str | Path, *, process_id: str = "discovered"
) -> Path:
    """Write a discovered model (tree or workflow net) as a BPMN file with diagram."""
    defs = (
        tree_to_bpmn(model, process_id)
        if isinstance(model, ProcessTree)
        else petri_to_bpmn(model, process_id)
    )
    out = Path(path)
    out.write_bytes(write_bpmn(defs))
    return out


# --------------------------------------------------------------------------- BPMN -> Petri net

_ID = re.compile(r"\s+")


class _NetBuilder:
    def __init__(self) -> None:
        self.net = PetriNet()
        self.flow_place: dict[str, int] = {}

    def place_of(self, flow_id: str) -> int:
        p = self.flow_place.get(flow_id)
        if p is None:
            p = self.net.add_place(f"flow:{flow_id}")
            self.flow_place[flow_id] = p
        return p

    def trans(self, label: str | None, name: str, ins: list[int], outs: list[int]) -> None:
        t = self.net.add_transition(label, name)
        for p in ins:
            self.net.arc_in(p, t)
        for p in outs:
            self.net.arc_out(t, p)

    def merge(self, node_id: str, ins: list[int]) -> int:
        """One place collecting any of ``ins`` (implicit exclusive merge)."""
        if len(ins) == 1:
            return ins[0]
        p = self.net.add_place(f"merge:{node_id}")
        for k, q in enumerate(ins):
            self.trans(None, f"merge:{node_id}:{k}", [q], [p])
        return p

    def container(self, cont: FlowElementsContainer, entry: int | None, exit_: int | None) -> None:
        flows = cont.sequence_flows
        incoming: dict[str, list[int]] = {}
        outgoing: dict[str, list[int]] = {}
        for f in flows:
            if f.source_ref is None or f.target_ref is None:
                continue
            p = self.place_of(f.id or f"{f.source_ref}->{f.target_ref}")
            outgoing.setdefault(f.source_ref, []).append(p)
            incoming.setdefault(f.target_ref, []).append(p)
        nodes = cont.flow_nodes
        starts = [n for n in nodes if isinstance(n, StartEvent) and not incoming.get(n.id or "")]
        for node in nodes:
            nid = node.id or ""
            ins, outs = incoming.get(nid, []), outgoing.get(nid, [])
            if isinstance(node, StartEvent):
                if entry is not None and node in starts:
                    self.trans(None, f"start:{nid}", [entry], outs)
                elif ins:
                    self.trans(None, f"start:{nid}", [self.merge(nid, ins)], outs)
                continue
            if isinstance(node, EndEvent):
                if exit_ is not None:
                    self.trans(None, f"end:{nid}", [self.merge(nid, ins)] if ins else [], [exit_])
                continue
            if not ins and not outs:
                continue
            self.node(node, nid, ins, outs)

    def node(self, node: FlowNode, nid: str, ins: list[int], outs: list[int]) -> None:
        if isinstance(node, ParallelGateway):
            self.trans(None, f"and:{nid}", ins, outs)
        elif isinstance(node, InclusiveGateway):
            src = ins
            if len(ins) > 1:
                # OR-join approximated locally: any non-empty subset of the inputs
                mid = self.net.add_place(f"orjoin:{nid}")
                for k, subset in enumerate(_subsets(ins)):
                    self.trans(None, f"orjoin:{nid}:{k}", list(subset), [mid])
                src = [mid]
            for k, subset in enumerate(_subsets(outs)):
                self.trans(None, f"or:{nid}:{k}", src, list(subset))
        elif isinstance(node, (ExclusiveGateway, EventBasedGateway)):
            p = self.merge(nid, ins)
            for k, q in enumerate(outs):
                self.trans(None, f"xor:{nid}:{k}", [p], [q])
        elif isinstance(node, SubProcess):
            entry = self.merge(nid, ins)
            exit_ = self.net.add_place(f"sub-exit:{nid}")
            self.container(node, entry, exit_)
            self.trans(None, f"sub-done:{nid}", [exit_], outs)
        elif isinstance(node, Activity):
            label = _ID.sub(" ", (getattr(node, "name", None) or nid)).strip()
            self.trans(label, f"task:{nid}", [self.merge(nid, ins)], outs)
        else:  # intermediate events and other gateways pass the token on silently
            self.trans(None, f"pass:{nid}", [self.merge(nid, ins)], outs)


def _subsets(places: list[int]) -> list[tuple[int, ...]]:
    if len(places) > _MAX_INCLUSIVE:
        raise MiningError(
            f"inclusive gateway with {len(places)} branches is too wide to translate",
            code="mining.bpmn.inclusive_too_wide",
            hint=f"at most {_MAX_INCLUSIVE} branches per inclusive gateway are supported",
        )
    return [s for r in range(1, len(places) + 1) for s in itertools.combinations(places, r)]


def bpmn_to_petri_net(defs: Definitions, process_id: str | None = None) -> PetriNet:
    """Translate a BPMN process into a workflow net (see the module docs).

    Args:
        defs: Parsed BPMN definitions.
        process_id: Process to translate (default: the only, or first executable, process).

    Returns:
        A net with one source and one sink place.
    """
    procs = defs.processes
    if process_id is not None:
        procs = tuple(p for p in procs if p.id == process_id)
    if not procs:
        raise MiningError(
            "the BPMN document has no process" + (f" {process_id!r}" if process_id else ""),
            code="mining.bpmn.no_process",
        )
    proc = next((p for p in procs if p.flow_nodes), procs[0])
    nb = _NetBuilder()
    source = nb.net.add_place("source")
    sink = nb.net.add_place("sink")
    starts = [n for n in proc.flow_nodes if isinstance(n, StartEvent)]
    if not starts:
        raise MiningError(
            "the BPMN process has no start event",
            code="mining.bpmn.no_start",
            element_id=proc.id,
            hint="add a start event so the model has a defined beginning",
        )
    nb.container(proc, source, sink)
    nb.net.initial = {source: 1}
    nb.net.final = {sink: 1}
    return nb.net


def read_bpmn_net(path: str | Path, process_id: str | None = None) -> PetriNet:
    """Parse a BPMN file and translate it into a workflow net."""
    return bpmn_to_petri_net(parse_bpmn(Path(path)), process_id)
