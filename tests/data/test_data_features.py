"""IQ -> log-mel features: fixed scaling, calibration in dBm/Hz, and an independent numpy STFT."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rfloc_core.data.errors import ConfigError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.features import log_mel_features, mel_filterbank, scaled_to_psd_dbm_per_hz
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.data.simulator import Simulator
from rfloc_core.errors import InvalidInputError


def _simulated(scenario: ScenarioConfig, count: int = 4) -> torch.Tensor:
    return Simulator(scenario).simulate(range(count), seed=11).iq


def test_attenuating_one_receiver_6_db_moves_only_that_channel(
    ideal: ScenarioConfig, features: FeatureConfig
) -> None:
    iq = _simulated(ideal)
    attenuated = iq.clone()
    attenuated[:, 3] *= 10 ** (-6.0 / 20.0)
    before = log_mel_features(iq, features)
    after = log_mel_features(attenuated, features)
    expected_drop = 6.0 / features.scale_span_db
    drop = (before[:, 3] - after[:, 3]).double().numpy()
    np.testing.assert_allclose(drop, expected_drop, atol=0.002 / features.scale_span_db)  # 0.002 dB
    others = [r for r in range(7) if r != 3]
    assert torch.equal(before[:, others], after[:, others])


def _numpy_reference(iq: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Straightforward loop STFT in float64: Hann frames, |FFT|², Welch PSD, mel average, dB."""
    n, hop = config.fft_size_samples, config.hop_samples
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    weights = mel_filterbank(config).numpy()
    out = np.empty((iq.shape[0], config.mel_bins, config.frames))
    for receiver in range(iq.shape[0]):
        for frame in range(config.frames):
            chunk = iq[receiver, frame * hop : frame * hop + n] * window
            psd = np.abs(np.fft.fft(chunk)) ** 2 / (config.sample_rate_hz * np.sum(window**2))
            band_db = 10 * np.log10(weights @ psd)
            out[receiver, :, frame] = (band_db - config.scale_offset_db) / config.scale_span_db
    return out


def test_features_match_an_independent_numpy_stft(
    rural: ScenarioConfig, features: FeatureConfig
) -> None:
    batch = Simulator(rural).simulate([0], seed=11)
    online = batch.online[0].numpy()
    iq = batch.iq[0, online]
    expected = _numpy_reference(iq.numpy().astype(np.complex128), features)
    actual = log_mel_features(iq, features).double().numpy()
    np.testing.assert_allclose(actual, expected, atol=0.02 / features.scale_span_db)  # 0.02 dB
    assert np.median(np.abs(actual - expected)) < 2e-6


def test_white_noise_reads_its_density_in_dbm_per_hz(features: FeatureConfig) -> None:
    density_dbm_per_hz = -150.0
    power_mw = 10 ** (density_dbm_per_hz / 10) * features.sample_rate_hz
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(64, 7, features.n_samples, dtype=torch.complex64, generator=generator)
    scaled = log_mel_features(noise * math.sqrt(power_mw), features)
    linear_mw_per_hz = 10 ** (scaled_to_psd_dbm_per_hz(scaled.double(), features) / 10)
    measured = 10 * math.log10(float(linear_mw_per_hz.mean()))
    assert measured == pytest.approx(density_dbm_per_hz, abs=0.1)


def test_a_tone_lights_the_mel_band_around_its_frequency(features: FeatureConfig) -> None:
    tone_hz = 3000.0
    time_s = torch.arange(features.n_samples, dtype=torch.float64) / features.sample_rate_hz
    tone = torch.exp(2j * math.pi * tone_hz * time_s).to(torch.complex64)[None]
    scaled = log_mel_features(tone, features)[0].mean(dim=-1)
    weights = mel_filterbank(features)
    bin_hz = torch.fft.fftfreq(features.fft_size_samples, d=1 / features.sample_rate_hz)
    centre_hz = (weights * bin_hz.double()).sum(dim=1)
    assert abs(float(centre_hz[int(scaled.argmax())]) - tone_hz) < 200.0


def test_filterbank_rows_average_and_follow_the_mel_scale(features: FeatureConfig) -> None:
    weights = mel_filterbank(features)
    assert weights.shape == (features.mel_bins, features.fft_size_samples)
    np.testing.assert_allclose(weights.sum(dim=1).numpy(), 1.0, rtol=1e-12)
    bin_hz = torch.fft.fftfreq(features.fft_size_samples, d=1 / features.sample_rate_hz)
    centre_hz = (weights * bin_hz.double()).sum(dim=1)
    assert bool((centre_hz.diff() >= 0).all())
    widths = (weights > 0).sum(dim=1)
    middle = features.mel_bins // 2
    assert widths[middle] < widths[0]


def test_offline_receivers_read_the_floor(features: FeatureConfig) -> None:
    iq = torch.randn(2, 7, features.n_samples, dtype=torch.complex64)
    online = torch.ones(2, 7, dtype=torch.bool)
    online[1, 4] = False
    scaled = log_mel_features(iq, features, online)
    assert bool((scaled[1, 4] == features.offline_floor).all())
    assert bool((scaled[0, 4] != features.offline_floor).all())


def test_bad_inputs_are_refused(features: FeatureConfig) -> None:
    with pytest.raises(InvalidInputError, match="complex"):
        log_mel_features(torch.zeros(7, features.n_samples), features)
    with pytest.raises(InvalidInputError, match="need 2240"):
        log_mel_features(torch.zeros(7, 100, dtype=torch.complex64), features)
    narrow = FeatureConfig(f_min_hz=0.0, f_max_hz=10.0, mel_bins=128)
    with pytest.raises(ConfigError, match="cover no FFT bin"):
        mel_filterbank(narrow)


def test_the_documented_default_scaling_noise_floor_and_offline_floor() -> None:
    """docs/data.md: thermal noise at NF 6 dB reads about -0.72, a 6 dB weaker receiver reads
    0.24 lower, and the offline floor -5 stands for -275 dBm/Hz, far below any live reading."""
    config = FeatureConfig()
    density_mw_per_hz = 10 ** ((-174.0 + 6.0) / 10.0)
    generator = torch.Generator().manual_seed(5)
    samples = (1, 3, config.n_samples)
    noise = torch.complex(
        torch.randn(samples, generator=generator), torch.randn(samples, generator=generator)
    )
    iq = noise * math.sqrt(density_mw_per_hz * config.sample_rate_hz / 2.0)
    scaled = log_mel_features(iq, config)
    # the mean of log10 of an averaged periodogram sits a little below the log of its mean
    assert -0.80 < float(scaled.mean()) < -0.70
    assert 6.0 / config.scale_span_db == pytest.approx(0.24)
    assert float(scaled_to_psd_dbm_per_hz(torch.tensor(config.offline_floor), config)) == -275.0
    assert float(scaled.min()) > config.offline_floor + 1.0
