"""Receivers with unknown gains: the simulator's offsets, their estimate from labelled
transmissions against closed forms, and the training augmentation that imitates them."""

from __future__ import annotations

import math

import pytest
import torch

from rfloc_core.data.datasets import SyntheticDataset
from rfloc_core.data.gain_calibration import (
    calibrate_dataset,
    calibrated_scenario,
    estimate_gain_offsets,
)
from rfloc_core.data.scenario import ScenarioConfig, load_preset
from rfloc_core.errors import InvalidInputError
from rfloc_core.training.module import LocalizationModule

GAINS_DB = (6.0, -4.5, 9.0, -7.5, 3.0, -9.0, 3.0)


@pytest.fixture(scope="module")
def uncalibrated() -> ScenarioConfig:
    return load_preset("vhf-uncalibrated")


def _noise_free_readings(
    exponent: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    count, stations = 60, 6
    receivers = torch.randn(stations, 3, generator=generator, dtype=torch.float64) * 8e3
    receivers[:, 2] = 30.0
    truth = torch.randn(count, 2, generator=generator, dtype=torch.float64) * 1e4
    gains = torch.randn(stations, generator=generator, dtype=torch.float64) * 4.0
    gains -= gains.mean()
    power = 20.0 + 10.0 * torch.rand(count, generator=generator, dtype=torch.float64)
    points = torch.nn.functional.pad(truth, (0, 1))
    distance = torch.linalg.vector_norm(points[:, None] - receivers[None], dim=-1)
    rss = power[:, None] - 10.0 * exponent * torch.log10(distance) + gains
    heard = torch.rand(count, stations, generator=generator) > 0.25
    return rss, heard, truth, receivers, gains


@pytest.mark.parametrize("fit_exponent", [False, True])
def test_noise_free_readings_give_back_the_gains_and_the_exponent(fit_exponent: bool) -> None:
    rss, heard, truth, receivers, gains = _noise_free_readings(3.4, seed=5)
    fit = estimate_gain_offsets(
        rss, heard, truth, receivers, path_loss_exponent=None if fit_exponent else 3.4
    )
    torch.testing.assert_close(torch.tensor(fit.gain_offsets_db, dtype=torch.float64), gains)
    assert fit.path_loss_exponent == pytest.approx(3.4, abs=1e-9)
    assert fit.residual_rms_db < 1e-9
    # A common offset is indistinguishable from the transmit powers: the gains have mean 0.
    shifted = estimate_gain_offsets(rss + 7.0, heard, truth, receivers, path_loss_exponent=3.4)
    assert shifted.gain_offsets_db == pytest.approx(fit.gain_offsets_db, abs=1e-9)


def test_the_simulator_offsets_the_whole_recording_by_each_stations_gain(
    rural: ScenarioConfig, uncalibrated: ScenarioConfig
) -> None:
    assert tuple(r.gain_offset_db for r in uncalibrated.receivers) == GAINS_DB
    calibrated = SyntheticDataset(rural, 64, seed=4).batch(range(64))
    offset = SyntheticDataset(uncalibrated, 64, seed=4).batch(range(64))
    assert torch.equal(offset["position_m"], calibrated["position_m"])
    strong = calibrated["online"] & (calibrated["measured_rss_dbm"] > -100.0)
    for station, gain_db in enumerate(GAINS_DB):
        shift = (offset["measured_rss_dbm"] - calibrated["measured_rss_dbm"])[:, station]
        assert float(shift[strong[:, station]].median()) == pytest.approx(gain_db, abs=0.02)


def test_gain_augmentation_moves_features_as_the_simulated_gain_does(
    rural: ScenarioConfig, uncalibrated: ScenarioConfig, features: object
) -> None:
    """The training augmentation is the simulator's gain in the feature domain: shifting the
    calibrated features by g / scale_span_db gives the uncalibrated ones wherever the recording
    is above the floor clamp."""
    from rfloc_core.data.feature_config import FeatureConfig

    span_db = FeatureConfig().scale_span_db
    calibrated = SyntheticDataset(rural, 16, seed=2).batch(range(16))
    offset = SyntheticDataset(uncalibrated, 16, seed=2).batch(range(16))
    gains = torch.tensor(GAINS_DB, dtype=torch.float32)
    expected = calibrated["features"] + (gains / span_db)[None, :, None, None]
    online = calibrated["online"][..., None, None].expand_as(expected)
    torch.testing.assert_close(offset["features"][online], expected[online], atol=2e-3, rtol=0)

    module = LocalizationModule(
        torch.nn.Linear(1, 1),  # type: ignore[arg-type]
        learning_rate=1e-3,
        weight_decay=0.0,
        warmup_fraction=0.0,
        seed=0,
        gain_augmentation_sigma_db=5.0,
        feature_span_db=span_db,
    )
    torch.manual_seed(0)
    shifted = module._with_gain_offsets(calibrated)["features"] - calibrated["features"]
    per_receiver = shifted.amax(dim=(-2, -1))
    assert torch.allclose(per_receiver, shifted.amin(dim=(-2, -1)), atol=1e-6)
    assert bool((per_receiver[~calibrated["online"]] == 0).all())
    spread_db = float(per_receiver[calibrated["online"]].std()) * span_db
    assert 3.0 < spread_db < 7.5


def test_two_hundred_transmissions_estimate_the_gains_to_their_standard_error(
    uncalibrated: ScenarioConfig,
) -> None:
    """The estimate's error is of the size its standard error predicts (shadowing RMS over
    the root of each station's readings), not a fixed accuracy target."""
    fit = calibrate_dataset(SyntheticDataset(uncalibrated, 200, seed=0))
    truth = torch.tensor(GAINS_DB) - sum(GAINS_DB) / len(GAINS_DB)
    error = torch.tensor(fit.gain_offsets_db) - truth
    standard_error = fit.residual_rms_db / math.sqrt(min(fit.readings_per_station))
    assert float(error.square().mean().sqrt()) < 3.0 * standard_error
    scenario = calibrated_scenario(uncalibrated, fit)
    assert [r.gain_offset_db for r in scenario.receivers] == [
        round(g, 3) for g in fit.gain_offsets_db
    ]


def test_networks_without_gains_to_estimate_are_refused(rural: ScenarioConfig) -> None:
    with pytest.raises(InvalidInputError, match="new network for every sample"):
        calibrate_dataset(SyntheticDataset(load_preset("rss-random-networks"), 8, seed=0))
    rss, heard, truth, receivers, _ = _noise_free_readings(3.0, seed=1)
    heard[:, 2] = False
    with pytest.raises(InvalidInputError, match=r"stations \[2\] never were"):
        estimate_gain_offsets(rss, heard, truth, receivers, path_loss_exponent=3.0)
