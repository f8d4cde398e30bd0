"""Place/transition nets with an initial and a final marking (workflow nets).

Places and transitions are addressed by index; arcs carry weights. A transition with label
``None`` is silent (invisible). :func:`to_petri_net` turns a process tree into a sound workflow
net; :func:`check_soundness` verifies soundness by exploring the reachability graph.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .errors import MiningError
from .process_tree import Operator, ProcessTree

__all__ = [
    "Marking",
    "PetriNet",
    "SoundnessReport",
    "Transition",
    "check_soundness",
    "reduce_silent",
    "to_petri_net",
]

Marking = tuple[int, ...]
"""Token count per place index."""


@dataclass(slots=True)
class Transition:
    """A transition; ``label`` ``None`` means silent."""

    name: str
    label: str | None
    inputs: list[tuple[int, int]] = field(default_factory=list)
    outputs: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class PetriNet:
    """A Petri net with initial and final marking.

    Attributes:
        places: Place names (a place is addressed by its index).
        transitions: Transitions with their input and output arcs ``(place, weight)``.
        initial: Initial marking ``{place: tokens}``.
        final: Final marking ``{place: tokens}``.
    """

    places: list[str] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    initial: dict[int, int] = field(default_factory=dict)
    final: dict[int, int] = field(default_factory=dict)

    def add_place(self, name: str | None = None) -> int:
        """Add a place and return its index."""
        self.places.append(name if name is not None else f"p{len(self.places)}")
        return len(self.places) - 1

    def add_transition(self, label: str | None, name: str | None = None) -> int:
        """Add a transition (``label`` ``None``: silent) and return its index."""
        idx = len(self.transitions)
        if name is None:
            name = f"t{idx}" if label is not None else f"tau{idx}"
        self.transitions.append(Transition(name, label))
        return idx

    def arc_in(self, place: int, transition: int, weight: int = 1) -> None:
        """Arc place → transition."""
        self.transitions[transition].inputs.append((place, weight))

    def arc_out(self, transition: int, place: int, weight: int = 1) -> None:
        """Arc transition → place."""
        self.transitions[transition].outputs.append((place, weight))

    @property
    def labels(self) -> set[str]:
        """Labels of the visible transitions."""
        return {t.label for t in self.transitions if t.label is not None}

    def marking(self, tokens: dict[int, int]) -> Marking:
        """Dense marking from a sparse one."""
        m = [0] * len(self.places)
        for p, n in tokens.items():
            m[p] = n
        return tuple(m)

    def enabled(self, m: Marking, t: int) -> bool:
        """Whether transition ``t`` may fire in ``m``."""
        return all(m[p] >= w for p, w in self.transitions[t].inputs)

    def fire(self, m: Marking, t: int) -> Marking:
        """The marking after firing ``t`` (assumed enabled)."""
        out = list(m)
        tr = self.transitions[t]
        for p, w in tr.inputs:
            out[p] -= w
        for p, w in tr.outputs:
            out[p] += w
        return tuple(out)


def to_petri_net(tree: ProcessTree, *, reduce: bool = True) -> PetriNet:
    """Convert a process tree into a sound, safe workflow net.

    Every node gets an entry and an exit place. Choices share them among the children;
    sequences chain them; concurrency and loops are wrapped by silent split/join (enter/exit)
    transitions, so that no block can ever be re-entered through a place shared with a sibling.

    Args:
        tree: The process tree.
        reduce: Remove redundant silent transitions (:func:`reduce_silent`).

    Returns:
        The net, with one token in the source place initially and in the sink place finally.
    """
    net = PetriNet()
    source = net.add_place("source")
    sink = net.add_place("sink")
    _build(net, tree, source, sink)
    net.initial = {source: 1}
    net.final = {sink: 1}
    return reduce_silent(net) if reduce else net


def reduce_silent(net: PetriNet) -> PetriNet:
    """Remove silent transitions that only pass a token from one place to the next.

    Fusion of series places: a silent transition ``t`` with one input place ``p`` and one output
    place ``q`` (unit weights) disappears and ``p`` and ``q`` become one place when ``t`` is the
    only way out of ``p`` (and ``p`` is not the source) or the only way into ``q`` (and ``q`` is
    not the sink). The language, soundness and the source/sink places are kept; alignments get
    cheaper because fewer silent moves are needed.
    """
    places = list(net.places)
    trans = [Transition(t.name, t.label, list(t.inputs), list(t.outputs)) for t in net.transitions]
    alive = [True] * len(trans)
    initial, final = dict(net.initial), dict(net.final)
    changed = True
    while changed:
        changed = False
        outs: dict[int, list[int]] = {}
        ins: dict[int, list[int]] = {}
        for i, t in enumerate(trans):
            if alive[i]:
                for p, _ in t.inputs:
                    outs.setdefault(p, []).append(i)
                for p, _ in t.outputs:
                    ins.setdefault(p, []).append(i)
        for i, t in enumerate(trans):
            if not alive[i] or t.label is not None or len(t.inputs) != 1 or len(t.outputs) != 1:
                continue
            (p, wp), (q, wq) = t.inputs[0], t.outputs[0]
            if p == q or wp != 1 or wq != 1:
                continue
            if outs.get(p) == [i] and p not in initial and p not in final:
                keep, gone = q, p  # everything that fed p now feeds q
            elif ins.get(q) == [i] and q not in final and q not in initial:
                keep, gone = p, q  # everything that consumed from q now consumes from p
            else:
                continue
            alive[i] = False
            for j, u in enumerate(trans):
                if alive[j]:
                    u.inputs = [(keep if x == gone else x, w) for x, w in u.inputs]
                    u.outputs = [(keep if x == gone else x, w) for x, w in u.outputs]
            changed = True
            break
    used = sorted(
        {p for i, t in enumerate(trans) if alive[i] for p, _ in (*t.inputs, *t.outputs)}
        | set(initial)
        | set(final)
    )
    new_index = {p: k for k, p in enumerate(used)}
    out = PetriNet(places=[places[p] for p in used])
    for i, t in enumerate(trans):
        if alive[i]:
            out.transitions.append(
                Transition(
                    t.name,
                    t.label,
                    [(new_index[p], w) for p, w in t.inputs],
                    [(new_index[p], w) for p, w in t.outputs],
                )
            )
    out.initial = {new_index[p]: n for p, n in initial.items()}
    out.final = {new_index[p]: n for p, n in final.items()}
    return out


def _build(net: PetriNet, node: ProcessTree, entry: int, exit_: int) -> None:
    if node.operator is None:
        t = net.add_transition(node.label)
        net.arc_in(entry, t)
        net.arc_out(t, exit_)
        return
    kids = node.children
    if node.operator is Operator.SEQUENCE:
        cur = entry
        for i, kid in enumerate(kids):
            nxt = exit_ if i == len(kids) - 1 else net.add_place()
            _build(net, kid, cur, nxt)
            cur = nxt
    elif node.operator is Operator.XOR:
        for kid in kids:
            _build(net, kid, entry, exit_)
    elif node.operator is Operator.PARALLEL:
        split = net.add_transition(None)
        join = net.add_transition(None)
        net.arc_in(entry, split)
        net.arc_out(join, exit_)
        for kid in kids:
            a, b = net.add_place(), net.add_place()
            net.arc_out(split, a)
            net.arc_in(b, join)
            _build(net, kid, a, b)
    elif node.operator is Operator.LOOP:
        enter = net.add_transition(None)
        leave = net.add_transition(None)
        start, end = net.add_place(), net.add_place()
        net.arc_in(entry, enter)
        net.arc_out(enter, start)
        net.arc_in(end, leave)
        net.arc_out(leave, exit_)
        _build(net, kids[0], start, end)
        for kid in kids[1:]:
            _build(net, kid, end, start)
    else:  # pragma: no cover - exhaustive enum
        raise MiningError(f"unknown process-tree operator {node.operator}")


@dataclass(frozen=True, slots=True)
class SoundnessReport:
    """Outcome of :func:`check_soundness`.

    Attributes:
        sound: True when the net is a sound workflow net; ``None`` when the state space
            exceeded the exploration limit.
        states: Number of reachable markings explored.
        problems: What makes the net unsound.
    """

    sound: bool | None
    states: int
    problems: tuple[str, ...] = ()


def check_soundness(net: PetriNet, max_states: int = 200_000) -> SoundnessReport:
    """Check classical soundness by exploring the reachability graph.

    Sound means: one source place and one sink place (initial/final marking one token each),
    from every reachable marking the final marking is reachable, the final marking is the only
    reachable marking that marks the sink, and every transition can fire in some run.
    """
    problems: list[str] = []
    if sum(net.initial.values()) != 1 or sum(net.final.values()) != 1:
        problems.append("initial and final marking must each hold exactly one token")
        return SoundnessReport(False, 0, tuple(problems))
    (sink,) = net.final
    m0 = net.marking(net.initial)
    mf = net.marking(net.final)
    index: dict[Marking, int] = {m0: 0}
    order: list[Marking] = [m0]
    succ: list[list[int]] = []
    fired: set[int] = set()
    queue: deque[int] = deque([0])
    n_t = len(net.transitions)
    while queue:
        i = queue.popleft()
        m = order[i]
        while len(succ) <= i:
            succ.append([])
        if m[sink] > 0 and m != mf:
            problems.append(f"improper completion: sink marked together with other tokens in {m}")
            return SoundnessReport(False, len(order), tuple(problems))
        for t in range(n_t):
            if net.enabled(m, t):
                fired.add(t)
                m2 = net.fire(m, t)
                j = index.get(m2)
                if j is None:
                    if len(order) >= max_states:
                        return SoundnessReport(None, len(order), ("state space too large",))
                    j = len(order)
                    index[m2] = j
                    order.append(m2)
                    queue.append(j)
                succ[i].append(j)
    while len(succ) < len(order):
        succ.append([])
    # option to complete: backward reachability from the final marking
    pred: list[list[int]] = [[] for _ in order]
    for i, js in enumerate(succ):
        for j in js:
            pred[j].append(i)
    final_idx = index.get(mf)
    can_finish = [False] * len(order)
    if final_idx is not None:
        can_finish[final_idx] = True
        stack = [final_idx]
        while stack:
            j = stack.pop()
            for i in pred[j]:
                if not can_finish[i]:
                    can_finish[i] = True
                    stack.append(i)
    stuck = sum(1 for ok in can_finish if not ok)
    if stuck:
        problems.append(f"{stuck} reachable marking(s) cannot reach the final marking")
    dead = [net.transitions[t].name for t in range(n_t) if t not in fired]
    if dead:
        problems.append(f"dead transitions: {', '.join(dead)}")
    return SoundnessReport(not problems, len(order), tuple(problems))
