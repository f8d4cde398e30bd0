"""Erlang C (M/M/n) and Erlang A (M/M/n+M) staffing formulas.

Both are computed without factorials so that thousands of agents work:

* Erlang B comes from its recursion ``B(0) = 1``, ``B(k) = a B(k-1) / (k + a B(k-1))``;
  Erlang C follows as ``C = n B / (n - a (1 - B))``.
* Erlang A uses the stationary density of the *offered* waiting time ``V`` of the M/M/n+M queue
  (Baccelli–Hébuterne; Garnett, Mandelbaum and Reiman 2002; the Mandelbaum–Zeltyn summary of the
  M/M/n+G measures). With ``x = nμ/θ`` and ``y = λ/θ`` every measure is a function of Erlang B
  for ``n - 1`` servers and ``K = y^(1-x) e^y γ(x, y)``, where ``γ`` is the lower incomplete gamma
  function (evaluated in log space through ``scipy.special.gammainc``/``gammaln``).

Units: rates are per second, times in seconds. ``offered_load`` is in Erlangs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scipy import integrate, special

from ._errors import SimulationInputError

__all__ = [
    "StaffingResult",
    "agents_for_target",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_probability_wait",
    "evaluate_staffing",
    "offered_load",
]


@dataclass(frozen=True, slots=True)
class StaffingResult:
    """Expected performance of a number of agents for one interval.

    Attributes:
        agents: Number of agents.
        offered_load: Arrival rate times handling time, in Erlangs.
        probability_wait: Probability that a call has to wait (all agents busy on arrival).
        service_level: Fraction of all calls answered within ``answer_seconds`` (with Erlang A,
            calls that abandon count as not answered in time).
        asa_seconds: Average speed of answer: mean wait of the calls that are answered
            (``inf`` when the queue is unstable).
        occupancy: Fraction of agent time spent handling calls.
        answer_seconds: The service-level threshold used.
        abandonment: Fraction of calls that hang up before being answered (Erlang A only).
        mean_wait_seconds: Mean wait over all calls, answered or abandoned.
        patience_seconds: Mean patience (Erlang A only).
    """

    agents: int
    offered_load: float
    probability_wait: float
    service_level: float
    asa_seconds: float
    occupancy: float
    answer_seconds: float
    abandonment: float | None = None
    mean_wait_seconds: float = 0.0
    patience_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON shape; an infinite ASA (unstable queue) becomes ``None``."""
        out: dict[str, Any] = {
            "agents": self.agents,
            "service_level": self.service_level,
            "asa_seconds": self.asa_seconds if math.isfinite(self.asa_seconds) else None,
            "occupancy": self.occupancy,
            "probability_wait": self.probability_wait,
        }
        if self.abandonment is not None:
            out["abandonment"] = self.abandonment
        return out


def _check_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise SimulationInputError(
            f"{name} must be a finite {bound} number, got {value!r}", path=name
        )


def _check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 1:
        raise SimulationInputError(f"agents must be an integer >= 1, got {agents!r}", path="agents")


