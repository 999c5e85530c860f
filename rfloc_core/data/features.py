"""IQ -> scaled log-mel spectrogram: one batched torch function for training and recordings.

For each receiver: frames of ``fft_size_samples`` every ``hop_samples`` (no padding), a
periodic Hann window, an FFT, the power spectral density in mW/Hz (Welch normalisation:
``|X|² / (fs * sum(w²))``, so white noise of power ``N`` mW reads ``N / fs`` in every bin),
the average PSD over each mel band, then ``(10 log10(psd) - scale_offset_db) / scale_span_db``.

Mel bands live on the signed baseband offset from the carrier: ``w(f) = sign(f) * 2595 *
log10(1 + |f| / 700)``; ``mel_bins`` triangles are equally spaced in ``w`` between ``f_min_hz``
and ``f_max_hz``, so they are narrowest around the carrier. With ``f_min_hz >= 0`` this is the
familiar audio mel scale. Each FFT bin's weight is the triangle's mean over the bin, and each
band's weights sum to 1 (a flat spectrum reads the same in every band); a band narrower than
a bin therefore repeats its neighbour's value instead of coming out empty.
"""

from __future__ import annotations

import functools

import torch

from rfloc_core.data.errors import ConfigError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.errors import InvalidInputError

_SUBSAMPLES_PER_BIN = 32
_MIN_PSD_MW_PER_HZ = 1e-30
_CPU_CHUNK_ROWS = 16
"""Receivers transformed at once on the CPU: small enough for the intermediates to stay in cache."""


def _warp(frequency_hz: torch.Tensor) -> torch.Tensor:
    return torch.sign(frequency_hz) * 2595.0 * torch.log10(1.0 + frequency_hz.abs() / 700.0)


def _unwarp(warped: torch.Tensor) -> torch.Tensor:
    return torch.sign(warped) * 700.0 * (10.0 ** (warped.abs() / 2595.0) - 1.0)


def fft_bin_frequencies_hz(config: FeatureConfig) -> torch.Tensor:
    """Baseband frequency of each FFT output bin, in FFT (unshifted) order, float64."""
    n = config.fft_size_samples
    frequency_hz: torch.Tensor = torch.fft.fftfreq(
        n, d=1.0 / config.sample_rate_hz, dtype=torch.float64
    )
    return frequency_hz


def mel_filterbank(config: FeatureConfig) -> torch.Tensor:
    """``(mel_bins, fft_size)`` float64 weights in FFT order; each row sums to 1."""
    n, fs_hz = config.fft_size_samples, config.sample_rate_hz
    edges = _unwarp(
        torch.linspace(
            float(_warp(torch.tensor(config.f_min_hz))),
            float(_warp(torch.tensor(config.f_max_hz))),
            config.mel_bins + 2,
            dtype=torch.float64,
        )
    )
    low, centre, high = edges[:-2, None, None], edges[1:-1, None, None], edges[2:, None, None]
    offsets = (torch.arange(_SUBSAMPLES_PER_BIN, dtype=torch.float64) + 0.5) / _SUBSAMPLES_PER_BIN
    points_hz = fft_bin_frequencies_hz(config)[:, None] + (offsets - 0.5) * fs_hz / n
    rising = (points_hz - low) / (centre - low)
    falling = (high - points_hz) / (high - centre)
    weights = torch.minimum(rising, falling).clamp(min=0.0).mean(dim=-1)
    totals = weights.sum(dim=1, keepdim=True)
    empty = torch.nonzero(totals[:, 0] <= 0.0).reshape(-1)
    if empty.numel():
        raise ConfigError(
            f"mel bands {empty.tolist()[:5]} cover no FFT bin between f_min_hz and f_max_hz; "
            "narrow the mel range inside the sampled band or use fewer mel_bins"
        )
    return weights / totals


@functools.lru_cache(maxsize=16)
def _constants(config: FeatureConfig, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    window = torch.hann_window(config.fft_size_samples, periodic=True, dtype=torch.float64)
    psd_per_power = 1.0 / (config.sample_rate_hz * float(window.square().sum()))
    weights = (mel_filterbank(config) * psd_per_power).T.contiguous()
    return (
        window.to(device, torch.float32),
        weights.to(device, torch.float32),
    )


def log_mel_features(
    iq: torch.Tensor, config: FeatureConfig | None = None, online: torch.Tensor | None = None
) -> torch.Tensor:
    """Scaled log-mel features ``(..., receivers, mel_bins, frames)`` float32, on ``iq``'s device.

    ``iq``: ``(..., receivers, samples)`` complex baseband in sqrt(mW), at least
    ``config.n_samples`` long (later samples are ignored). ``online``: optional
    ``(..., receivers)`` bool; offline receivers become ``config.offline_floor`` everywhere.
    """
    config = config or FeatureConfig()
    if not iq.is_complex():
        raise InvalidInputError(
            f"iq must be a complex tensor (..., receivers, samples), got dtype {iq.dtype}; "
            "combine I and Q with torch.complex(i, q)"
        )
    if iq.shape[-1] < config.n_samples:
        raise InvalidInputError(
            f"iq has {iq.shape[-1]} samples per receiver but {config.frames} frames need "
            f"{config.n_samples}; pass a longer recording or lower frames"
        )
    iq = iq[..., : config.n_samples].to(torch.complex64)
    leading = iq.shape[:-1]
    flat = iq.reshape(-1, config.n_samples)
    out = torch.empty(flat.shape[0], config.mel_bins, config.frames, device=iq.device)
    step = _CPU_CHUNK_ROWS if iq.device.type == "cpu" else max(1, flat.shape[0])
    for first in range(0, flat.shape[0], step):
        out[first : first + step] = _scaled_log_mel(flat[first : first + step], config)
    scaled = out.reshape(*leading, config.mel_bins, config.frames)
    if online is not None:
        floor = torch.full((), config.offline_floor, dtype=scaled.dtype, device=scaled.device)
        scaled = torch.where(online.to(scaled.device)[..., None, None], scaled, floor)
    return scaled


def _scaled_log_mel(rows: torch.Tensor, config: FeatureConfig) -> torch.Tensor:
    """``(N, frames, mel_bins)`` scaled values for ``(N, n_samples)`` IQ rows."""
    window, weights = _constants(config, rows.device)
    frames = rows.unfold(-1, config.fft_size_samples, config.hop_samples) * window
    squares = torch.view_as_real(torch.fft.fft(frames)).square()
    psd = torch.matmul(squares[..., 0] + squares[..., 1], weights)
    scaled = psd.clamp_(min=_MIN_PSD_MW_PER_HZ).log10_().mul_(10.0 / config.scale_span_db)
    return scaled.sub_(config.scale_offset_db / config.scale_span_db).transpose(-1, -2)


def scaled_to_psd_dbm_per_hz(scaled: torch.Tensor, config: FeatureConfig) -> torch.Tensor:
    """Invert the fixed affine scaling: PSD in dBm/Hz from model-input values."""
    return scaled * config.scale_span_db + config.scale_offset_db


def psd_dbm_per_hz_to_scaled(psd_dbm_per_hz: float, config: FeatureConfig) -> float:
    return (psd_dbm_per_hz - config.scale_offset_db) / config.scale_span_db
