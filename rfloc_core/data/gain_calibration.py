"""Receiver gain offsets estimated from labelled transmissions: RSS at known positions.

Under the log-distance model a station ``i`` hearing transmission ``j`` reads

    rss_ij = P_j - 10 n log10(d_ij / 1 m) + g_i + e_ij

with ``P_j`` the unknown received power at 1 m of transmission ``j``, ``g_i`` the station's
gain offset and ``e_ij`` shadowing. With the positions known this is linear in (P, g, n).
Subtracting each transmission's mean over the stations that heard it removes every ``P_j``
(the within transform), which leaves a least-squares problem in the R gains (and the exponent,
when fitted) alone, of one row per reading. A common offset of all gains cannot be told apart
from the transmit powers, so the gains are returned with mean zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import torch

from rfloc_core.data.channel import MIN_DISTANCE_M
from rfloc_core.errors import InvalidInputError

if TYPE_CHECKING:
    from rfloc_core.data.scenario import ScenarioConfig


class CalibrationSet(Protocol):
    """Labelled transmissions: a ``DiskDataset`` or a ``SyntheticDataset``."""

    scenario: ScenarioConfig

    def __len__(self) -> int: ...

    def batch(self, indices: Sequence[int]) -> dict[str, torch.Tensor]: ...


@dataclass(frozen=True)
class GainCalibration:
    gain_offsets_db: tuple[float, ...]
    """Each station's estimated gain offset, dB, with mean zero over the stations."""
    path_loss_exponent: float
    """The exponent used: fitted, or the one given."""
    exponent_fitted: bool
    transmissions: int
    """Transmissions that at least two stations heard, which are the ones that inform."""
    readings_per_station: tuple[int, ...]
    residual_rms_db: float
    """RMS of the readings' residuals after the fit, dB: the shadowing left over."""


def estimate_gain_offsets(
    rss_dbm: torch.Tensor,
    heard: torch.Tensor,
    transmitter_m: torch.Tensor,
    receivers_enu_m: torch.Tensor,
    *,
    path_loss_exponent: float | None,
    transmitter_up_m: float = 0.0,
) -> GainCalibration:
    """Gain offsets (dB) of ``R`` stations from ``N`` labelled transmissions.

    ``rss_dbm`` ``(N, R)`` measured power, dBm; ``heard`` ``(N, R)`` bool, the readings to use
    (online, and above the noise); ``transmitter_m`` ``(N, 2)`` true east, north in metres;
    ``receivers_enu_m`` ``(R, 3)`` metres. ``path_loss_exponent`` None fits it too.
    """
    rss = torch.as_tensor(rss_dbm, dtype=torch.float64)
    mask = torch.as_tensor(heard, dtype=torch.bool) & torch.isfinite(rss)
    truth = torch.as_tensor(transmitter_m, dtype=torch.float64)
    receivers = torch.as_tensor(receivers_enu_m, dtype=torch.float64)
    if rss.ndim != 2 or mask.shape != rss.shape or truth.shape != (rss.shape[0], 2):
        raise InvalidInputError(
            f"rss_dbm and heard must be (transmissions, receivers) and transmitter_m "
            f"(transmissions, 2); got {tuple(rss.shape)}, {tuple(mask.shape)} and "
            f"{tuple(truth.shape)}"
        )
    count = rss.shape[1]
    if receivers.shape != (count, 3):
        raise InvalidInputError(
            f"receivers_enu_m must be ({count}, 3) for {count} receivers, got "
            f"{tuple(receivers.shape)}"
        )
    informative = mask.sum(dim=1) >= 2
    rss, mask, truth = rss[informative], mask[informative], truth[informative]
    per_station = mask.sum(dim=0)
    if rss.shape[0] == 0 or bool((per_station == 0).any()):
        silent = [index for index in range(count) if int(per_station[index]) == 0]
        raise InvalidInputError(
            f"gain offsets need every station heard in transmissions that another station "
            f"also heard; stations {silent or 'all'} never were. Record more transmissions "
            "near those stations"
        )
    up = torch.full_like(truth[:, :1], transmitter_up_m)
    distance_m = torch.linalg.vector_norm(
        torch.cat([truth, up], dim=1)[:, None, :] - receivers[None], dim=-1
    ).clamp(min=MIN_DISTANCE_M)
    log_distance = -10.0 * torch.log10(distance_m)
    weight = mask.to(torch.float64)
    per_transmission = weight.sum(dim=1, keepdim=True)

    def within(values: torch.Tensor) -> torch.Tensor:
        """``values`` minus its mean over the stations that heard each transmission."""
        mean = (values * weight).sum(dim=1, keepdim=True) / per_transmission
        return values - mean

    indicator = torch.eye(count, dtype=torch.float64).expand(rss.shape[0], -1, -1)
    indicator_mean = (indicator * weight[..., None]).sum(dim=1, keepdim=True) / per_transmission[
        ..., None
    ]
    columns = [indicator - indicator_mean]
    target = rss.clone()
    if path_loss_exponent is None:
        columns.append(within(log_distance)[..., None])
    else:
        target = target - path_loss_exponent * log_distance
    design = torch.cat(columns, dim=-1)[mask]
    solution = torch.linalg.lstsq(design, within(target)[mask][:, None], driver="gelsd").solution
    gains = solution[:count, 0]
    gains = gains - gains.mean()
    exponent = float(solution[count, 0]) if path_loss_exponent is None else path_loss_exponent
    residual = within(rss - exponent * log_distance) - (within(gains.expand_as(rss)))
    residual_rms = float(residual[mask].square().mean().sqrt())
    return GainCalibration(
        gain_offsets_db=tuple(float(g) for g in gains),
        path_loss_exponent=exponent,
        exponent_fitted=path_loss_exponent is None,
        transmissions=int(rss.shape[0]),
        readings_per_station=tuple(int(c) for c in per_station),
        residual_rms_db=residual_rms,
    )


