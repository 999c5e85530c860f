"""``LocalizationModule``: Lightning around a ``LocalizationNet``, trained on the head's NLL.

Validation gathers every prediction (across DDP ranks too) and logs the shared accuracy
metrics once per epoch: error mean, median, p68 and p95 in metres, the mean NLL, and the
fraction of truths inside the 1- and 2-sigma ellipses.
"""

from __future__ import annotations

from typing import Any

import lightning
import torch

from rfloc_core.data.metrics import gaussian_calibration, position_errors_m, summarize_errors
from rfloc_core.data.rng import sample_seed
from rfloc_core.heads.moments import predictive_covariance_m2
from rfloc_core.model import LocalizationNet, ReceiverSetNet
from rfloc_core.model.inputs import model_inputs
from rfloc_core.training.config import LossName, TrainConfig
from rfloc_core.training.loss import training_loss
from rfloc_core.training.schedule import WarmupCosine, warmup_steps_for

STEP_STREAM = 3
"""Stream id seeding torch's global RNG at each step (dropout, drop-path), for exact resume."""

MONITOR = "val_error_mean_m"
"""The validation metric that chooses the best checkpoint and drives early stopping."""


def validation_metrics(
    position_m: torch.Tensor,
    truth_m: torch.Tensor,
    nll: torch.Tensor,
    covariance_m2: torch.Tensor | None,
) -> dict[str, float]:
    """The per-epoch validation metrics, from the shared metrics module."""
    errors = summarize_errors(position_errors_m(position_m, truth_m))
    metrics = {
        "val_error_mean_m": errors.mean_m,
        "val_error_median_m": errors.median_m,
        "val_error_p68_m": errors.p68_m,
        "val_error_p95_m": errors.p95_m,
        "val_error_rmse_m": errors.rmse_m,
        "val_nll": float(nll.to(torch.float64).mean()),
    }
    if covariance_m2 is not None:
        calibration = gaussian_calibration(position_m, truth_m, covariance_m2)
        metrics["val_inside_1sigma"] = calibration.inside_1sigma
        metrics["val_inside_2sigma"] = calibration.inside_2sigma
    return metrics