def offered_load(calls: float, interval_minutes: float, aht_seconds: float) -> float:
    """Offered load in Erlangs of ``calls`` arriving in ``interval_minutes`` with that AHT."""
    _check_positive("calls", calls, allow_zero=True)
    _check_positive("interval_minutes", interval_minutes)
    _check_positive("aht_seconds", aht_seconds)
    return calls * aht_seconds / (interval_minutes * 60.0)


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/n/n (Erlang B) by the stable recursion.

    Args:
        agents: Number of servers ``n >= 0``.
        load: Offered load ``a`` in Erlangs.
    """
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 0:
        raise SimulationInputError(f"agents must be an integer >= 0, got {agents!r}")
    _check_positive("load", load, allow_zero=True)
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    return b


def _log_erlang_b(agents: int, load: float) -> float:
    """``log B(n, a)`` by the recursion on ``1/B`` in log space (no underflow for huge n/a)."""
    log_inv = 0.0  # log(1 / B(0))
    log_a = math.log(load)
    for k in range(1, agents + 1):
        z = math.log(k) - log_a + log_inv  # 1/B(k) = 1 + (k/a) / B(k-1)
        log_inv = z + math.log1p(math.exp(-z)) if z > 0 else math.log1p(math.exp(z))
    return -log_inv


def erlang_c_probability_wait(agents: int, load: float) -> float:
    """Erlang C: probability that an arriving call waits in M/M/n (1.0 when ``n <= a``)."""
    _check_agents(agents)
    if load >= agents:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1.0 - b))


def erlang_c(
    agents: int,
    arrival_rate: float,
    aht_seconds: float,
    answer_seconds: float = 20.0,
) -> StaffingResult:
    """Performance of ``agents`` agents in an M/M/n queue without abandonment.

    Args:
        agents: Number of agents.
        arrival_rate: Calls per second.
        aht_seconds: Mean handling time in seconds.
        answer_seconds: Service-level threshold.

    Returns:
        The expected service level, ASA, occupancy and probability of waiting. When the load is
        at least the number of agents the queue is unstable: everyone waits, service level 0 and
        an infinite ASA.
    """
    _check_agents(agents)
    _check_positive("arrival_rate", arrival_rate, allow_zero=True)
    _check_positive("aht_seconds", aht_seconds)
    _check_positive("answer_seconds", answer_seconds, allow_zero=True)
    load = arrival_rate * aht_seconds
    if load >= agents:
        return StaffingResult(
            agents=agents,
            offered_load=load,
            probability_wait=1.0,
            service_level=0.0,
            asa_seconds=math.inf,
            occupancy=1.0,
            answer_seconds=answer_seconds,
            mean_wait_seconds=math.inf,
        )
    pw = erlang_c_probability_wait(agents, load)
    gap = agents - load
    sl = 1.0 - pw * math.exp(-gap * answer_seconds / aht_seconds)
    asa = pw * aht_seconds / gap
    return StaffingResult(
        agents=agents,
        offered_load=load,
        probability_wait=pw,
        service_level=sl,
        asa_seconds=asa,
        occupancy=load / agents,
        answer_seconds=answer_seconds,
        mean_wait_seconds=asa,
    )


def _quad(
    func: Callable[[float], float], lo: float, hi: float, limit: int = 200
) -> tuple[float, float]:
    """``scipy.integrate.quad`` without its accuracy warnings (the integrands are smooth)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        value, error = integrate.quad(func, lo, hi, limit=limit)
    return float(value), float(error)


def _log_gamma_lower(s: float, z: float) -> float:
    """``log γ(s, z)``; ``-inf`` when it underflows."""
    p = float(special.gammainc(s, z))
    if p <= 0.0:
        return -math.inf
    return float(special.gammaln(s)) + math.log(p)


def _gamma_p_difference(s: float, hi: float, lo: float) -> float:
    """``P(s, hi) - P(s, lo)`` for ``hi >= lo``, from the tail that keeps precision."""
    if hi <= s:
        return float(special.gammainc(s, hi) - special.gammainc(s, lo))
    return float(special.gammaincc(s, lo) - special.gammaincc(s, hi))