NOISE_MARGIN_DB = 6.0
"""Readings count only this far above the station's thermal noise in the channel, where the
noise the measurement subtracts no longer biases them."""


def calibrate_dataset(
    dataset: CalibrationSet, *, fit_exponent: bool = False, samples: int | None = None
) -> GainCalibration:
    """Gain offsets of a stored or simulated set's fixed network, from its first ``samples``
    labelled transmissions (all with None): its measured RSS, online flags and true positions.
    """
    from rfloc_core.data.channel import thermal_noise_density_dbm_per_hz
    from rfloc_core.data.geometry import receivers_enu_m

    scenario = dataset.scenario
    if scenario.random_network is not None:
        raise InvalidInputError(
            f"scenario {scenario.name!r} draws a new network for every sample, so no station "
            "has a gain to estimate; calibrate a dataset of a fixed network"
        )
    hardware = scenario.receiver_hardware
    floor_dbm = thermal_noise_density_dbm_per_hz(hardware.noise_figure_db) + 10.0 * math.log10(
        hardware.bandwidth_hz
    )
    count = len(dataset) if samples is None else min(samples, len(dataset))
    items = dataset.batch(range(count))
    rss = items["measured_rss_dbm"].to(torch.float64)
    if bool(rss.isnan().any()):
        raise InvalidInputError(
            "this dataset holds no measured RSS (an older rfloc wrote it); regenerate it"
        )
    heard = items["online"] & (rss > floor_dbm + NOISE_MARGIN_DB)
    return estimate_gain_offsets(
        rss,
        heard,
        items["position_m"].to(torch.float64),
        torch.as_tensor(receivers_enu_m(scenario), dtype=torch.float64),
        path_loss_exponent=None if fit_exponent else scenario.propagation.path_loss_exponent,
        transmitter_up_m=scenario.area.transmitter_up_m,
    )


def calibrated_scenario(scenario: ScenarioConfig, calibration: GainCalibration) -> ScenarioConfig:
    """``scenario`` with each station's ``gain_offset_db`` set to its estimate, and the
    exponent where it was fitted: the network as the estimators should assume it."""
    receivers = tuple(
        receiver.model_copy(update={"gain_offset_db": round(gain, 3)})
        for receiver, gain in zip(scenario.receivers, calibration.gain_offsets_db, strict=True)
    )
    update: dict[str, object] = {
        "receivers": receivers,
        "name": f"{scenario.name}-calibrated",
        "description": f"{scenario.name} with gain offsets estimated by rfloc calibrate-gains",
    }
    if calibration.exponent_fitted:
        update["propagation"] = scenario.propagation.model_copy(
            update={"path_loss_exponent": round(calibration.path_loss_exponent, 4)}
        )
    from rfloc_core.data.scenario import ScenarioConfig
    from rfloc_core.data.validation import validate_config

    calibrated = scenario.model_copy(update=update).model_dump(mode="json")
    return validate_config(ScenarioConfig, calibrated, "the calibrated scenario")
