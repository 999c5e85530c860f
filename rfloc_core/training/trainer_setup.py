"""The Lightning side of a run: the trainer, its early stopping, and the checks of the
hardware settings and the resume state before anything starts."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path

import lightning
import torch
from lightning.pytorch.callbacks import EarlyStopping, RichProgressBar

from rfloc_core.data.errors import ConfigError
from rfloc_core.errors import first_line
from rfloc_core.training.callbacks import AtomicCheckpointIO
from rfloc_core.training.config import TrainConfig
from rfloc_core.training.module import MONITOR
from rfloc_core.training.run import RunFolderError, resolve_precision


def check_resume_state(path: Path) -> None:
    """The resume state must load as weights only, as Lightning will load it: a file that was
    changed, truncated or replaced is one line before any training starts."""
    import pickle

    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as error:
        raise RunFolderError(
            f"{path} cannot be loaded as weights only ({first_line(error)[:200]}): it was "
            "changed, cut short or replaced after rfloc saved it; start the run again without "
            "--resume, in a new --run-dir"
        ) from None


def patience_callback(config: TrainConfig) -> EarlyStopping | None:
    if config.validate_every_steps and config.early_stopping_patience_steps:
        validations = math.ceil(config.early_stopping_patience_steps / config.validate_every_steps)
        return EarlyStopping(MONITOR, patience=validations, mode="min")
    if not config.validate_every_steps and config.early_stopping_patience_epochs:
        return EarlyStopping(MONITOR, patience=config.early_stopping_patience_epochs, mode="min")
    return None


@contextlib.contextmanager
def lightning_settings(config: TrainConfig) -> Iterator[None]:
    """Lightning's refusals of the hardware settings, as one ``ConfigError`` naming them."""
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    try:
        yield
    except (MisconfigurationException, ValueError, RuntimeError) as error:
        settings = (
            f"accelerator={config.accelerator!r}, devices={config.devices!r}, "
            f"num_nodes={config.num_nodes}, strategy={config.strategy!r}, "
            f"precision={config.precision!r}"
        )
        raise ConfigError(
            f"the fields {settings} do not fit this machine or each other: "
            f"{first_line(error)}; `accelerator=cpu` always works, `auto` picks what is there"
        ) from None


class StepBudgetProgressBar(RichProgressBar):
    """Lightning's progress bar, but a run with a step budget (``max_epochs`` -1) reads
    "Epoch 3, 2,400 steps in all" where Lightning writes "Epoch 3/-2"."""

    def _get_train_description(self, current_epoch: int) -> str:
        max_epochs = self.trainer.max_epochs
        if max_epochs is not None and max_epochs >= 0:
            return super()._get_train_description(current_epoch)
        description = f"Epoch {current_epoch}, {self.trainer.max_steps:,} steps in all"
        return f"{description:{len(self.validation_description)}}"


def make_trainer(
    config: TrainConfig,
    run_dir: Path,
    callbacks: list[lightning.Callback],
    by_steps: bool,
    progress: bool,
) -> lightning.Trainer:
    return lightning.Trainer(
        max_epochs=-1 if config.max_steps else config.epochs,
        max_steps=config.max_steps or -1,
        val_check_interval=config.validate_every_steps if by_steps else None,
        check_val_every_n_epoch=None if by_steps else 1,
        gradient_clip_val=config.gradient_clip_norm or None,
        accelerator=config.accelerator,
        devices=config.devices,
        num_nodes=config.num_nodes,
        strategy=config.strategy,
        precision=resolve_precision(config.precision, config.accelerator),  # type: ignore[arg-type]
        callbacks=[*callbacks, StepBudgetProgressBar()] if progress else callbacks,
        logger=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
        enable_progress_bar=progress,
        enable_model_summary=progress,
        plugins=[AtomicCheckpointIO()],
        use_distributed_sampler=False,
        default_root_dir=run_dir,
    )
