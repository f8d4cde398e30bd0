"""Probability distributions for durations, inter-arrival times and case attributes.

Every distribution is a frozen dataclass with validated parameters, samples from a
:class:`numpy.random.Generator` (so a seed reproduces a run) and knows its mean. Times are in
seconds. :func:`distribution_from_spec` reads the scenario-file form
(``{"distribution": "lognormal", "mean": 600, "std": 300}``) and names the bad key on error.

Optional ``min``/``max`` bounds truncate a distribution (rejection sampling, so the shape between
the bounds is kept); a normal distribution is always truncated at 0 because durations cannot be
negative.
"""

from __future__ import annotations

import itertools
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ._errors import SimulationInputError

__all__ = [
    "DISTRIBUTION_NAMES",
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "LogNormal",
    "Normal",
    "Sampler",
    "Triangular",
    "Uniform",
    "distribution_from_spec",
    "parse_seconds",
]

FloatArray = NDArray[np.float64]

_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_seconds(value: Any, path: str = "value") -> float:
    """A time span in seconds from a number or an ISO 8601 duration (``"PT3M"``, ``"P1DT2H"``).

    Raises:
        SimulationInputError: for anything else, naming ``path``.
    """
    if isinstance(value, bool):
        raise SimulationInputError(
            f"expected seconds or an ISO 8601 duration, got {value!r}", path=path
        )
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        match = _ISO_DURATION.match(value.strip().upper())
        if not match or value.strip().upper() in {"P", "PT"} or value.strip().endswith("T"):
            raise SimulationInputError(
                f"{value!r} is not a number of seconds or an ISO 8601 duration",
                path=path,
                hint="write e.g. 90, 'PT90S', 'PT1H30M' or 'P1D'",
            )
        parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
        number = parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    else:
        raise SimulationInputError(
            f"expected seconds or an ISO 8601 duration, got {type(value).__name__}", path=path
        )
    if not math.isfinite(number) or number < 0:
        raise SimulationInputError(f"must be a finite non-negative time, got {value!r}", path=path)
    return number


def _join(path: str, key: str | None) -> str:
    if not key:
        return path
    return f"{path}.{key}" if path else key


def _positive(value: float, name: str) -> None:
    if not (math.isfinite(value) and value > 0):
        raise SimulationInputError(f"must be a finite number > 0, got {value!r}", path=name)


def _non_negative(value: float, name: str) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise SimulationInputError(f"must be a finite number >= 0, got {value!r}", path=name)


