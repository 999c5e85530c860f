"""The model and the classical baselines on the same simulated samples, with the bound.

One pass over a dataset's items, simulated or read from disk, feeds the log-mel features to
the model and the RSS each receiver measured from its IQ (``measure_rss_dbm``) to the RSS
maximum-likelihood and weighted-centroid estimators. The Cramér–Rao bound is evaluated at each
true position with the scenario's shadowing covariance (plus calibration error) and that
sample's dropouts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from rfloc_core.data.channel import shadowing_covariance_db2, shadowing_covariance_db2_batched
from rfloc_core.data.crb import rss_crb_covariance_m2
from rfloc_core.data.datasets import Item
from rfloc_core.data.errors import DatasetError
from rfloc_core.data.estimators import rss_mle, weighted_centroid
from rfloc_core.data.geometry import receivers_enu_m
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.heads.moments import predictive_covariance_m2
from rfloc_core.model import LocalizationNet, ReceiverSetNet
from rfloc_core.model.inputs import model_inputs

RSS_MLE = "rss_mle"
RSS_MLE_GAINS = "rss_mle_gains"
"""The RSS MLE on readings corrected by estimated gain offsets (``rfloc calibrate-gains``)."""
WEIGHTED_CENTROID = "weighted_centroid"
PRIOR = "prior"
"""The baseline that knows nothing: the training set's mean position for every sample."""


@dataclass(frozen=True)
class SampleEstimates:
    """Everything per sample, float64 on the CPU; positions are (N, 2) east/north in metres."""

    truth_m: torch.Tensor
    model_position_m: torch.Tensor
    model_covariance_m2: torch.Tensor | None
    model_nll: torch.Tensor
    baselines_m: dict[str, torch.Tensor]
    crb_covariance_m2: torch.Tensor
    receivers_m: torch.Tensor | None
    """(R, 2) receiver east/north in metres; None when every sample has its own network."""


def rss_covariance_db2(
    scenario: ScenarioConfig, receivers_enu_m: torch.Tensor, online: torch.Tensor | None = None
) -> torch.Tensor:
    """Covariance of the RSS errors in dB², shadowing plus independent calibration: ``(R, R)``
    for one network ``(R, 3)``, ``(B, R, R)`` for one per sample ``(B, R, 3)`` (with
    ``online`` ``(B, R)``: slots it does not use are independent)."""
    calibration_db = scenario.receiver_hardware.calibration_error_sigma_db
    if receivers_enu_m.ndim == 2:
        shadowing = shadowing_covariance_db2(receivers_enu_m.numpy(), scenario.propagation)
        total = shadowing + np.eye(shadowing.shape[0]) * calibration_db**2
        return torch.as_tensor(total, dtype=torch.float64)
    eye = torch.eye(receivers_enu_m.shape[-2], dtype=torch.float64)
    present = online if online is not None else torch.ones(receivers_enu_m.shape[:2]).bool()
    per_sample = shadowing_covariance_db2_batched(receivers_enu_m, present, scenario.propagation)
    return per_sample + eye * calibration_db**2


def baseline_positions_m(
    rss_dbm: torch.Tensor,
    online: torch.Tensor,
    scenario: ScenarioConfig,
    receivers_enu_m: torch.Tensor,
    assumed: ScenarioConfig | None = None,
) -> dict[str, torch.Tensor]:
    """The classical estimators' positions, each assuming calibrated receivers; with
    ``assumed`` (a scenario of the same network whose stations carry estimated
    ``gain_offset_db``), also the RSS MLE on readings corrected by those gains, with its
    path-loss exponent."""
    exponent = scenario.propagation.path_loss_exponent
    area = scenario.area
    box = (area.east_min_m, area.east_max_m, area.north_min_m, area.north_max_m)
    up_m = area.transmitter_up_m
    mle = rss_mle(
        rss_dbm, receivers_enu_m, exponent, online=online, search_box_m=box, transmitter_up_m=up_m
    )
    centroid = weighted_centroid(rss_dbm, receivers_enu_m, exponent, online=online)
    positions = {RSS_MLE: mle.position_m, WEIGHTED_CENTROID: centroid}
    if assumed is not None:
        gains_db = torch.tensor([r.gain_offset_db for r in assumed.receivers], dtype=rss_dbm.dtype)
        corrected = rss_mle(
            rss_dbm - gains_db,
            receivers_enu_m,
            assumed.propagation.path_loss_exponent,
            online=online,
            search_box_m=box,
            transmitter_up_m=up_m,
        )
        positions[RSS_MLE_GAINS] = corrected.position_m
    return positions


