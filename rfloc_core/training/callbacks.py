"""Callbacks that keep a run's files: resume state, the best checkpoint, an atomic writer.

``RESUME_STATE`` is Lightning's full training state (weights, optimizer, scheduler, loops,
callbacks) written every few steps and at each epoch's end; loading it goes through
``torch.load(weights_only=True)``, which rebuilds tensors and plain containers only and never
runs pickled code. The best model is a plain rfloc checkpoint (safetensors + JSON).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from typing_extensions import override

from rfloc_core.atomic import atomic_path, write_text_atomic
from rfloc_core.checkpoint import save_checkpoint
from rfloc_core.training.sampling import EpochBatches

RESUME_DIR = "resume"
RESUME_STATE = "last.ckpt"
RESUME_POSITION = "position.json"
BEST_DIR = "best"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint IO, but a crash mid-write leaves the previous file intact and
    loading never unpickles code."""

    @override
    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        with atomic_path(path) as temporary:
            torch.save(checkpoint, temporary)

    @override
    def load_checkpoint(
        self,
        path: Any,
        map_location: Callable[..., Any] | None = lambda storage, loc: storage,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        return super().load_checkpoint(path, map_location=map_location, weights_only=True)


class ResumeState(lightning.Callback):
    """Writes ``run_dir/resume/last.ckpt`` every ``every_n_steps`` optimizer steps and after
    each epoch, with ``position.json`` saying where in the data the run stands."""

    def __init__(self, run_dir: Path, train_batches: EpochBatches, every_n_steps: int) -> None:
        self.folder = run_dir / RESUME_DIR
        self.train_batches = train_batches
        self.every_n_steps = every_n_steps
        self.epoch = 0
        self.batches_done = 0

    @property
    def state_path(self) -> Path:
        return self.folder / RESUME_STATE

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "batches_done": self.batches_done}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        epoch, done = int(state_dict["epoch"]), int(state_dict["batches_done"])
        if done >= len(self.train_batches):  # saved at the epoch's end: the next one is due
            epoch, done = epoch + 1, 0
        self.train_batches.set_epoch(epoch)
        self.train_batches.skip_batches = done

    def on_train_epoch_start(
        self, trainer: lightning.Trainer, pl_module: lightning.LightningModule
    ) -> None:
        # Lightning only calls set_epoch on a loader's sampler, not on its batch sampler.
        self.train_batches.set_epoch(trainer.current_epoch)
        self.epoch = trainer.current_epoch
        self.batches_done = self.train_batches.skip_batches

    def on_train_batch_end(
        self,
        trainer: lightning.Trainer,
        pl_module: lightning.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        self.batches_done += 1
        epoch_ends = self.batches_done >= len(self.train_batches)  # saved after validation
        if self.every_n_steps and trainer.global_step % self.every_n_steps == 0 and not epoch_ends:
            self._save(trainer)

    def on_train_epoch_end(
        self, trainer: lightning.Trainer, pl_module: lightning.LightningModule
    ) -> None:
        self._save(trainer)

    def _save(self, trainer: lightning.Trainer) -> None:
        trainer.save_checkpoint(self.state_path, weights_only=False)
        if trainer.is_global_zero:
            position = self.state_dict() | {"global_step": trainer.global_step}
            write_text_atomic(self.folder / RESUME_POSITION, json.dumps(position) + "\n")


class BestCheckpoint(lightning.Callback):
    """Saves the model as an rfloc checkpoint in ``run_dir/best`` whenever ``monitor``
    (a validation metric, lower is better) improves."""

    def __init__(
        self,
        run_dir: Path,
        monitor: str,
        *,
        scenario: dict[str, Any],
        features: dict[str, Any],
        train_config: dict[str, Any],
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.extra = dict(extra or {})
        self.folder = run_dir / BEST_DIR
        self.monitor = monitor
        self.scenario = scenario
        self.features = features
        self.train_config = train_config
        self.best: float | None = None
        self.best_epoch: int | None = None

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best, self.best_epoch = state_dict["best"], state_dict["best_epoch"]

    def on_validation_end(
        self, trainer: lightning.Trainer, pl_module: lightning.LightningModule
    ) -> None:
        if trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        value = float(trainer.callback_metrics[self.monitor])
        if self.best is not None and not value < self.best:
            return
        self.best, self.best_epoch = value, trainer.current_epoch
        if trainer.is_global_zero:
            metrics = {
                k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val_")
            }
            save_checkpoint(
                pl_module.model,  # type: ignore[arg-type]
                self.folder,
                scenario=self.scenario,
                features=self.features,
                extra={
                    "epoch": trainer.current_epoch,
                    "global_step": trainer.global_step,
                    "metrics": metrics,
                    "train_config": self.train_config,
                }
                | self.extra,
            )
        trainer.strategy.barrier("best_checkpoint")


class LearningCurve(lightning.Callback):
    """The validation median error (m) after each validation, against the optimizer step."""

    def __init__(self, metric: str = "val_error_median_m") -> None:
        self.metric = metric
        self.steps: list[int] = []
        self.errors_m: list[float] = []

    def state_dict(self) -> dict[str, Any]:
        return {"steps": list(self.steps), "errors_m": list(self.errors_m)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.steps = [int(step) for step in state_dict["steps"]]
        self.errors_m = [float(error) for error in state_dict["errors_m"]]

    def on_validation_end(
        self, trainer: lightning.Trainer, pl_module: lightning.LightningModule
    ) -> None:
        if trainer.sanity_checking or self.metric not in trainer.callback_metrics:
            return
        if self.steps and self.steps[-1] == trainer.global_step:
            return
        self.steps.append(int(trainer.global_step))
        self.errors_m.append(float(trainer.callback_metrics[self.metric]))

    def as_dict(self) -> dict[str, list[Any]]:
        return {"steps": list(self.steps), "val_error_median_m": list(self.errors_m)}


class StepTimer(lightning.Callback):
    """Wall time spent in training steps (forward, backward, optimizer), without validation,
    checkpoints or data loading."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.samples = 0
        self._started_s: float | None = None

    def on_train_batch_start(
        self,
        trainer: lightning.Trainer,
        pl_module: lightning.LightningModule,
        batch: Any,
        batch_idx: int,
    ) -> None:
        self._started_s = time.perf_counter()

    def on_train_batch_end(
        self,
        trainer: lightning.Trainer,
        pl_module: lightning.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if self._started_s is not None:
            self.seconds += time.perf_counter() - self._started_s
            self.samples += int(batch["features"].shape[0])
            self._started_s = None

    @property
    def samples_per_s(self) -> float | None:
        return self.samples / self.seconds if self.seconds > 0 else None
