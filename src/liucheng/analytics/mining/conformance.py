"""Precision (ETConformance) and the combined conformance report.

Precision follows ETConformance as pm4py implements it (Muñoz-Gama & Carmona): every prefix of
every trace is replayed with token-based replay (stopping at the first missing token, no clean-up
at the end); in the marking reached, the visible transitions that are enabled directly or after
silent steps are *allowed*; the ones never observed after that prefix in the log are *escaping*.
``precision = 1 - Σ escaping / Σ allowed``, weighted by prefix frequency, plus the initial
marking weighted by the number of cases. Prefixes share their replay through a trie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ._log import LogInput, VariantLog, variant_log
from .alignments import AlignmentResult, align_variants
from .petri import Marking, PetriNet
from .replay import Replayer, ReplayResult, token_replay_variants

__all__ = ["ConformanceReport", "conformance", "precision_etc"]


class _Enabled:
    """Visible labels enabled in a marking, directly or after silent steps (cached).

    Mirrors pm4py's exploration order (transitions sorted by name, the marking recorded per
    transition being the latest one it was found enabled in) so that precision agrees.
    """

    def __init__(self, net: PetriNet) -> None:
        self.net = net
        self.order = sorted(range(len(net.transitions)), key=lambda t: net.transitions[t].name)
        self.cache: dict[Marking, frozenset[str]] = {}

    def _enabled(self, m: Marking) -> list[int]:
        return [t for t in self.order if self.net.enabled(m, t)]

    def __call__(self, tokens: dict[int, int]) -> frozenset[str]:
        net = self.net
        start = net.marking(tokens)
        hit = self.cache.get(start)
        if hit is not None:
            return hit
        todo = self._enabled(start)
        at: dict[int, Marking] = dict.fromkeys(todo, start)
        labels: set[str] = set()
        visited: set[tuple[int, Marking]] = set()
        i = 0
        while i < len(todo) and i < 100_000:
            t = todo[i]
            m = at[t]
            if (t, m) not in visited:
                label = net.transitions[t].label
                if label is not None:
                    labels.add(label)
                elif net.enabled(m, t):
                    nm = net.fire(m, t)
                    for t2 in self._enabled(nm):
                        todo.append(t2)
                        at[t2] = nm
                visited.add((t, m))
            i += 1
        out = frozenset(labels)
        self.cache[start] = out
        return out


def precision_etc_variants(vlog: VariantLog, net: PetriNet) -> float:
    """ETConformance precision of an already compressed log (see :func:`precision_etc`)."""
    rep = Replayer(net)
    enabled = _Enabled(net)
    # prefix (as names) -> [count, next activities]
    nexts: dict[tuple[str, ...], tuple[list[int], set[str]]] = {}
    for i, n in enumerate(vlog.counts.tolist()):
        trace = vlog.named(i)
        for k in range(1, len(trace)):
            entry = nexts.setdefault(trace[:k], ([0], set()))
            entry[0][0] += n
            entry[1].add(trace[k])
    starts = {vlog.named(i)[0] for i in range(len(vlog.variants)) if vlog.variants[i]}
    initial = enabled(dict(net.initial))
    n_cases = vlog.n_cases
    sum_at = n_cases * len(initial)
    sum_ee = n_cases * len(initial - starts)
    # replay every prefix once, extending the parent prefix's marking
    state: dict[tuple[str, ...], dict[int, int] | None] = {(): dict(net.initial)}
    for prefix in sorted(nexts, key=len):
        parent = state.get(prefix[:-1])
        if parent is None:
            state[prefix] = None
            continue
        m = dict(parent)
        a = prefix[-1]
        if a in rep.trans_map:
            _, _, _, problem = rep.advance(m, a)
            if problem:
                state[prefix] = None
                continue
        state[prefix] = m
    for prefix, (count, follow) in nexts.items():
        m2 = state.get(prefix)
        if m2 is None:
            continue
        allowed = enabled(m2)
        sum_at += len(allowed) * count[0]
        sum_ee += len(allowed - follow) * count[0]
    return 1.0 - sum_ee / sum_at if sum_at > 0 else 1.0


def precision_etc(
    log: LogInput | VariantLog, net: PetriNet, *, lifecycle: str | None = "complete"
) -> float:
    """ETConformance precision of a Petri net with respect to a log (pm4py's token-based one).

    Args:
        log: Event log frame, log file path or :class:`VariantLog`.
        net: Workflow net.
        lifecycle: Lifecycle transition of the events used (``None``: all).

    Returns:
        Precision in [0, 1]; 1 when the model allows nothing the log does not show.
    """
    vlog = log if isinstance(log, VariantLog) else variant_log(log, lifecycle=lifecycle)
    return precision_etc_variants(vlog, net)


@dataclass(frozen=True, slots=True)
class ConformanceReport:
    """Fitness, precision and deviations of a log against a model.

    Attributes:
        method: ``alignments`` or ``tokens``.
        fitness: Log fitness by the chosen method.
        average_trace_fitness: Mean trace fitness over cases.
        percentage_fit_traces: Share of perfectly fitting cases (percent).
        precision: ETConformance precision.
        result: The underlying alignment or replay result.
    """

    method: str
    fitness: float
    average_trace_fitness: float
    percentage_fit_traces: float
    precision: float
    result: AlignmentResult | ReplayResult

    def to_json(self, max_cases: int = 100) -> dict[str, Any]:
        """JSON-ready summary with per-activity deviations and the worst ``max_cases`` cases."""
        res = self.result
        if isinstance(res, AlignmentResult):
            activities = res.deviations().to_dicts()
        else:
            activities = res.activity_problems().to_dicts()
        cases = res.cases().sort(["fitness", "case_id"], nulls_last=True)
        return {
            "method": self.method,
            "fitness": self.fitness,
            "average_trace_fitness": self.average_trace_fitness,
            "percentage_fit_traces": self.percentage_fit_traces,
            "precision": self.precision,
            "cases_total": cases.height,
            "activities": activities,
            "cases": cases.head(max_cases).to_dicts(),
        }


def conformance(
    log: LogInput | VariantLog,
    net: PetriNet,
    *,
    method: Literal["alignments", "tokens"] = "alignments",
    lifecycle: str | None = "complete",
) -> ConformanceReport:
    """Check a log against a model: fitness (alignments or token replay), precision, deviations."""
    vlog = log if isinstance(log, VariantLog) else variant_log(log, lifecycle=lifecycle)
    res: AlignmentResult | ReplayResult
    res = align_variants(vlog, net) if method == "alignments" else token_replay_variants(vlog, net)
    return ConformanceReport(
        method,
        res.log_fitness,
        res.average_trace_fitness,
        res.percentage_fit_traces,
        precision_etc_variants(vlog, net),
        res,
    )
