"""Classical estimators on the same samples: RSS maximum likelihood and weighted centroid.

Both take received signal strengths in dBm, ``(B, receivers)``, and receiver positions in the
ENU frame, one network ``(receivers, 2 or 3)`` or one per sample ``(B, receivers, 2 or 3)``, and
return positions in metres. Offline receivers (``online`` False) are ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rfloc_core.data.channel import MIN_DISTANCE_M, free_space_loss_db
from rfloc_core.data.crb import rss_jacobian
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.errors import InvalidInputError


@dataclass(frozen=True)
class RssEstimate:
    position_m: torch.Tensor
    """(B, 2) east, north in metres."""
    offset_db: torch.Tensor
    """(B,) fitted ``A`` of ``rss = A - 10 n log10(d / 1 m)``: received power at 1 m, dBm."""
    cost_db2: torch.Tensor
    """(B,) sum of squared residuals at the estimate, dB²."""


def _prepare(
    rss_dbm: torch.Tensor, receivers_enu_m: torch.Tensor, online: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    rss = torch.as_tensor(rss_dbm, dtype=torch.float64)
    receivers = torch.as_tensor(receivers_enu_m, dtype=torch.float64).to(rss.device)
    if receivers.shape[-1] == 2:
        receivers = torch.nn.functional.pad(receivers, (0, 1))
    count = receivers.shape[-2]
    if rss.ndim != 2 or rss.shape[1] != count:
        raise InvalidInputError(
            f"rss_dbm must be (batch, {count}) for {count} receivers, got {tuple(rss.shape)}"
        )
    if receivers.ndim == 3 and receivers.shape[0] != rss.shape[0]:
        raise InvalidInputError(
            f"one network per sample needs receivers (batch, receivers, 2 or 3) with the "
            f"batch of rss_dbm ({rss.shape[0]}), got {tuple(receivers.shape)}"
        )
    weight = torch.ones_like(rss) if online is None else online.to(rss.device, torch.float64)
    return rss, receivers, weight


def _distance_m(points_m: torch.Tensor, receivers: torch.Tensor, up_m: float) -> torch.Tensor:
    """``(..., R)`` 3-D distances from ``(..., 2)`` points at height ``up_m``."""
    up = torch.full_like(points_m[..., :1], up_m)
    delta = torch.cat([points_m, up], dim=-1)[..., None, :] - receivers
    distance_m: torch.Tensor = torch.linalg.vector_norm(delta, dim=-1).clamp(min=MIN_DISTANCE_M)
    return distance_m


def _concentrated(
    rss: torch.Tensor, weight: torch.Tensor, distance_m: torch.Tensor, exponent: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Best offset ``A`` and the weighted cost for each candidate distance set."""
    corrected = rss + 10.0 * exponent * torch.log10(distance_m)
    offset = (corrected * weight).sum(-1) / weight.sum(-1).clamp(min=1.0)
    cost = ((corrected - offset[..., None]).square() * weight).sum(-1)
    return offset, cost


def _default_box(receivers: torch.Tensor) -> tuple[float, float, float, float]:
    flat = receivers.reshape(-1, receivers.shape[-1])
    low, high = flat[:, :2].min(dim=0).values, flat[:, :2].max(dim=0).values
    margin = 0.5 * (high - low)
    return (
        float(low[0] - margin[0]),
        float(high[0] + margin[0]),
        float(low[1] - margin[1]),
        float(high[1] + margin[1]),
    )


def rss_mle(
    rss_dbm: torch.Tensor,
    receivers_enu_m: torch.Tensor,
    path_loss_exponent: float,
    *,
    online: torch.Tensor | None = None,
    search_box_m: tuple[float, float, float, float] | None = None,
    grid_points: int = 48,
    iterations: int = 25,
    transmitter_up_m: float = 0.0,
    chunk: int = 256,
) -> RssEstimate:
    """Maximum-likelihood position with unknown transmit power (i.i.d. log-normal shadowing).

    A grid search over ``search_box_m`` = (east_min, east_max, north_min, north_max) in metres
    (default: the receivers' bounding box grown by half its size on each side) with the
    power concentrated out, then Levenberg-Marquardt-damped Gauss-Newton on (x, y, A).
    """
    rss, receivers, weight = _prepare(rss_dbm, receivers_enu_m, online)
    east_min, east_max, north_min, north_max = search_box_m or _default_box(receivers)
    grid_e = torch.linspace(east_min, east_max, grid_points, dtype=torch.float64)
    grid_n = torch.linspace(north_min, north_max, grid_points, dtype=torch.float64)
    grid = torch.cartesian_prod(grid_e, grid_n).to(rss.device)
    shared = receivers.ndim == 2
    grid_distance_m = _distance_m(grid, receivers, transmitter_up_m)[None] if shared else None
    starts = []
    for begin in range(0, rss.shape[0], chunk):
        part = slice(begin, begin + chunk)
        distance_m = (
            grid_distance_m
            if grid_distance_m is not None
            else _distance_m(grid[None], receivers[part, None], transmitter_up_m)
        )
        _, cost = _concentrated(
            rss[part, None, :], weight[part, None, :], distance_m, path_loss_exponent
        )
        starts.append(grid[cost.argmin(dim=1)])
    position = torch.cat(starts) if starts else torch.zeros(0, 2, dtype=torch.float64)
    return _gauss_newton(
        rss, receivers, weight, position, path_loss_exponent, iterations, transmitter_up_m
    )


