"""σ-scaling of a trained checkpoint on the validation set (``TrainConfig.calibrate_uncertainty``).

The best checkpoint's predicted uncertainty is scaled by the one factor that minimises the
validation NLL (``rfloc_core.heads.calibration``); the factor goes into its head options as
``sigma_scale``, so every later load, export and prediction carries it, and the positions stay
as they were. Only the core's heads take ``sigma_scale``; a checkpoint with another head is
left unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from rfloc_core.checkpoint import load_checkpoint, save_checkpoint
from rfloc_core.data.datasets import Item
from rfloc_core.data.metrics import gaussian_calibration
from rfloc_core.heads._base import ScaledHead
from rfloc_core.heads.calibration import fit_sigma_scale, has_lengths, scale_lengths
from rfloc_core.heads.moments import predictive_covariance_m2
from rfloc_core.model import LocalizationNet, ReceiverSetNet
from rfloc_core.model.inputs import model_inputs
from rfloc_core.registry._loading import INTERNAL_PLUGIN

CALIBRATION_KEY = "uncertainty_calibration"
"""Where a calibrated checkpoint's ``extra`` records the fit."""


class BatchedDataset(Protocol):
    def __len__(self) -> int: ...

    def batch(self, indices: Sequence[int]) -> Item: ...


@dataclass(frozen=True)
class UncertaintyCalibration:
    """The fit on the validation set: the factor applied, the head's ``sigma_scale`` after it,
    and the mean NLL and 1σ/2σ coverage before and after (ideal coverage 0.393 and 0.865)."""

    factor: float
    sigma_scale: float
    samples: int
    nll_before: float
    nll_after: float
    inside_1sigma_before: float | None
    inside_1sigma_after: float | None
    inside_2sigma_before: float | None
    inside_2sigma_after: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@torch.no_grad()
def predict(
    model: LocalizationNet | ReceiverSetNet, dataset: BatchedDataset, batch_size: int = 256
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The model's outputs (float64) on every sample of ``dataset``, and the true positions
    (N, 2) in metres."""
    model = model.eval()
    parts: dict[str, list[torch.Tensor]] = {}
    for begin in range(0, len(dataset), batch_size):
        items = dataset.batch(range(begin, min(begin + batch_size, len(dataset))))
        outputs = model(*model_inputs(model, items))
        for name, value in [*outputs.items(), ("truth_m", items["position_m"])]:
            parts.setdefault(name, []).append(value.to(torch.float64))
    joined = {name: torch.cat(values) for name, values in parts.items()}
    return joined, joined.pop("truth_m")


def _coverage(
    outputs: dict[str, torch.Tensor], truth_m: torch.Tensor
) -> tuple[float | None, float | None]:
    """Fractions of truths inside the 1σ and 2σ ellipses."""
    covariance = predictive_covariance_m2(outputs)
    if covariance is None:
        return None, None
    summary = gaussian_calibration(outputs["position_m"], truth_m, covariance)
    return summary.inside_1sigma, summary.inside_2sigma


def calibrate_checkpoint(folder: Path, dataset: BatchedDataset) -> UncertaintyCalibration | None:
    """Fit σ-scaling of the checkpoint in ``folder`` on ``dataset`` and save it there; None
    (and the checkpoint untouched) for a head that is not the core's."""
    model, config = load_checkpoint(folder)
    head = model.head
    if config.head_plugin != INTERNAL_PLUGIN or not isinstance(head, ScaledHead):
        return None
    outputs, truth_m = predict(model, dataset)
    if not has_lengths(outputs):
        return None
    fit = fit_sigma_scale(model.nll, outputs, truth_m)
    scaled = scale_lengths(outputs, fit.sigma_scale)
    before, after = _coverage(outputs, truth_m), _coverage(scaled, truth_m)
    sigma_scale = head.sigma_scale * fit.sigma_scale
    calibration = UncertaintyCalibration(
        factor=fit.sigma_scale,
        sigma_scale=sigma_scale,
        samples=fit.samples,
        nll_before=fit.nll_before,
        nll_after=fit.nll_after,
        inside_1sigma_before=before[0],
        inside_1sigma_after=after[0],
        inside_2sigma_before=before[1],
        inside_2sigma_after=after[1],
    )
    head.sigma_scale = sigma_scale
    model.head_options["sigma_scale"] = sigma_scale
    save_checkpoint(
        model,
        folder,
        scenario=config.scenario,
        features=config.features,
        extra=config.extra | {CALIBRATION_KEY: calibration.as_dict()},
    )
    return calibration
