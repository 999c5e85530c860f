"""The simulator: shapes, determinism by (seed, index), and physics against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.features import log_mel_features
from rfloc_core.data.geometry import receivers_enu_m
from rfloc_core.data.scenario import SIGNAL_TYPES, ScenarioConfig, SignalType
from rfloc_core.data.simulator import Simulator

SPEED_OF_LIGHT_M_PER_S = 299_792_458.0


def _variant(scenario: ScenarioConfig, **sections: dict[str, object]) -> ScenarioConfig:
    data = scenario.model_dump()
    for section, values in sections.items():
        data[section].update(values)
    return ScenarioConfig.model_validate(data)


def _mean_path_loss_dbm(scenario: ScenarioConfig, position_m: np.ndarray) -> np.ndarray:
    """Independent log-distance model: FSPL at d0, then 10 n log10(d / d0)."""
    receivers = receivers_enu_m(scenario)
    points = np.concatenate([position_m, np.zeros((len(position_m), 1))], axis=1)
    distance_m = np.linalg.norm(points[:, None, :] - receivers[None], axis=-1)
    d0_m = scenario.propagation.reference_distance_m
    wavelength_m = SPEED_OF_LIGHT_M_PER_S / scenario.carrier_frequency_hz
    free_space_db = 20 * np.log10(4 * np.pi * d0_m / wavelength_m)
    return free_space_db + 10 * scenario.propagation.path_loss_exponent * np.log10(
        distance_m / d0_m
    )


def test_shapes_units_and_default_input_size(
    rural: ScenarioConfig, features: FeatureConfig
) -> None:
    batch = Simulator(rural, features).simulate(range(6), seed=1)
    assert batch.iq.shape == (6, 7, features.n_samples)
    assert batch.iq.dtype == torch.complex64
    assert batch.position_m.shape == (6, 2)
    assert batch.received_power_dbm.shape == (6, 7)
    model_input = log_mel_features(batch.iq, features, batch.online)
    assert model_input.shape == (6, 7, 128, 32)
    assert model_input.dtype == torch.float32
    area = rural.area
    assert bool((batch.position_m[:, 0] >= area.east_min_m).all())
    assert bool((batch.position_m[:, 1] <= area.north_max_m).all())


def test_same_sample_for_the_same_seed_and_index_in_any_batch(rural: ScenarioConfig) -> None:
    simulator = Simulator(rural)
    together = simulator.simulate([0, 1, 2, 3, 4, 5], seed=7)
    apart = simulator.simulate([5, 2], seed=7)
    again = Simulator(rural).simulate([2], seed=7)
    for row, index in ((0, 5), (1, 2)):
        assert torch.equal(apart.iq[row], together.iq[index])
        assert torch.equal(apart.received_power_dbm[row], together.received_power_dbm[index])
    assert torch.equal(again.iq[0], together.iq[2])
    other_seed = simulator.simulate([2], seed=8)
    assert not torch.equal(other_seed.position_m[0], together.position_m[2])
    assert not torch.equal(together.position_m[0], together.position_m[1])


def test_rss_ideal_received_power_is_log_distance_plus_shadowing(ideal: ScenarioConfig) -> None:
    batch = Simulator(ideal).simulate(range(400), seed=3)
    expected = batch.tx_power_dbm.numpy()[:, None] - _mean_path_loss_dbm(
        ideal, batch.position_m.numpy()
    )
    shadowing_db = batch.received_power_dbm.numpy() - expected
    sigma_db = ideal.propagation.shadowing_sigma_db
    assert abs(shadowing_db.mean()) < 4 * sigma_db / math.sqrt(shadowing_db.size)
    assert shadowing_db.std() == pytest.approx(sigma_db, rel=0.05)
    correlation = np.corrcoef(shadowing_db.T)
    assert np.abs(correlation - np.eye(7)).max() < 0.2


def test_iq_power_matches_received_power_plus_thermal_noise(ideal: ScenarioConfig) -> None:
    far_away = {"east_min_m": 400e3, "east_max_m": 401e3}
    weak = _variant(
        ideal, transmitter={"power_min_dbm": -30.0, "power_max_dbm": -30.0}, area=far_away
    )
    sample_rate_hz = FeatureConfig().sample_rate_hz
    noise_dbm = -173.98 + ideal.receiver_hardware.noise_figure_db + 10 * math.log10(sample_rate_hz)
    noise_only = Simulator(weak).simulate(range(64), seed=0)
    measured_dbm = 10 * torch.log10(noise_only.iq.abs().square().mean()).item()
    assert measured_dbm == pytest.approx(noise_dbm, abs=0.05)

    fm_only = _variant(
        ideal, transmitter={"signal_weights": {"fm_voice": 1.0, "cw": 0.0, "digital_burst": 0.0}}
    )
    batch = Simulator(fm_only).simulate(range(32), seed=0)
    total_mw = batch.iq.abs().square().mean(dim=-1).double()
    signal_dbm = 10 * torch.log10(total_mw - 10 ** (noise_dbm / 10))
    strong = batch.received_power_dbm > noise_dbm + 20
    assert int(strong.sum()) > 100
    np.testing.assert_allclose(signal_dbm[strong], batch.received_power_dbm[strong], atol=0.1)


def test_rayleigh_fading_gain_is_exponential_with_unit_mean(ideal: ScenarioConfig) -> None:
    rayleigh = _variant(
        ideal,
        propagation={"shadowing_sigma_db": 0.0},
        multipath={"enabled": True, "taps": 1, "rician_k_db": -40.0},
    )
    batch = Simulator(rayleigh).simulate(range(1500), seed=5)
    expected = batch.tx_power_dbm.numpy()[:, None] - _mean_path_loss_dbm(
        rayleigh, batch.position_m.numpy()
    )
    gain = 10 ** ((batch.received_power_dbm.numpy() - expected) / 10)
    assert gain.mean() == pytest.approx(1.0, abs=0.03)
    assert (gain < 0.1).mean() == pytest.approx(1 - math.exp(-0.1), abs=0.01)


def test_correlated_shadowing_follows_the_exponential_model(ideal: ScenarioConfig) -> None:
    correlated = _variant(
        ideal, propagation={"shadowing_sigma_db": 6.0, "shadowing_correlation_distance_m": 15_000.0}
    )
    batch = Simulator(correlated).simulate(range(2000), seed=2)
    shadowing_db = batch.received_power_dbm.numpy() - (
        batch.tx_power_dbm.numpy()[:, None]
        - _mean_path_loss_dbm(correlated, batch.position_m.numpy())
    )
    receivers = receivers_enu_m(correlated)
    separation_m = np.linalg.norm(receivers[:, None] - receivers[None], axis=-1)
    expected = np.exp(-separation_m / 15_000.0)
    np.testing.assert_allclose(np.corrcoef(shadowing_db.T), expected, atol=0.07)


def test_dropout_zeroes_iq_and_fills_the_floor(
    ideal: ScenarioConfig, features: FeatureConfig
) -> None:
    flaky = _variant(ideal, receiver_hardware={"dropout_probability": 0.5})
    batch = Simulator(flaky).simulate(range(200), seed=4)
    offline = ~batch.online
    assert offline.float().mean().item() == pytest.approx(0.5, abs=0.05)
    assert bool((batch.iq[offline] == 0).all())
    model_input = log_mel_features(batch.iq, features, batch.online)
    assert bool((model_input[offline] == features.offline_floor).all())
    assert bool((model_input[batch.online] > features.offline_floor).all())


def test_a_station_marked_offline_is_offline_in_every_sample_and_nothing_else_changes(
    ideal: ScenarioConfig,
) -> None:
    receivers = tuple(r.model_copy(update={"offline": r.name == "rx3"}) for r in ideal.receivers)
    down = ideal.model_copy(update={"receivers": receivers})
    batch = Simulator(down).simulate(range(20), seed=4)
    reference = Simulator(ideal).simulate(range(20), seed=4)
    assert not bool(batch.online[:, 2].any()) and bool(batch.online[:, [0, 1, 3, 4, 5, 6]].all())
    assert bool((batch.iq[:, 2] == 0).all())
    assert torch.equal(batch.iq[:, [0, 1, 3]], reference.iq[:, [0, 1, 3]])
    assert torch.equal(batch.position_m, reference.position_m)


def test_signal_types_follow_their_weights(ideal: ScenarioConfig) -> None:
    weighted = _variant(
        ideal, transmitter={"signal_weights": {"fm_voice": 2.0, "cw": 1.0, "digital_burst": 1.0}}
    )
    kinds = Simulator(weighted).simulate(range(800), seed=0).signal_type
    shares = torch.bincount(kinds, minlength=len(SIGNAL_TYPES)).double() / kinds.numel()
    np.testing.assert_allclose(shares.numpy(), [0.5, 0.25, 0.25], atol=0.05)
    assert SIGNAL_TYPES.index(SignalType.CW) == 1


def test_carrier_offset_moves_the_spectral_peak(ideal: ScenarioConfig) -> None:
    cw = {"signal_weights": {"fm_voice": 0.0, "cw": 1.0, "digital_burst": 0.0}}
    still = Simulator(_variant(ideal, transmitter=cw)).simulate([0], seed=0)
    offset = Simulator(
        _variant(ideal, transmitter={**cw, "carrier_offset_max_hz": 3000.0})
    ).simulate([0], seed=0)
    sample_rate_hz = FeatureConfig().sample_rate_hz
    frequency_hz = np.fft.fftfreq(still.iq.shape[-1], d=1 / sample_rate_hz)
    strongest = int(offset.received_power_dbm[0].argmax())

    def peak_hz(iq: torch.Tensor) -> float:
        return float(frequency_hz[np.abs(np.fft.fft(iq.numpy())).argmax()])

    assert abs(peak_hz(still.iq[0, strongest])) < 20.0
    assert abs(peak_hz(offset.iq[0, strongest])) > 50.0