class _ErlangA:
    """The offered-wait density ``v(t) = λ p_{n-1} exp(h(t))`` of M/M/n+M and its integrals."""

    def __init__(self, agents: int, lam: float, mu: float, theta: float) -> None:
        self.n = agents
        self.lam = lam
        self.mu = mu
        self.theta = theta
        self.x = agents * mu / theta
        self.y = lam / theta
        # Everything follows from log(B_{n-1} K); logs keep heavy overload (K ~ e^1000) and
        # heavy over-staffing (B ~ e^-1000) exact.
        log_b = _log_erlang_b(agents - 1, lam / mu) if lam > 0 else 0.0
        self.b_prev = math.exp(log_b)
        self.log_k = self._log_k()
        log_bk = log_b + self.log_k if self.lam > 0 else -math.inf
        self.p_wait = float(special.expit(log_bk))
        self.p_idle = float(special.expit(-log_bk))
        # p_{n-1}: stationary probability of n-1 busy agents, B / (1 + B K).
        # log p_{n-1} = log B - log(1 + B K) = log B - softplus(log BK).
        softplus = (
            log_bk + math.log1p(math.exp(-log_bk)) if log_bk > 0 else math.log1p(math.exp(log_bk))
        )
        self.p_last = math.exp(log_b - softplus)

    def h(self, t: float) -> float:
        return self.y * (1.0 - math.exp(-self.theta * t)) - self.n * self.mu * t

    def _log_k(self) -> float:
        """``log K`` with ``K = λ ∫ exp(h(t)) dt = y^(1-x) e^y γ(x, y)``."""
        if self.lam == 0.0:
            return -math.inf
        log_gamma = _log_gamma_lower(self.x, self.y)
        if math.isfinite(log_gamma):
            return (1.0 - self.x) * math.log(self.y) + self.y + log_gamma
        # γ underflowed: the queue is heavily over-staffed and h is steeply decreasing; integrate.
        value, _ = _quad(lambda t: math.exp(self.h(t)), 0.0, math.inf)
        return math.log(self.lam * float(value)) if value > 0 else -math.inf

    def probability_wait(self) -> float:
        return self.p_wait

    def abandonment(self) -> float:
        if self.lam == 0.0:
            return 0.0
        # P(Ab) = p_{n-1} (1 + K (1 - 1/ρ)) = p_{n-1} + P(W>0) (1 - 1/ρ), ρ = λ / (nμ).
        rho = self.y / self.x
        return min(1.0, max(0.0, self.p_last + self.p_wait * (1.0 - 1.0 / rho)))

    def _served_after_wait_within(self, t: float) -> float:
        """``∫_0^t v(s) e^{-θs} ds``: calls that wait at most ``t`` and are then answered."""
        if t <= 0.0 or self.lam == 0.0:
            return 0.0
        total = 1.0 - self.abandonment() - self.p_idle
        if total <= 0.0:
            return 0.0
        s = self.x + 1.0
        lo = self.y * math.exp(-self.theta * t)
        whole = float(special.gammainc(s, self.y))
        if whole > 1e-250:
            return total * _gamma_p_difference(s, self.y, lo) / whole
        # Fall back to integrating the density shape directly (ratio of two integrals).
        rate = self.n * self.mu + self.theta

        def shape(u: float) -> float:
            return math.exp(self.y * (1.0 - math.exp(-self.theta * u)) - rate * u)

        part, _ = _quad(shape, 0.0, t)
        full, _ = _quad(shape, 0.0, math.inf)
        return total * float(part) / float(full) if full > 0 else 0.0

    def service_level(self, t: float) -> float:
        return min(1.0, self.p_idle + self._served_after_wait_within(t))

    def mean_wait_answered(self) -> float:
        """ASA: ``∫ s v(s) e^{-θs} ds / P(answered)``."""
        served = 1.0 - self.abandonment()
        if self.lam == 0.0 or served <= 0.0:
            return 0.0 if self.lam == 0.0 else math.inf
        rate = self.n * self.mu + self.theta
        # h(s) - θ s is concave; centre the integrand on its maximum to avoid overflow.
        t_star = max(0.0, math.log(self.lam / rate) / self.theta) if self.lam > rate else 0.0
        h_max = self.y * (1.0 - math.exp(-self.theta * t_star)) - rate * t_star

        def weighted(u: float) -> float:
            return u * math.exp(self.y * (1.0 - math.exp(-self.theta * u)) - rate * u - h_max)

        if t_star > 0:
            left, _ = _quad(weighted, 0.0, t_star)
            right, _ = _quad(weighted, t_star, math.inf)
            value = float(left) + float(right)
        else:
            value = float(_quad(weighted, 0.0, math.inf)[0])
        if value <= 0.0 or self.p_last <= 0.0:
            return 0.0
        log_num = math.log(self.lam) + math.log(self.p_last) + h_max + math.log(value)
        return math.exp(log_num) / served


def erlang_a(
    agents: int,
    arrival_rate: float,
    aht_seconds: float,
    patience_seconds: float,
    answer_seconds: float = 20.0,
) -> StaffingResult:
    """Performance of ``agents`` agents in an M/M/n+M queue (Erlang A, exponential patience).

    Args:
        agents: Number of agents.
        arrival_rate: Calls per second.
        aht_seconds: Mean handling time in seconds.
        patience_seconds: Mean time a caller waits before hanging up.
        answer_seconds: Service-level threshold.

    Returns:
        Probability of waiting, service level (answered within ``answer_seconds`` out of all
        calls), ASA of answered calls, abandonment and occupancy. Unlike Erlang C this is defined
        for any load: abandonment keeps the queue stable.
    """
    _check_agents(agents)
    _check_positive("arrival_rate", arrival_rate, allow_zero=True)
    _check_positive("aht_seconds", aht_seconds)
    _check_positive("patience_seconds", patience_seconds)
    _check_positive("answer_seconds", answer_seconds, allow_zero=True)
    mu = 1.0 / aht_seconds
    theta = 1.0 / patience_seconds
    queue = _ErlangA(agents, arrival_rate, mu, theta)
    abandonment = queue.abandonment()
    load = arrival_rate * aht_seconds
    return StaffingResult(
        agents=agents,
        offered_load=load,
        probability_wait=min(1.0, queue.probability_wait()),
        service_level=queue.service_level(answer_seconds),
        asa_seconds=queue.mean_wait_answered(),
        occupancy=min(1.0, load * (1.0 - abandonment) / agents),
        answer_seconds=answer_seconds,
        abandonment=abandonment,
        mean_wait_seconds=abandonment * patience_seconds,
        patience_seconds=patience_seconds,
    )


