"""Calibration with an inductive-miner model (concurrency kept) next to the directly-follows one."""

from __future__ import annotations

import pytest

from liucheng.errors import LiuchengError
from liucheng.history import read_log
from liucheng.simulation import simulate
from liucheng.simulation.calibrate import calibrate, log_distance
from tests.conftest import require_shared


def test_inductive_model_keeps_concurrency_and_stays_within_the_bound() -> None:
    real = read_log(require_shared("data", "logs", "repairExample.xes.gz"))
    ind = calibrate(real, resource_calendars=False, discovery="inductive")
    assert ind.discovered
    assert b"parallelGateway" in ind.model_xml  # Inform User runs beside the repair loop
    assert "inductive" in ind.scenario.notes[0]
    assert len(ind.fits) == real["activity"].n_unique()
    result = simulate(ind.model_xml, ind.scenario, replications=1, seed=3)
    distance = log_distance(real, result.event_log())
    # stated bound for this model: EMD within 40 % of the real mean, mean within 20 %
    assert distance["cycle_time_emd_relative"] < 0.4, distance
    assert distance["simulated_mean_cycle_seconds"] == pytest.approx(
        distance["real_mean_cycle_seconds"], rel=0.2
    )
    assert set(result.event_log()["activity"].unique()) == set(real["activity"].unique())


def test_unknown_discovery_is_an_error() -> None:
    real = read_log(require_shared("data", "logs", "repairExample.xes.gz")).head(200)
    with pytest.raises(LiuchengError, match="unknown discovery"):
        calibrate(real, discovery="alpha")