class LocalizationModule(lightning.LightningModule):
    """AdamW with linear warm-up then cosine decay, stepped every optimizer step.

    ``frozen_modules`` (fine-tuning's frozen part) stay in eval mode while the rest trains."""

    frozen_modules: list[torch.nn.Module]

    def train(self, mode: bool = True) -> LocalizationModule:
        super().train(mode)
        for module in getattr(self, "frozen_modules", []):
            module.eval()
        return self

    def __init__(
        self,
        model: LocalizationNet | ReceiverSetNet,
        *,
        learning_rate: float,
        weight_decay: float,
        warmup_fraction: float,
        seed: int,
        loss: LossName = "nll",
        beta: float = 0.0,
        gain_augmentation_sigma_db: float = 0.0,
        feature_span_db: float = 1.0,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.model = model
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_fraction = warmup_fraction
        self.seed = seed
        self.loss = loss
        self.beta = beta
        self.gain_augmentation_sigma_db = gain_augmentation_sigma_db
        self.feature_span_db = feature_span_db
        """The features' ``scale_span_db``: a gain of g dB shifts a receiver's values by
        g / feature_span_db."""
        self._validation_outputs: list[dict[str, torch.Tensor]] = []
        self.channels_last = channels_last
        """Weights and spectrograms in channels-last memory format: the same numbers, laid out
        so that the CPU's convolution kernels run faster."""
        if channels_last:
            self.model.to(memory_format=torch.channels_last)

    def forward(self, *inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        outputs: dict[str, torch.Tensor] = self.model(*inputs)
        return outputs

    def _outputs_and_nll(
        self, batch: dict[str, torch.Tensor]
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        # Mixed precision computes the backbone in 16 bits; the likelihood stays in float32.
        inputs = model_inputs(self.model, batch)
        if self.channels_last and len(inputs) == 1:
            # A receiver-set model's (B, R, ...) input is not an image: its encoder sees one
            # channel per receiver, where both layouts are the same.
            inputs = (inputs[0].contiguous(memory_format=torch.channels_last),)
        raw = self.model(*inputs)
        outputs = {name: value.float() for name, value in raw.items()}
        return outputs, self.model.nll(outputs, batch["position_m"].float())

    def step_loss(self, batch: dict[str, torch.Tensor], step: int) -> torch.Tensor:
        """The loss of optimizer step ``step`` (see ``rfloc_core.training.loss``), with torch's
        global RNG seeded from (seed, step) so a resumed run draws the same dropout masks."""
        torch.manual_seed(sample_seed(self.seed, step, STEP_STREAM))
        if self.gain_augmentation_sigma_db > 0.0:
            batch = self._with_gain_offsets(batch)
        outputs, nll = self._outputs_and_nll(batch)
        return training_loss(outputs, nll, self.loss, self.beta)

    def _with_gain_offsets(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``batch`` with each online receiver's features shifted by its own normal gain
        offset: the whole recording reading off by g dB moves every log-power value by g.
        Offline receivers keep the floor, which is not a reading."""
        features, online = batch["features"], batch["online"]
        offsets_db = torch.randn(online.shape, device=features.device) * (
            self.gain_augmentation_sigma_db
        )
        shift = (offsets_db / self.feature_span_db) * online.to(features.dtype)
        return batch | {"features": features + shift[..., None, None].to(features.dtype)}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self.step_loss(batch, self.global_step)
        size = batch["features"].shape[0]
        self.log("train_loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=size)
        return loss

    def on_validation_epoch_start(self) -> None:
        self._validation_outputs = []

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        outputs, nll = self._outputs_and_nll(batch)
        covariance = predictive_covariance_m2(outputs)
        row = {"position_m": outputs["position_m"], "truth_m": batch["position_m"], "nll": nll}
        if covariance is not None:
            row["covariance_m2"] = covariance
        self._validation_outputs.append({k: v.detach().to(torch.float64) for k, v in row.items()})

    def on_validation_epoch_end(self) -> None:
        if not self._validation_outputs:
            return
        keys = self._validation_outputs[0].keys()
        local = {k: torch.cat([row[k] for row in self._validation_outputs]) for k in keys}
        self._validation_outputs = []
        if self.trainer.world_size > 1:
            gathered = self.all_gather(local)
            assert isinstance(gathered, dict)
            local = {k: v.flatten(0, 1) for k, v in gathered.items()}
        metrics = validation_metrics(
            local["position_m"], local["truth_m"], local["nll"], local.get("covariance_m2")
        )
        for name, value in metrics.items():
            self.log(name, value, prog_bar=name in (MONITOR, "val_nll"), sync_dist=False)

    def configure_optimizers(self) -> Any:
        decay: list[torch.nn.Parameter] = []
        no_decay: list[torch.nn.Parameter] = []
        for parameter in self.model.parameters():
            if parameter.requires_grad:
                (decay if parameter.ndim >= 2 else no_decay).append(parameter)
        optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": self.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=self.learning_rate,
        )
        total_steps = max(1, int(self.trainer.estimated_stepping_batches))
        factor = WarmupCosine(total_steps, warmup_steps_for(total_steps, self.warmup_fraction))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }


def module_for(
    model: LocalizationNet | ReceiverSetNet, config: TrainConfig, *, feature_span_db: float
) -> LocalizationModule:
    """``model`` in the ``LocalizationModule`` a run of ``config`` trains it with."""
    return LocalizationModule(
        model,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_fraction=config.warmup_fraction,
        seed=config.seed,
        loss=config.loss,
        beta=config.beta,
        gain_augmentation_sigma_db=config.gain_augmentation_sigma_db,
        feature_span_db=feature_span_db,
        channels_last=config.channels_last,
    )
