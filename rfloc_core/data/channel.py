"""Propagation and receiver physics: path loss, shadowing, multipath taps, thermal noise.

Log-distance model: ``L(d) = FSPL(d0) + 10 n log10(d / d0)`` in dB, where ``FSPL`` is the
free-space loss ``20 log10(4 pi d f / c)`` and ``d0`` the reference distance.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import torch

from rfloc_core.data.scenario import Multipath, Propagation

SPEED_OF_LIGHT_M_PER_S = 299_792_458.0
BOLTZMANN_J_PER_K = 1.380649e-23
REFERENCE_TEMPERATURE_K = 290.0
MIN_DISTANCE_M = 1.0
"""Distances are clamped here so the log-distance model stays finite."""


def free_space_loss_db(distance_m: torch.Tensor | float, carrier_hz: float) -> torch.Tensor:
    distance = torch.as_tensor(distance_m, dtype=torch.float64)
    return 20.0 * torch.log10(4.0 * math.pi * distance * carrier_hz / SPEED_OF_LIGHT_M_PER_S)


def path_loss_db(
    distance_m: torch.Tensor, propagation: Propagation, carrier_hz: float
) -> torch.Tensor:
    """Log-distance path loss in dB at ``distance_m`` (any shape)."""
    d0_m = propagation.reference_distance_m
    at_d0_db = free_space_loss_db(d0_m, carrier_hz).to(distance_m)
    ratio = distance_m.clamp(min=MIN_DISTANCE_M) / d0_m
    return at_d0_db + 10.0 * propagation.path_loss_exponent * torch.log10(ratio)


def thermal_noise_density_dbm_per_hz(noise_figure_db: float) -> float:
    """``kT0 F`` in dBm/Hz (T0 = 290 K): about -174 dBm/Hz plus the noise figure."""
    kt0_mw_per_hz = BOLTZMANN_J_PER_K * REFERENCE_TEMPERATURE_K * 1e3
    return 10.0 * math.log10(kt0_mw_per_hz) + noise_figure_db


def shadowing_cholesky(
    receivers_enu_m: npt.NDArray[np.float64], propagation: Propagation
) -> torch.Tensor:
    """Lower Cholesky factor (float64) of the shadowing covariance in dB².

    Independent shadowing is ``sigma² I``. With a correlation distance ``dc`` the correlation
    between receivers ``i`` and ``j`` is ``exp(-|r_i - r_j| / dc)`` (Gudmundson), which is
    positive definite for distinct receivers. No shadowing gives a zero factor.
    """
    if propagation.shadowing_sigma_db == 0.0:
        return torch.zeros(len(receivers_enu_m), len(receivers_enu_m), dtype=torch.float64)
    covariance = shadowing_covariance_db2(receivers_enu_m, propagation)
    factor: torch.Tensor = torch.linalg.cholesky(torch.as_tensor(covariance, dtype=torch.float64))
    return factor


def shadowing_covariance_db2(
    receivers_enu_m: npt.NDArray[np.float64], propagation: Propagation
) -> npt.NDArray[np.float64]:
    n = receivers_enu_m.shape[0]
    sigma_db = propagation.shadowing_sigma_db
    if propagation.shadowing_correlation_distance_m <= 0.0:
        return np.eye(n) * sigma_db**2
    separation_m = np.linalg.norm(receivers_enu_m[:, None, :] - receivers_enu_m[None], axis=-1)
    correlation = np.exp(-separation_m / propagation.shadowing_correlation_distance_m)
    covariance: npt.NDArray[np.float64] = correlation * sigma_db**2
    return covariance


def shadowing_covariance_db2_batched(
    receivers_enu_m: torch.Tensor, present: torch.Tensor, propagation: Propagation
) -> torch.Tensor:
    """``(B, R, R)`` shadowing covariance in dB² of each sample's own receivers ``(B, R, 3)``,
    as ``shadowing_covariance_db2`` (independent without a correlation distance); slots a
    sample does not use (``present`` False) are independent of the rest, so the matrix stays
    positive definite wherever the shadowing is not zero."""
    sigma_db = propagation.shadowing_sigma_db
    eye = torch.eye(present.shape[-1], dtype=torch.float64).expand(*present.shape, -1)
    if propagation.shadowing_correlation_distance_m <= 0.0:
        return eye * sigma_db**2
    separation_m = torch.cdist(receivers_enu_m, receivers_enu_m)
    correlation = torch.exp(-separation_m / propagation.shadowing_correlation_distance_m)
    both = present.unsqueeze(-1) & present.unsqueeze(-2)
    return torch.where(both, correlation, eye) * sigma_db**2


def shadowing_cholesky_batched(
    receivers_enu_m: torch.Tensor, present: torch.Tensor, propagation: Propagation
) -> torch.Tensor:
    """``(B, R, R)`` lower Cholesky factors of ``shadowing_covariance_db2_batched`` (zero
    without shadowing)."""
    covariance = shadowing_covariance_db2_batched(receivers_enu_m, present, propagation)
    if propagation.shadowing_sigma_db == 0.0:
        return torch.zeros_like(covariance)
    factor: torch.Tensor = torch.linalg.cholesky(covariance)
    return factor


def rms_delay_spread_s(distance_m: torch.Tensor, multipath: Multipath) -> torch.Tensor:
    grown = multipath.delay_spread_s + multipath.delay_spread_per_km_s * distance_m / 1000.0
    return grown.clamp(max=multipath.delay_spread_max_s)


def tap_power_profile(
    delay_spread_s: torch.Tensor, taps: int, sample_rate_hz: float
) -> torch.Tensor:
    """``(..., taps)`` exponential power-delay profile on the sample grid, summing to 1."""
    delay_s = torch.arange(taps, dtype=torch.float64) / sample_rate_hz
    spread = delay_spread_s.to(torch.float64).unsqueeze(-1)
    exponent = -delay_s / spread.clamp(min=1e-15)
    profile = torch.exp(exponent)
    profile = torch.where(spread > 0, profile, (delay_s == 0).to(profile))
    return profile / profile.sum(dim=-1, keepdim=True)


def multipath_taps(
    profile: torch.Tensor,
    rician_k_db: float,
    los_phase_rad: torch.Tensor,
    scattered: torch.Tensor,
) -> torch.Tensor:
    """Complex taps ``(..., taps)`` with ``E[sum |h|²] = 1``.

    The first tap carries the line-of-sight part ``sqrt(K/(K+1)) e^{j phase}``; every tap a
    scattered part ``sqrt(p_k/(K+1)) CN(0, 1)``, where ``scattered`` holds the ``CN(0, 1)``
    draws as ``(..., taps, 2)`` real and imaginary standard normals.
    """
    k_linear = 10.0 ** (rician_k_db / 10.0)
    diffuse = torch.complex(scattered[..., 0], scattered[..., 1]) / math.sqrt(2.0)
    taps = diffuse * torch.sqrt(profile / (k_linear + 1.0))
    los = math.sqrt(k_linear / (k_linear + 1.0)) * torch.polar(
        torch.ones_like(los_phase_rad), los_phase_rad
    )
    taps[..., 0] = taps[..., 0] + los
    return taps
