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

    The construction and the simplification follow pm4py's ``convert_to_petri_net`` rule for
    rule (sequences chain places, choices share them, concurrency gets silent split/join
    transitions, a loop ``*(do, redo)`` gets silent enter, exit and back transitions, and a
    silent start/end transition is added when the tree starts/ends with a choice, concurrency
    or loop), so that the *same* tree gives the *same* net: token replay is a heuristic whose
    figures depend on where the silent transitions are, and comparing with the reference tool
    is only meaningful on equal nets.

    Args:
        tree: The process tree.
        reduce: Remove redundant silent transitions (pm4py's single-entry / single-exit
            reduction, see :func:`_reduce_simple`).

    Returns:
        The net, with one token in the source place initially and in the sink place finally.
    """
    net = PetriNet()
    source = net.add_place("source")
    sink = net.add_place("sink")
    first, last = source, sink
    if _tau_mandatory(tree, 0):
        first = net.add_place()
        t = net.add_transition(None)
        net.arc_in(source, t)
        net.arc_out(t, first)
    if _tau_mandatory(tree, -1):
        last = net.add_place()
        t = net.add_transition(None)
        net.arc_in(last, t)
        net.arc_out(t, sink)
    _build(net, tree, first, last)
    net.initial = {source: 1}
    net.final = {sink: 1}
    return _reduce_simple(net) if reduce else net


def _ends_with_loop(tree: ProcessTree, side: int) -> bool:
    """A loop at the left (``side`` 0) or right (-1) end of the tree (pm4py's checks)."""
    node = tree
    if node.operator is Operator.LOOP:
        return True
    while node.children:
        node = node.children[side]
        if node.operator is Operator.LOOP:
            return True
    return False


def _tau_mandatory(tree: ProcessTree, side: int) -> bool:
    if tree.operator in (Operator.XOR, Operator.PARALLEL) or _ends_with_loop(tree, side):
        return True
    # pm4py's ``check_initial_loop`` descends into the first child and then follows the *last*
    # children: ``->(X(a, *(b, c)), d)`` gets a silent start transition too. Mirrored so that
    # the nets (and hence token replay, which depends on the silent steps) stay equal.
    if side == 0 and tree.children and tree.children[0].operator is not None:
        return _ends_with_loop(tree.children[0], -1)
    return False


def _reduce_simple(net: PetriNet) -> PetriNet:
    """pm4py's ``apply_simple_reduction``: merge single-entry / single-exit silent transitions.

    Single entry: a silent transition ``t`` with one input place ``p`` that has exactly one
    producer ``u`` and no consumer but ``t`` disappears with ``p``; ``u`` then feeds ``t``'s
    output places. Single exit is the mirror image. Places left without producers (consumers)
    that are not the source (sink) are dropped.
    """
    trans = [Transition(t.name, t.label, list(t.inputs), list(t.outputs)) for t in net.transitions]
    alive = [True] * len(trans)
    dead_places: set[int] = set()

    def users() -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        cons: dict[int, list[int]] = {}
        prod: dict[int, list[int]] = {}
        for i, t in enumerate(trans):
            if alive[i]:
                for p, _ in t.inputs:
                    cons.setdefault(p, []).append(i)
                for p, _ in t.outputs:
                    prod.setdefault(p, []).append(i)
        return cons, prod

    def merge(arcs: list[tuple[int, int]], extra: list[tuple[int, int]]) -> list[tuple[int, int]]:
        out = dict(arcs)
        for p, w in extra:
            out[p] = out.get(p, 0) + w  # pm4py adds a second arc: the weights add up
        return list(out.items())

    def single_entry() -> bool:
        cons, prod = users()
        for i, t in enumerate(trans):
            if not alive[i] or t.label is not None or len(t.inputs) != 1:
                continue
            p = t.inputs[0][0]
            if len(prod.get(p, ())) != 1 or cons.get(p) != [i] or t.inputs[0][1] != 1:
                continue
            (u,) = prod[p]
            if u == i or dict(trans[u].outputs).get(p) != 1:
                continue
            alive[i] = False
            dead_places.add(p)
            trans[u].outputs = merge([a for a in trans[u].outputs if a[0] != p], t.outputs)
            return True
        return False

    def single_exit() -> bool:
        cons, prod = users()
        for i, t in enumerate(trans):
            if not alive[i] or t.label is not None or len(t.outputs) != 1:
                continue
            q = t.outputs[0][0]
            if len(cons.get(q, ())) != 1 or prod.get(q) != [i] or t.outputs[0][1] != 1:
                continue
            (u,) = cons[q]
            if u == i or dict(trans[u].inputs).get(q) != 1:
                continue
            alive[i] = False
            dead_places.add(q)
            trans[u].inputs = merge([a for a in trans[u].inputs if a[0] != q], t.inputs)
            return True
        return False

    changed = True
    while changed:
        changed = False
        while single_entry():
            changed = True
        while single_exit():
            changed = True
    cons, prod = users()
    used = [
        p
        for p in range(len(net.places))
        if p not in dead_places
        and (p in cons or p in net.final)
        and (p in prod or p in net.initial)
    ]
    new_index = {p: k for k, p in enumerate(used)}
    out = PetriNet(places=[net.places[p] for p in used])
    for i, t in enumerate(trans):
        if alive[i]:
            out.transitions.append(
                Transition(
                    t.name,
                    t.label,
                    [(new_index[p], w) for p, w in t.inputs if p in new_index],
                    [(new_index[p], w) for p, w in t.outputs if p in new_index],
                )
            )
    out.initial = {new_index[p]: n for p, n in net.initial.items()}
    out.final = {new_index[p]: n for p, n in net.final.items()}
    return out


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
    """Add ``node`` between the places ``entry`` and ``exit_`` (pm4py's construction)."""
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
        # entry -enter-> start -do-> mid -exit-> exit_; mid -redo-> back -loop-> start
        start = net.add_place()
        enter = net.add_transition(None)
        net.arc_in(entry, enter)
        net.arc_out(enter, start)
        back_t = net.add_transition(None)
        if len(kids) == 1:
            _build(net, kids[0], start, exit_)
            net.arc_in(exit_, back_t)
            net.arc_out(back_t, start)
            return
        mid = net.add_place()
        _build(net, kids[0], start, mid)
        back = net.add_place()
        for kid in kids[1:]:
            _build(net, kid, mid, back)
        leave = net.add_transition(None)
        net.arc_in(mid, leave)
        net.arc_out(leave, exit_)
        net.arc_in(back, back_t)
        net.arc_out(back_t, start)
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
