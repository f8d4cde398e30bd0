"""Distributions: validated parameters, seeded samples with the right moments, spec parsing."""

from __future__ import annotations

import numpy as np
import pytest

from liucheng.simulation import (
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Normal,
    Sampler,
    SimulationInputError,
    Triangular,
    Uniform,
    distribution_from_spec,
    parse_seconds,
)

N = 200_000


def draw(dist, seed=1, size=N):
    return dist.sample(np.random.default_rng(seed), size)


@pytest.mark.parametrize(
    ("dist", "mean", "std"),
    [
        (Exponential(30.0), 30.0, 30.0),
        (LogNormal(600.0, 300.0), 600.0, 300.0),
        (Gamma.from_moments(120.0, 60.0), 120.0, 60.0),
        (Gamma(shape=4.0, scale=5.0), 20.0, 10.0),
        (Triangular(10.0, 20.0, 60.0), 30.0, None),
        (Uniform(10.0, 20.0), 15.0, 10 / 12**0.5),
        (Fixed(42.0), 42.0, 0.0),
    ],
)
def test_sample_moments(dist, mean, std):
    values = draw(dist)
    assert dist.mean == pytest.approx(mean)
    assert values.mean() == pytest.approx(mean, rel=0.01, abs=1e-9)
    if std is not None:
        assert values.std() == pytest.approx(std, rel=0.02, abs=1e-9)
    assert (values >= 0).all()


def test_normal_is_truncated_at_zero():
    values = draw(Normal(10.0, 10.0))
    assert values.min() >= 0.0
    # Truncation removes the negative half-tail, so the mean rises above 10.
    assert values.mean() > 10.5


def test_bounds_truncate_by_rejection():
    values = draw(Exponential(100.0, min=50.0, max=150.0))
    assert values.min() >= 50.0 and values.max() <= 150.0
    # Shape kept between the bounds: not piled up at the bounds as clipping would.
    assert (values == 50.0).sum() == 0 and (values == 150.0).sum() == 0


def test_empirical_histogram_and_values():
    hist = Empirical(edges=(0.0, 10.0, 20.0), weights=(3.0, 1.0))
    values = draw(hist)
    assert ((values < 10).mean()) == pytest.approx(0.75, abs=0.01)
    assert hist.mean == pytest.approx(0.75 * 5 + 0.25 * 15)
    discrete = Empirical(edges=(5.0, 7.0), weights=(1.0, 1.0))
    assert set(np.unique(draw(discrete))) == {5.0, 7.0}


def test_same_seed_same_values():
    d = LogNormal(60.0, 20.0)
    assert (draw(d, seed=9, size=10) == draw(d, seed=9, size=10)).all()
    sampler = Sampler(d, np.random.default_rng(9), batch=3)
    assert [sampler() for _ in range(10)] == pytest.approx(list(draw(d, seed=9, size=10)))


@pytest.mark.parametrize(
    ("build", "key"),
    [
        (lambda: Exponential(0.0), "mean"),
        (lambda: Exponential(-1.0), "mean"),
        (lambda: Normal(5.0, -1.0), "std"),
        (lambda: LogNormal(0.0, 1.0), "mean"),
        (lambda: Gamma(shape=0.0, scale=1.0), "shape"),
        (lambda: Triangular(5.0, 1.0, 10.0), "mode"),
        (lambda: Uniform(5.0, 5.0), "high"),
        (lambda: Fixed(-3.0), "value"),
        (lambda: Empirical(edges=(0.0,), weights=(1.0, 2.0, 3.0)), "edges"),
        (lambda: Empirical(edges=(0.0, 2.0, 1.0), weights=(1.0, 2.0)), "edges"),
        (lambda: Exponential(10.0, min=5.0, max=1.0), "max"),
    ],
)
def test_invalid_parameters_name_the_key(build, key):
    with pytest.raises(SimulationInputError) as info:
        build()
    assert info.value.path == key


def test_spec_forms():
    assert distribution_from_spec({"distribution": "expon", "mean": "PT3M"}) == Exponential(180.0)
    assert distribution_from_spec({"distribution": "exponential", "rate": 0.5}) == Exponential(2.0)
    assert distribution_from_spec(90) == Fixed(90.0)
    assert distribution_from_spec("PT1H30M") == Fixed(5400.0)
    g = distribution_from_spec({"distribution": "gamma", "mean": 10, "std": 5})
    assert g.mean == pytest.approx(10.0)
    e = distribution_from_spec({"distribution": "histogram", "values": [1, 2], "weights": [1, 3]})
    assert e.mean == pytest.approx(1.75)
    for d in (LogNormal(60.0, 20.0), Triangular(1.0, 2.0, 4.0), Exponential(5.0, max=50.0)):
        assert distribution_from_spec(d.to_dict()) == d


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"distribution": "weibull", "mean": 1}, "d.distribution"),
        ({"mean": 1}, "d.distribution"),
        ({"distribution": "normal", "mean": 5}, "d"),
        ({"distribution": "normal", "mean": 5, "std": "x"}, "d.std"),
        ({"distribution": "lognormal", "mean": 5, "std": 1, "sigma": 2}, "d.sigma"),
        ({"distribution": "exponential", "mean": -2}, "d.mean"),
        ({"distribution": "empirical", "values": [1, -1]}, "d.values[1]"),
        ([1, 2], "d"),
        ({"distribution": "uniform", "low": 1, "high": 5, "min": 2}, "d.min"),
    ],
)
def test_spec_errors_name_the_path(spec, path):
    with pytest.raises(SimulationInputError) as info:
        distribution_from_spec(spec, "d")
    assert info.value.path == path
    assert path in str(info.value)


@pytest.mark.parametrize(
    ("text", "seconds"), [("PT20S", 20), ("PT1H", 3600), ("P1DT1M", 86460), (12.5, 12.5)]
)
def test_parse_seconds(text, seconds):
    assert parse_seconds(text) == seconds


@pytest.mark.parametrize("text", ["P", "PT", "1 hour", "-5", True, None])
def test_parse_seconds_rejects(text):
    with pytest.raises(SimulationInputError):
        parse_seconds(text)
