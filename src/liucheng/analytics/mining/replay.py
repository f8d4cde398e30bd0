"""Token-based replay (fitness with missing, remaining, consumed and produced tokens).

The replay follows the semantics of pm4py's token replayer (Berti & van der Aalst, 2019) so that
figures agree with the reference tool: an event fires the transition with its label; when that is
not enabled, silent transitions on shortest silent paths from marked places to the missing input
places are tried first, then missing tokens are created; at the end silent transitions are fired
to move tokens towards the final marking. Fitness of a trace is
``0.5 * (1 - missing / consumed) + 0.5 * (1 - remaining / produced)``; the log fitness sums the
four counts over all cases first.

Each distinct variant is replayed once and weighted by its number of cases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ._log import LogInput, VariantLog, variant_log
from .petri import PetriNet

__all__ = ["ReplayResult", "Replayer", "TraceReplay", "token_replay", "token_replay_variants"]

_MAX_REC_DEPTH = 50
_MAX_REC_DEPTH_HIDDEN = 2
_MAX_IT_FINAL = 5


@dataclass(frozen=True, slots=True)
class TraceReplay:
    """Replay of one trace (variant).

    Attributes:
        fit: No missing and no remaining tokens.
        fitness: Trace fitness in [0, 1].
        missing: Tokens created artificially.
        consumed: Tokens consumed (including the final marking's).
        remaining: Tokens left behind (beyond the final marking).
        produced: Tokens produced (including the initial marking's).
        problems: Activities whose transition fired with missing tokens.
        unknown: Activities without a transition in the net.
        reached: Marking reached before cleaning, ``{place name: tokens}``.
    """

    fit: bool
    fitness: float
    missing: int
    consumed: int
    remaining: int
    produced: int
    problems: tuple[str, ...]
    unknown: tuple[str, ...]
    reached: dict[str, int]


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """Token-based replay of a log.

    Attributes:
        log_fitness: ``0.5(1 - Σm/Σc) + 0.5(1 - Σr/Σp)`` over all cases (pm4py's ``log_fitness``).
        average_trace_fitness: Mean of the trace fitness over cases.
        percentage_fit_traces: Share of perfectly fitting cases, in percent.
        variants: Replay per variant (same order as ``variant_log.variants``).
        variant_log: The replayed variants with their counts and case ids.
    """

    log_fitness: float
    average_trace_fitness: float
    percentage_fit_traces: float
    variants: tuple[TraceReplay, ...]
    variant_log: VariantLog

    def cases(self) -> pl.DataFrame:
        """One row per case: ``case_id``, ``fitness``, ``fit``, and the four token counts."""
        rows: dict[str, list[object]] = {
            k: [] for k in ("case_id", "fitness", "fit", "missing", "consumed", "remaining")
        }
        rows["produced"] = []
        for rep, cases in zip(self.variants, self.variant_log.cases, strict=False):
            for c in cases:
                rows["case_id"].append(c)
                rows["fitness"].append(rep.fitness)
                rows["fit"].append(rep.fit)
                rows["missing"].append(rep.missing)
                rows["consumed"].append(rep.consumed)
                rows["remaining"].append(rep.remaining)
                rows["produced"].append(rep.produced)
        return pl.DataFrame(
            rows,
            schema={
                "case_id": pl.Utf8,
                "fitness": pl.Float64,
                "fit": pl.Boolean,
                "missing": pl.Int64,
                "consumed": pl.Int64,
                "remaining": pl.Int64,
                "produced": pl.Int64,
            },
        )

    def activity_problems(self) -> pl.DataFrame:
        """Per activity: cases where it fired with missing tokens, and where it is unknown."""
        counts: dict[str, list[int]] = {}
        for rep, n in zip(self.variants, self.variant_log.counts.tolist(), strict=True):
            for a in rep.problems:
                counts.setdefault(a, [0, 0])[0] += int(n)
            for a in rep.unknown:
                counts.setdefault(a, [0, 0])[1] += int(n)
        names = sorted(counts)
        return pl.DataFrame(
            {
                "activity": names,
                "missing_token_firings": [counts[a][0] for a in names],
                "not_in_model": [counts[a][1] for a in names],
            },
            schema={
                "activity": pl.Utf8,
                "missing_token_firings": pl.Int64,
                "not_in_model": pl.Int64,
            },
        )


class Replayer:
    """Pre-computed net structure for replaying many traces."""

    def __init__(self, net: PetriNet) -> None:
        self.net = net
        self.inputs = [t.inputs for t in net.transitions]
        self.outputs = [t.outputs for t in net.transitions]
        self.cons = [sum(w for _, w in t.inputs) for t in net.transitions]
        self.prod = [sum(w for _, w in t.outputs) for t in net.transitions]
        rank = sorted(range(len(net.places)), key=lambda p: net.places[p])
        self.rank = [0] * len(net.places)
        for r, p in enumerate(rank):
            self.rank[p] = r
        self.trans_map: dict[str, int] = {}
        for t in sorted(range(len(net.transitions)), key=lambda i: net.transitions[i].name):
            label = net.transitions[t].label
            if label is not None:
                self.trans_map[label] = t
        self.by_label: dict[str, list[int]] = {}
        for i, tr in enumerate(net.transitions):
            if tr.label is not None:
                self.by_label.setdefault(tr.label, []).append(i)
        self.spaths = self._shortest_hidden_paths()
        self._cache: dict[
            tuple[tuple[tuple[int, int], ...], str],
            tuple[tuple[tuple[int, int], ...], tuple[int, int, int, bool]],
        ] = {}
        self._ids: dict[tuple[tuple[int, int], ...], int] = {}
        self._states: list[tuple[tuple[int, int], ...]] = []
        self._steps: dict[tuple[int, str], tuple[int, int, int, int, bool]] = {}
        self._ends: dict[int, tuple[int, int, int, int, dict[str, int]]] = {}
        self._initial = self._intern(dict(net.initial))

    def _shortest_hidden_paths(self) -> list[dict[int, list[int]]]:
        net = self.net
        out_of: list[list[int]] = [[] for _ in net.places]
        for i, t in enumerate(net.transitions):
            if t.label is None:
                for p, _ in t.inputs:
                    out_of[p].append(i)
        paths: list[dict[int, list[int]]] = [{} for _ in net.places]

        def walk(root: int, cur: int, path: list[int], depth: int) -> None:
            if depth > _MAX_REC_DEPTH:
                return
            table = paths[root]
            for t in out_of[cur]:
                for p2, _ in self.outputs[t]:
                    if p2 not in table or len(path) + 1 < len(table[p2]):
                        new = [*path, t]
                        table[p2] = new
                        walk(root, p2, new, depth + 1)

        for p in range(len(net.places)):
            walk(p, p, [], 0)
        return paths

    # -- marking helpers (dict insertion order mirrors pm4py's Counter markings)

    def enabled(self, m: dict[int, int], t: int) -> bool:
        # a plain loop: this is the replay's innermost call (no generator per check)
        for p, w in self.inputs[t]:  # noqa: SIM110
            if m.get(p, 0) < w:
                return False
        return True

    def fire(self, m: dict[int, int], t: int) -> None:
        for p, w in self.inputs[t]:
            v = m.get(p, 0) - w
            if v == 0:
                del m[p]
            else:
                m[p] = v
        for p, w in self.outputs[t]:
            m[p] = m.get(p, 0) + w

    def _sorted_places(self, places: object) -> list[int]:
        return sorted(places, key=lambda p: self.rank[p])  # type: ignore[call-overload, no-any-return]

    def _paths_between(self, sources: list[int], targets: list[int]) -> list[list[int]]:
        found = []
        for p1 in sources:
            table = self.spaths[p1]
            for p2 in targets:
                if p2 in table:
                    found.append(table[p2])
        found.sort(key=len)
        return found

    def _enable_hidden(
        self,
        m: dict[int, int],
        groups: list[list[int]],
        t: int,
        visited: set[int],
        fired: list[int],
    ) -> None:
        j = [0] * len(groups)
        z = 0
        while True:
            changed = False
            g = z % len(groups)
            for _ in range(j[g], len(groups[g])):
                t3 = groups[g][j[g]]
                if t3 != t and t3 not in visited and self.enabled(m, t3):
                    self.fire(m, t3)
                    fired.append(t3)
                    visited.add(t3)
                    changed = True
                j[g] += 1
                if self.enabled(m, t):
                    break
            if self.enabled(m, t) or not changed:
                return
            z += 1

    def _apply_hidden(
        self, t: int, m: dict[int, int], depth: int, visited: set[int], fired: list[int]
    ) -> None:
        if depth >= _MAX_REC_DEPTH_HIDDEN or t in visited:
            return
        visited.add(t)
        missing_places = self._sorted_places({p for p, w in self.inputs[t] if m.get(p, 0) < w})
        groups = self._paths_between(self._sorted_places(m), missing_places)
        if not groups:
            return
        self._enable_hidden(m, groups, t, visited, fired)
        if not self.enabled(m, t):
            groups = self._paths_between(self._sorted_places(m), missing_places)
            for group in groups:
                for t4 in group:
                    if t4 != t and t4 not in visited:
                        # (the depth test of the callee, done here to spare the call)
                        if depth + 1 < _MAX_REC_DEPTH_HIDDEN and not self.enabled(m, t4):
                            self._apply_hidden(t4, m, depth + 1, visited, fired)
                        if self.enabled(m, t4):
                            self.fire(m, t4)
                            fired.append(t4)
                            visited.add(t4)

    def advance(self, m: dict[int, int], a: str) -> tuple[int, int, int, bool]:
        """Replay one event on ``m`` (in place): missing, consumed, produced, had a problem.

        The outcome depends only on the marking (with its insertion order) and the activity, so
        it is cached: block-structured nets reach few distinct markings.
        """
        key = (tuple(m.items()), a)
        hit = self._cache.get(key)
        if hit is None:
            out = self._advance(m, a)
            self._cache[key] = (tuple(m.items()), out)
            return out
        items, out = hit
        m.clear()
        m.update(items)
        return out

    def _advance(self, m: dict[int, int], a: str) -> tuple[int, int, int, bool]:
        t = next((x for x in self.by_label[a] if self.enabled(m, x)), self.trans_map[a])
        consumed = produced = missing = 0
        if not self.enabled(m, t):
            fired: list[int] = []
            self._apply_hidden(t, m, 0, set(), fired)
            for tt in fired:
                consumed += self.cons[tt]
                produced += self.prod[tt]
        problem = not self.enabled(m, t)
        if problem:
            for p, w in self.inputs[t]:
                have = m.get(p, 0)
                if have < w:
                    missing += w - have
                    m[p] = have + w
        consumed += self.cons[t]
        produced += self.prod[t]
        self.fire(m, t)
        return missing, consumed, produced, problem

    # -- replay on interned states: a state is a marking with its insertion order, and the
    # outcome of an event (and of the end of a trace) depends only on the state, so each
    # (state, activity) is worked out once and a trace is a walk over integer state ids

    def _intern(self, m: dict[int, int]) -> int:
        items = tuple(m.items())
        sid = self._ids.get(items)
        if sid is None:
            sid = len(self._states)
            self._ids[items] = sid
            self._states.append(items)
        return sid

    def _step(self, sid: int, a: str) -> tuple[int, int, int, int, bool]:
        key = (sid, a)
        hit = self._steps.get(key)
        if hit is None:
            m = dict(self._states[sid])
            out = self._advance(m, a)
            hit = (self._intern(m), *out)
            self._steps[key] = hit
        return hit

    def _finish(self, sid: int) -> tuple[int, int, int, int, dict[str, int]]:
        """End of a trace in state ``sid``: consumed, produced, missing, remaining, reached."""
        hit = self._ends.get(sid)
        if hit is not None:
            return hit
        net = self.net
        m = dict(self._states[sid])
        consumed = produced = missing = 0
        final = net.final
        for _ in range(_MAX_IT_FINAL):
            if set(final) <= set(m):
                break
            groups = self._paths_between(self._sorted_places(m), self._sorted_places(final))
            for group in groups:
                for t in group:
                    if self.enabled(m, t):
                        self.fire(m, t)
                        consumed += self.cons[t]
                        produced += self.prod[t]
                if set(final) <= set(m):
                    break
        if not set(final) <= set(m) and len(final) == 1:
            (sink,) = final
            conns = [self.spaths[p][sink] for p in m if sink in self.spaths[p]]
            conns.sort(key=len)
            for _ in range(_MAX_IT_FINAL):
                for path in conns:
                    for t in path:
                        if not self.enabled(m, t):
                            break
                        self.fire(m, t)
                        consumed += self.cons[t]
                        produced += self.prod[t]
        reached = {net.places[p]: n for p, n in m.items() if n > 0}
        remaining = 0
        for p, n in m.items():
            remaining += max(0, n - final[p]) if p in final else n
        for p, n in final.items():
            consumed += n
            missing += max(0, n - m.get(p, 0))
        hit = (consumed, produced, missing, remaining, reached)
        self._ends[sid] = hit
        return hit

    def replay(self, trace: tuple[str, ...]) -> TraceReplay:
        """Replay one trace from the initial marking, with the final clean-up."""
        net = self.net
        sid = self._initial
        produced = sum(net.initial.values())
        consumed = missing = 0
        problems: list[str] = []
        unknown: list[str] = []
        trans_map, step = self.trans_map, self._step
        for a in trace:
            if a not in trans_map:
                unknown.append(a)
                continue
            sid, mi, co, pr, problem = step(sid, a)
            missing += mi
            consumed += co
            produced += pr
            if problem:
                problems.append(a)
        co, pr, mi, remaining, reached = self._finish(sid)
        consumed += co
        produced += pr
        missing += mi
        fit = missing == 0 and remaining == 0
        if consumed > 0 and produced > 0:
            fitness = 0.5 * (1.0 - missing / consumed) + 0.5 * (1.0 - remaining / produced)
        else:
            fitness = 1.0
        return TraceReplay(
            fit, fitness, missing, consumed, remaining, produced,
            tuple(problems), tuple(unknown), dict(reached),
        )  # fmt: skip


def token_replay_variants(vlog: VariantLog, net: PetriNet) -> ReplayResult:
    """Token-based replay of an already compressed log (see :func:`token_replay`)."""
    rep = Replayer(net)
    results = tuple(rep.replay(vlog.named(i)) for i in range(len(vlog.variants)))
    counts = vlog.counts.astype(np.float64)
    n = float(counts.sum())
    if n == 0:
        return ReplayResult(0.0, 0.0, 0.0, results, vlog)
    tm = sum(r.missing * c for r, c in zip(results, counts, strict=True))
    tc = sum(r.consumed * c for r, c in zip(results, counts, strict=True))
    tr = sum(r.remaining * c for r, c in zip(results, counts, strict=True))
    tp = sum(r.produced * c for r, c in zip(results, counts, strict=True))
    log_fitness = 0.0
    avg = 0.0
    perc = 0.0
    if tc > 0 and tp > 0:
        log_fitness = 0.5 * (1 - tm / tc) + 0.5 * (1 - tr / tp)
        avg = float(sum(r.fitness * c for r, c in zip(results, counts, strict=True)) / n)
        perc = 100.0 * float(sum(c for r, c in zip(results, counts, strict=True) if r.fit)) / n
    return ReplayResult(float(log_fitness), avg, perc, results, vlog)


def token_replay(
    log: LogInput | VariantLog, net: PetriNet, *, lifecycle: str | None = "complete"
) -> ReplayResult:
    """Replay a log on a Petri net with token-based replay.

    Args:
        log: Event log frame (or a :class:`VariantLog`).
        net: Workflow net with initial and final marking.
        lifecycle: Lifecycle transition of the events to replay (``None``: all).

    Returns:
        Fitness per variant and case, and the log-level figures pm4py reports.
    """
    vlog = log if isinstance(log, VariantLog) else variant_log(log, lifecycle=lifecycle)
    return token_replay_variants(vlog, net)