class EvaluationSet(Protocol):
    """What the estimates are collected over: a ``SyntheticDataset`` or a ``DiskDataset``."""

    scenario: ScenarioConfig

    def __len__(self) -> int: ...

    def batch(self, indices: Sequence[int]) -> Item: ...


def _measured_rss_dbm(items: Item, dataset: EvaluationSet) -> torch.Tensor:
    rss = items["measured_rss_dbm"].to(torch.float64)
    if bool(rss.isnan().any()):
        where = getattr(dataset, "root", "this dataset")
        raise DatasetError(
            f"{where} holds no measured RSS (it was written by an older rfloc), so the "
            "classical estimators cannot run on it; regenerate it with `rfloc simulate`"
        )
    return rss


@torch.no_grad()
def collect_estimates(
    model: LocalizationNet | ReceiverSetNet,
    dataset: EvaluationSet,
    *,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    on_batch: Callable[[int], None] | None = None,
    prior_position_m: tuple[float, float] | None = None,
    assumed_gains: ScenarioConfig | None = None,
) -> SampleEstimates:
    """Run ``model`` and the baselines over every sample of ``dataset``; ``on_batch(n)`` is
    called after each batch of ``n`` samples (for a progress bar). ``prior_position_m`` (the
    training set's mean east, north in metres) adds the ``prior`` baseline; ``assumed_gains``
    (a calibrated scenario of the same network) adds the gain-calibrated RSS MLE."""
    scenario = dataset.scenario
    model = model.to(device).eval()
    per_sample = scenario.random_network is not None
    network_m = torch.as_tensor(receivers_enu_m(scenario), dtype=torch.float64)
    parts: dict[str, list[torch.Tensor]] = {}
    indices = list(range(len(dataset)))
    for begin in range(0, len(indices), batch_size):
        chunk: Sequence[int] = indices[begin : begin + batch_size]
        items = dataset.batch(chunk)
        rss = _measured_rss_dbm(items, dataset)
        online = items["online"].cpu()
        outputs = {k: v.float() for k, v in model(*model_inputs(model, items)).items()}
        truth = items["position_m"].to(torch.float64).cpu()
        if per_sample:  # random networks lie in the frame's horizontal plane
            horizontal_m = items["receivers_m"].to(torch.float64).cpu()
            receivers = torch.nn.functional.pad(horizontal_m, (0, 1))
        else:
            receivers = network_m.expand(len(chunk), -1, -1)
        row = {
            "truth_m": truth,
            "model_position_m": outputs["position_m"],
            "model_nll": model.nll(outputs, truth.to(outputs["position_m"])),
            "online": online,
            "receivers_enu_m": receivers,
        }
        covariance = predictive_covariance_m2(outputs)
        if covariance is not None:
            row["model_covariance_m2"] = covariance
        for name, position in baseline_positions_m(
            rss.cpu(), online, scenario, receivers if per_sample else network_m, assumed_gains
        ).items():
            row[f"baseline:{name}"] = position
        if prior_position_m is not None:
            prior = torch.tensor(prior_position_m, dtype=torch.float64)
            row[f"baseline:{PRIOR}"] = prior.expand(len(chunk), 2)
        for key, value in row.items():
            parts.setdefault(key, []).append(value.detach().cpu())
        if on_batch is not None:
            on_batch(len(chunk))
    joined = {key: torch.cat(values) for key, values in parts.items()}
    floats = {k: v.to(torch.float64) for k, v in joined.items() if k != "online"}
    all_receivers = floats.pop("receivers_enu_m")
    receivers = all_receivers if per_sample else all_receivers[0]
    crb = rss_crb_covariance_m2(
        floats["truth_m"],
        receivers,
        scenario.propagation.path_loss_exponent,
        covariance_db2=rss_covariance_db2(scenario, receivers, joined["online"]),
        online=joined["online"],
        transmitter_up_m=scenario.area.transmitter_up_m,
    )
    return SampleEstimates(
        truth_m=floats["truth_m"],
        model_position_m=floats["model_position_m"],
        model_covariance_m2=floats.get("model_covariance_m2"),
        model_nll=floats["model_nll"],
        baselines_m={
            k.removeprefix("baseline:"): v for k, v in floats.items() if k.startswith("baseline:")
        },
        crb_covariance_m2=crb,
        receivers_m=None if per_sample else receivers[:, :2],
    )