@dataclass(frozen=True, slots=True)
class Distribution(ABC):
    """A distribution of non-negative values (seconds for times).

    ``min``/``max`` optionally truncate it (``None``: no bound).
    """

    name: ClassVar[str] = ""

    def _check_bounds(self) -> None:
        lo, hi = self.bounds
        if lo is not None:
            _non_negative(lo, "min")
        if hi is not None:
            _positive(hi, "max")
            if lo is not None and hi < lo:
                raise SimulationInputError(f"max {hi} is below min {lo}", path="max")

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """``(min, max)`` truncation bounds."""
        return (getattr(self, "min", None), getattr(self, "max", None))

    @abstractmethod
    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Untruncated draws."""

    @property
    @abstractmethod
    def mean(self) -> float:
        """Mean of the untruncated distribution."""

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """The parameters in scenario-file form."""

    def sample(self, rng: np.random.Generator, size: int = 1) -> FloatArray:
        """``size`` independent draws, truncated to the bounds."""
        values = self._draw(rng, size)
        lo, hi = self.bounds
        if lo is None and hi is None:
            return values
        lo_v = -math.inf if lo is None else lo
        hi_v = math.inf if hi is None else hi
        # Rejection keeps the distribution's shape between the bounds; clip as a last resort
        # when the bounds hold almost no probability mass.
        for _ in range(64):
            bad = (values < lo_v) | (values > hi_v)
            count = int(bad.sum())
            if count == 0:
                return values
            values[bad] = self._draw(rng, count)
        return np.clip(values, lo_v, hi_v)

    def to_dict(self) -> dict[str, Any]:
        """Scenario-file form, e.g. ``{"distribution": "exponential", "mean": 18.0}``."""
        out: dict[str, Any] = {"distribution": self.name, **self.params()}
        lo, hi = self.bounds
        if lo is not None:
            out["min"] = lo
        if hi is not None:
            out["max"] = hi
        return out


@dataclass(frozen=True, slots=True)
class Exponential(Distribution):
    """Exponential with the given ``mean`` (rate ``1/mean``)."""

    name: ClassVar[str] = "exponential"
    mean_value: float
    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        _positive(self.mean_value, "mean")
        self._check_bounds()

    @property
    def mean(self) -> float:
        return self.mean_value

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.exponential(self.mean_value, size)

    def params(self) -> dict[str, Any]:
        return {"mean": self.mean_value}


@dataclass(frozen=True, slots=True)
class Normal(Distribution):
    """Normal with ``mean`` and ``std``, truncated at 0 (or at ``min`` when that is higher)."""

    name: ClassVar[str] = "normal"
    mean_value: float
    std: float
    min: float | None = 0.0
    max: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.mean_value):
            raise SimulationInputError("must be finite", path="mean")
        _non_negative(self.std, "std")
        if self.min is None or self.min < 0:
            object.__setattr__(self, "min", 0.0)
        self._check_bounds()
        if self.std == 0 and self.mean_value < 0:
            raise SimulationInputError("a fixed negative value cannot be a duration", path="mean")

    @property
    def mean(self) -> float:
        return self.mean_value

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.normal(self.mean_value, self.std, size)

    def params(self) -> dict[str, Any]:
        return {"mean": self.mean_value, "std": self.std}


@dataclass(frozen=True, slots=True)
class LogNormal(Distribution):
    """Log-normal given by its own ``mean`` and ``std`` (not those of the underlying normal)."""

    name: ClassVar[str] = "lognormal"
    mean_value: float
    std: float
    min: float | None = None
    max: float | None = None
    _mu: float = field(init=False, repr=False, compare=False, default=0.0)
    _sigma: float = field(init=False, repr=False, compare=False, default=0.0)

    def __post_init__(self) -> None:
        _positive(self.mean_value, "mean")
        _non_negative(self.std, "std")
        self._check_bounds()
        sigma2 = math.log1p((self.std / self.mean_value) ** 2)
        object.__setattr__(self, "_sigma", math.sqrt(sigma2))
        object.__setattr__(self, "_mu", math.log(self.mean_value) - sigma2 / 2)

    @property
    def mean(self) -> float:
        return self.mean_value

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.lognormal(self._mu, self._sigma, size)

    def params(self) -> dict[str, Any]:
        return {"mean": self.mean_value, "std": self.std}


@dataclass(frozen=True, slots=True)
class Gamma(Distribution):
    """Gamma with ``shape`` k and ``scale`` θ (mean kθ); see also ``from_moments``."""

    name: ClassVar[str] = "gamma"
    shape: float
    scale: float
    min: float | None = None
    max: float | None = None

    def __post_init__(self) -> None:
        _positive(self.shape, "shape")
        _positive(self.scale, "scale")
        self._check_bounds()

    @classmethod
    def from_moments(
        cls, mean: float, std: float, *, min: float | None = None, max: float | None = None
    ) -> Gamma:
        """The gamma distribution with this mean and standard deviation."""
        _positive(mean, "mean")
        _positive(std, "std")
        return cls(shape=(mean / std) ** 2, scale=std * std / mean, min=min, max=max)

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.gamma(self.shape, self.scale, size)

    def params(self) -> dict[str, Any]:
        return {"shape": self.shape, "scale": self.scale}


@dataclass(frozen=True, slots=True)
class Triangular(Distribution):
    """Triangular on ``[low, high]`` with peak at ``mode``."""

    name: ClassVar[str] = "triangular"
    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        _non_negative(self.low, "low")
        if not (math.isfinite(self.high) and self.low <= self.mode <= self.high):
            raise SimulationInputError(
                f"needs low <= mode <= high, got {self.low}, {self.mode}, {self.high}",
                path="mode",
            )
        if self.low == self.high:
            raise SimulationInputError("low and high must differ (use fixed)", path="high")

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.triangular(self.low, self.mode, self.high, size)

    def params(self) -> dict[str, Any]:
        return {"low": self.low, "mode": self.mode, "high": self.high}


@dataclass(frozen=True, slots=True)
class Uniform(Distribution):
    """Uniform on ``[low, high]``."""

    name: ClassVar[str] = "uniform"
    low: float
    high: float

    def __post_init__(self) -> None:
        _non_negative(self.low, "low")
        if not (math.isfinite(self.high) and self.high > self.low):
            raise SimulationInputError(
                f"high must be above low, got low={self.low}, high={self.high}", path="high"
            )

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2.0

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.uniform(self.low, self.high, size)

    def params(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}


@dataclass(frozen=True, slots=True)
class Fixed(Distribution):
    """Always ``value``."""

    name: ClassVar[str] = "fixed"
    value: float

    def __post_init__(self) -> None:
        _non_negative(self.value, "value")

    @property
    def mean(self) -> float:
        return self.value

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        return np.full(size, self.value, dtype=np.float64)

    def params(self) -> dict[str, Any]:
        return {"value": self.value}


@dataclass(frozen=True, slots=True)
class Empirical(Distribution):
    """Histogram: bin ``edges`` (n+1 ascending values) with ``weights`` (n), uniform in a bin.

    With ``edges`` of the same length as ``weights`` the values themselves are drawn
    (a discrete distribution over observed values).
    """

    name: ClassVar[str] = "empirical"
    edges: tuple[float, ...]
    weights: tuple[float, ...]
    _p: tuple[float, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        edges = tuple(float(e) for e in self.edges)
        weights = tuple(float(w) for w in self.weights)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "weights", weights)
        if not weights:
            raise SimulationInputError("needs at least one weight", path="weights")
        if len(edges) not in (len(weights), len(weights) + 1):
            raise SimulationInputError(
                f"needs {len(weights) + 1} bin edges (or {len(weights)} values) for "
                f"{len(weights)} weights, got {len(edges)}",
                path="edges",
            )
        for i, e in enumerate(edges):
            _non_negative(e, f"edges[{i}]")
        if len(edges) == len(weights) + 1 and any(b <= a for a, b in itertools.pairwise(edges)):
            raise SimulationInputError("bin edges must be strictly increasing", path="edges")
        for i, w in enumerate(weights):
            _non_negative(w, f"weights[{i}]")
        total = sum(weights)
        if total <= 0:
            raise SimulationInputError("weights must not all be zero", path="weights")
        object.__setattr__(self, "_p", tuple(w / total for w in weights))

    @property
    def discrete(self) -> bool:
        """Whether values are drawn as they are (no bins)."""
        return len(self.edges) == len(self.weights)

    @property
    def mean(self) -> float:
        if self.discrete:
            return sum(p * v for p, v in zip(self._p, self.edges, strict=True))
        return sum(
            p * (a + b) / 2
            for p, (a, b) in zip(self._p, itertools.pairwise(self.edges), strict=True)
        )

    def _draw(self, rng: np.random.Generator, size: int) -> FloatArray:
        idx = rng.choice(len(self._p), size=size, p=np.asarray(self._p))
        edges = np.asarray(self.edges)
        if self.discrete:
            return edges[idx].astype(np.float64)
        return rng.uniform(edges[idx], edges[idx + 1])

    def params(self) -> dict[str, Any]:
        return {"edges": list(self.edges), "weights": list(self.weights)}


DISTRIBUTION_NAMES: dict[str, str] = {
    "exponential": "exponential",
    "expon": "exponential",
    "normal": "normal",
    "norm": "normal",
    "lognormal": "lognormal",
    "lognorm": "lognormal",
    "gamma": "gamma",
    "triangular": "triangular",
    "triang": "triangular",
    "uniform": "uniform",
    "fixed": "fixed",
    "fix": "fixed",
    "constant": "fixed",
    "empirical": "empirical",
    "histogram": "empirical",
}

_ALLOWED: dict[str, set[str]] = {
    "exponential": {"mean", "rate", "min", "max"},
    "normal": {"mean", "std", "min", "max"},
    "lognormal": {"mean", "std", "min", "max"},
    "gamma": {"mean", "std", "shape", "scale", "min", "max"},
    "triangular": {"low", "mode", "high"},
    "uniform": {"low", "high"},
    "fixed": {"value"},
    "empirical": {"edges", "weights", "values"},
}


def _num(spec: Mapping[str, Any], key: str, path: str, *, time: bool = True) -> float:
    if key not in spec:
        raise SimulationInputError(f"missing required parameter {key!r}", path=path)
    value = spec[key]
    where = _join(path, key)
    if time:
        return parse_seconds(value, where)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SimulationInputError(f"expected a number, got {value!r}", path=where)
    return float(value)


def _opt(spec: Mapping[str, Any], key: str, path: str) -> float | None:
    return None if spec.get(key) is None else _num(spec, key, path)


def _floats(value: Any, where: str) -> list[float]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise SimulationInputError("expected a list of numbers", path=where)
    return [parse_seconds(v, f"{where}[{i}]") for i, v in enumerate(value)]


def distribution_from_spec(spec: Any, path: str = "distribution") -> Distribution:
    """Build a distribution from its scenario-file form.

    Accepted forms: a number or ISO 8601 duration (fixed), or a mapping with ``distribution``
    (exponential/expon, normal/norm, lognormal/lognorm, gamma, triangular/triang, uniform,
    fixed/fix, empirical/histogram) and its parameters (times as seconds or ISO durations).

    Raises:
        SimulationInputError: naming ``path`` and the bad key.
    """
    if isinstance(spec, int | float | str) and not isinstance(spec, bool):
        return Fixed(parse_seconds(spec, path))
    if not isinstance(spec, Mapping):
        raise SimulationInputError(
            f"expected a distribution mapping or a fixed time, got {type(spec).__name__}",
            path=path,
        )
    raw = spec.get("distribution", spec.get("type"))
    if not isinstance(raw, str):
        raise SimulationInputError(
            "missing 'distribution' (e.g. exponential, lognormal, fixed)",
            path=_join(path, "distribution"),
        )
    kind = DISTRIBUTION_NAMES.get(raw.strip().lower())
    if kind is None:
        raise SimulationInputError(
            f"unknown distribution {raw!r}",
            path=_join(path, "distribution"),
            hint="one of " + ", ".join(sorted(set(DISTRIBUTION_NAMES.values()))),
        )
    extra = set(spec) - _ALLOWED[kind] - {"distribution", "type"}
    if extra:
        key = sorted(extra)[0]
        raise SimulationInputError(
            f"unknown parameter {key!r} for {kind}",
            path=_join(path, key),
            hint="allowed: " + ", ".join(sorted(_ALLOWED[kind])),
        )
    try:
        return _build(kind, spec, path)
    except SimulationInputError as exc:
        if exc.path and path and not exc.path.startswith(path):
            raise SimulationInputError(
                exc.reason, path=_join(path, exc.path), hint=exc.hint
            ) from None
        raise


def _build(kind: str, spec: Mapping[str, Any], path: str) -> Distribution:
    lo, hi = _opt(spec, "min", path), _opt(spec, "max", path)
    if kind == "exponential":
        if "rate" in spec:
            rate = _num(spec, "rate", path, time=False)
            _positive(rate, "rate")
            return Exponential(1.0 / rate, min=lo, max=hi)
        return Exponential(_num(spec, "mean", path), min=lo, max=hi)
    if kind == "normal":
        return Normal(_num(spec, "mean", path), _num(spec, "std", path), min=lo or 0.0, max=hi)
    if kind == "lognormal":
        return LogNormal(_num(spec, "mean", path), _num(spec, "std", path), min=lo, max=hi)
    if kind == "gamma":
        if "shape" in spec or "scale" in spec:
            return Gamma(
                _num(spec, "shape", path, time=False), _num(spec, "scale", path), min=lo, max=hi
            )
        return Gamma.from_moments(_num(spec, "mean", path), _num(spec, "std", path), min=lo, max=hi)
    if kind == "triangular":
        return Triangular(
            _num(spec, "low", path), _num(spec, "mode", path), _num(spec, "high", path)
        )
    if kind == "uniform":
        return Uniform(_num(spec, "low", path), _num(spec, "high", path))
    if kind == "fixed":
        return Fixed(_num(spec, "value", path))
    if "values" in spec:
        values = _floats(spec["values"], _join(path, "values"))
        weights = spec.get("weights", [1.0] * len(values))
        return Empirical(tuple(values), tuple(_floats(weights, _join(path, "weights"))))
    return Empirical(
        tuple(_floats(spec.get("edges"), _join(path, "edges"))),
        tuple(_floats(spec.get("weights"), _join(path, "weights"))),
    )


class Sampler:
    """Draws one value at a time from a distribution, drawing in batches for speed.

    Args:
        distribution: What to draw from.
        rng: The random stream (each sampler should get its own for reproducible, independent
            streams; see :func:`numpy.random.SeedSequence.spawn`).
        batch: How many values to draw at once.
    """

    __slots__ = ("_batch", "_buffer", "_i", "_rng", "distribution")

    def __init__(
        self, distribution: Distribution, rng: np.random.Generator, batch: int = 4096
    ) -> None:
        self.distribution = distribution
        self._rng = rng
        self._batch = batch
        self._buffer: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        """The next value."""
        if self._i >= len(self._buffer):
            self._buffer = self.distribution.sample(self._rng, self._batch).tolist()
            self._i = 0
        value = self._buffer[self._i]
        self._i += 1
        return value