def _gauss_newton(
    rss: torch.Tensor,
    receivers: torch.Tensor,
    weight: torch.Tensor,
    position: torch.Tensor,
    exponent: float,
    iterations: int,
    up_m: float,
) -> RssEstimate:
    offset, cost = _concentrated(rss, weight, _distance_m(position, receivers, up_m), exponent)
    damping = torch.full_like(cost, 1e-3)
    eye = torch.eye(3, dtype=torch.float64, device=rss.device)
    for _ in range(iterations):
        distance_m = _distance_m(position, receivers, up_m)
        residual = rss - (offset[:, None] - 10.0 * exponent * torch.log10(distance_m))
        jacobian = rss_jacobian(position, receivers, exponent, up_m) * weight[..., None]
        normal = jacobian.transpose(1, 2) @ jacobian
        scale = torch.diagonal(normal, dim1=1, dim2=2).clamp(min=1e-12)
        damped = normal + damping[:, None, None] * torch.diag_embed(scale) + 1e-12 * eye
        gradient = (jacobian.transpose(1, 2) @ (residual * weight)[..., None])[..., 0]
        step = torch.linalg.solve(damped, gradient)
        trial_position = position + step[:, :2]
        trial_offset, trial_cost = _concentrated(
            rss, weight, _distance_m(trial_position, receivers, up_m), exponent
        )
        better = trial_cost < cost
        position = torch.where(better[:, None], trial_position, position)
        offset = torch.where(better, trial_offset, offset)
        cost = torch.where(better, trial_cost, cost)
        damping = torch.where(better, damping / 3.0, damping * 4.0).clamp(1e-9, 1e9)
    return RssEstimate(position_m=position, offset_db=offset, cost_db2=cost)


def offset_to_tx_power_dbm(offset_db: torch.Tensor, scenario: ScenarioConfig) -> torch.Tensor:
    """Transmit power (dBm) from the fitted ``A``, with the scenario's path-loss model."""
    propagation = scenario.propagation
    d0_m = propagation.reference_distance_m
    loss_d0_db = float(free_space_loss_db(d0_m, scenario.carrier_frequency_hz))
    return offset_db + loss_d0_db - 10.0 * propagation.path_loss_exponent * math.log10(d0_m)


def weighted_centroid(
    rss_dbm: torch.Tensor,
    receivers_enu_m: torch.Tensor,
    path_loss_exponent: float,
    *,
    online: torch.Tensor | None = None,
    distance_power: float = 1.0,
) -> torch.Tensor:
    """``(B, 2)`` metres: receivers weighted by ``1 / d^distance_power``, ``d`` from the RSS.

    Under the log-distance model ``d_i ∝ 10^(-rss_i / (10 n))``, so the weights are
    ``10^(distance_power * rss_i / (10 n))``, computed stably relative to the strongest receiver.
    """
    rss, receivers, weight = _prepare(rss_dbm, receivers_enu_m, online)
    masked = torch.where(weight > 0, rss, torch.full_like(rss, -math.inf))
    log_weight = masked * (distance_power * math.log(10.0) / (10.0 * path_loss_exponent))
    normalised = torch.softmax(log_weight, dim=1)
    centroid: torch.Tensor = (normalised.unsqueeze(1) @ receivers[..., :2]).squeeze(1)
    return centroid


def measure_rss_dbm(
    iq: torch.Tensor,
    sample_rate_hz: float,
    bandwidth_hz: float,
    noise_density_dbm_per_hz: float,
) -> torch.Tensor:
    """``(..., receivers)`` signal power in the channel (dBm) measured from IQ in sqrt(mW).

    Sums the periodogram over ``|f| <= bandwidth_hz / 2`` around the carrier and subtracts the
    expected thermal noise there (``noise_density * bandwidth``). A burst present for part of
    the window reads low by the same amount at every receiver, which the unknown-power
    estimators absorb.
    """
    n = iq.shape[-1]
    spectrum = torch.fft.fft(iq.to(torch.complex64), dim=-1)
    frequency_hz = torch.fft.fftfreq(n, d=1.0 / sample_rate_hz).to(iq.device)
    in_band = (frequency_hz.abs() <= bandwidth_hz / 2.0).to(torch.float32)
    band_power_mw = (spectrum.abs().square() * in_band).sum(-1).to(torch.float64) / n**2
    noise_mw = 10.0 ** (noise_density_dbm_per_hz / 10.0) * float(in_band.sum()) * sample_rate_hz / n
    return 10.0 * torch.log10((band_power_mw - noise_mw).clamp(min=1e-30))