def evaluate_staffing(
    agents: int,
    *,
    calls: float,
    interval_minutes: float,
    aht_seconds: float,
    answer_seconds: float = 20.0,
    patience_seconds: float | None = None,
) -> StaffingResult:
    """Erlang C (or Erlang A with ``patience_seconds``) for ``calls`` per interval."""
    load = offered_load(calls, interval_minutes, aht_seconds)
    rate = load / aht_seconds
    if patience_seconds is None:
        return erlang_c(agents, rate, aht_seconds, answer_seconds)
    return erlang_a(agents, rate, aht_seconds, patience_seconds, answer_seconds)


def agents_for_target(
    *,
    calls: float,
    interval_minutes: float,
    aht_seconds: float,
    target: float,
    answer_seconds: float = 20.0,
    patience_seconds: float | None = None,
    max_occupancy: float | None = None,
    max_agents: int = 1_000_000,
) -> StaffingResult:
    """The fewest agents whose service level reaches ``target``.

    Args:
        calls: Calls arriving in the interval.
        interval_minutes: Length of the interval.
        aht_seconds: Mean handling time.
        target: Required fraction answered within ``answer_seconds`` (0 < target < 1).
        answer_seconds: Service-level threshold.
        patience_seconds: Switches to Erlang A with this mean patience.
        max_occupancy: Optional occupancy cap (e.g. 0.85), met as well.
        max_agents: Search limit.

    Returns:
        The evaluation of the smallest sufficient staffing; ``agents`` is 0 when no calls arrive.
    """
    if not (math.isfinite(target) and 0.0 < target < 1.0):
        raise SimulationInputError(
            f"target must be a fraction between 0 and 1 (exclusive), got {target!r}",
            path="target",
            hint="e.g. --target 0.8 for 80 % answered within --answer-seconds",
        )
    if max_occupancy is not None and not 0.0 < max_occupancy <= 1.0:
        raise SimulationInputError(
            f"max_occupancy must be in (0, 1], got {max_occupancy!r}", path="max_occupancy"
        )
    load = offered_load(calls, interval_minutes, aht_seconds)
    if load == 0.0:
        return StaffingResult(
            agents=0,
            offered_load=0.0,
            probability_wait=0.0,
            service_level=1.0,
            asa_seconds=0.0,
            occupancy=0.0,
            answer_seconds=answer_seconds,
            abandonment=None if patience_seconds is None else 0.0,
            patience_seconds=patience_seconds,
        )

    def evaluate(n: int) -> StaffingResult:
        return evaluate_staffing(
            n,
            calls=calls,
            interval_minutes=interval_minutes,
            aht_seconds=aht_seconds,
            answer_seconds=answer_seconds,
            patience_seconds=patience_seconds,
        )

    def ok(result: StaffingResult) -> bool:
        if result.service_level < target:
            return False
        return max_occupancy is None or result.occupancy <= max_occupancy

    # Service level and occupancy are monotone in n: gallop up, then bisect.
    lo = max(1, math.floor(load) + 1) if patience_seconds is None else 1
    if ok(evaluate(lo)):
        return evaluate(lo)
    step = max(1, lo // 8)
    hi = lo + step
    while not ok(evaluate(hi)):
        lo = hi
        step *= 2
        hi = lo + step
        if hi > max_agents:
            raise SimulationInputError(
                f"more than {max_agents} agents would be needed for target {target}",
                path="target",
            )
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(evaluate(mid)):
            hi = mid
        else:
            lo = mid
    return evaluate(hi)
