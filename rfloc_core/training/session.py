"""The body of a training run: build, fit with Lightning, evaluate, track, register."""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning
import torch
from lightning.pytorch.callbacks import EarlyStopping

from rfloc_core.checkpoint import load_checkpoint, save_checkpoint
from rfloc_core.data.errors import ConfigError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import ScenarioConfig, load_scenario
from rfloc_core.errors import RflocError, first_line
from rfloc_core.evaluation.evaluate import evaluate_samples
from rfloc_core.evaluation.report import write_report
from rfloc_core.evaluation.summary import Evaluation
from rfloc_core.model import create_model
from rfloc_core.registry import get_registry
from rfloc_core.registry._loading import INTERNAL_PLUGIN
from rfloc_core.training.calibrate import calibrate_checkpoint
from rfloc_core.training.callbacks import (
    BEST_DIR,
    AtomicCheckpointIO,
    BestCheckpoint,
    LearningCurve,
    ResumeState,
    StepTimer,
)
from rfloc_core.training.config import TrainConfig
from rfloc_core.training.data_module import SyntheticDataModule
from rfloc_core.training.memory_check import check_training_memory
from rfloc_core.training.module import MONITOR, LocalizationModule
from rfloc_core.training.quiet import quiet_training
from rfloc_core.training.run import (
    EVALUATION_DIR,
    LAST_DIR,
    RUN_JSON,
    RunFolderError,
    TrainResult,
    resolve_precision,
)
from rfloc_core.training.tracking import (
    RunTracker,
    TrackingCallback,
    environment,
    flatten,
    registered_model_name,
)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def position_scale_m(scenario: ScenarioConfig) -> float:
    """The heads' output scale for a scenario: half the larger side of its area, so raw
    outputs of order one span the area and the initial uncertainty is of its size."""
    area = scenario.area
    return 0.5 * max(area.east_max_m - area.east_min_m, area.north_max_m - area.north_min_m)


def _evaluation_metrics(evaluation: Evaluation) -> dict[str, float]:
    """Final figures for MLflow: ``final_<estimator>_<metric>``."""
    metrics = {"final_crb_rmse_m": evaluation.crb_rmse_m}
    for row in evaluation.rows:
        for key, value in row.as_dict().items():
            if isinstance(value, float) and value != float("inf"):
                metrics[f"final_{row.name}_{key}"] = value
    return metrics


def _calibration_metrics(calibration: dict[str, Any]) -> dict[str, float]:
    """The σ-scaling fit for MLflow: ``calibration_<field>``."""
    return {
        f"calibration_{key}": float(value)
        for key, value in calibration.items()
        if isinstance(value, int | float)
    }


def run_training(
    config: TrainConfig,
    run_dir: Path,
    *,
    stored: dict[str, Any],
    resume: bool,
    launching: bool,
    progress: bool,
    tracking: bool,
    write_run: Callable[[Path, dict[str, Any]], None],
) -> TrainResult | None:
    from rfloc_core.training.callbacks import RESUME_DIR, RESUME_STATE

    scenario = load_scenario(config.scenario)
    mel_bins, frames = config.model.input_size.as_tuple()
    features = FeatureConfig(mel_bins=mel_bins, frames=frames)
    resume_state = run_dir / RESUME_DIR / RESUME_STATE
    if resume and not resume_state.is_file():
        raise RunFolderError(
            f"{run_dir} has no resume state ({RESUME_DIR}/{RESUME_STATE}), and it cannot be "
            "started again: its run.json names a process that may still run, or the folder "
            "holds files a run does not write; start a new run in a new --run-dir"
        )
    if resume and launching:
        _check_resume_state(resume_state)
    tracker = None
    if launching:
        with _lightning_settings(config), quiet_training():
            _trainer(config, run_dir, [], by_steps=False, progress=False)
        if tracking:
            tracker = RunTracker.start(
                run_name=run_dir.name,
                experiment=config.experiment,
                resume_run_id=stored.get("mlflow_run_id") if resume else None,
            )
        record = stored or {"config": config.model_dump(mode="json"), "started_utc": _now()}
        record |= {
            "status": "running",
            "run_dir": str(run_dir),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }
        if tracker is not None:
            record |= {"mlflow_run_id": tracker.run_id, "tracking_uri": tracker.tracking_uri}
        write_run(run_dir, record)
        if tracker is not None and not resume:
            tracker.log_params(flatten(config.model_dump(mode="json")))
            tracker.set_tags(environment() | {"run_dir": str(run_dir.resolve())})
            tracker.log_artifact(run_dir / RUN_JSON)
    try:
        result = _fit(
            config, run_dir, scenario, features, tracker, resume_state if resume else None, progress
        )
    except BaseException as error:
        if launching:
            reason = "interrupted" if isinstance(error, KeyboardInterrupt) else first_line(error)
            write_run(run_dir, record | {"status": "failed", "error": reason})
        if tracker is not None:
            with contextlib.suppress(RflocError):
                tracker.finish("FAILED")
        raise
    if result is None:
        return None
    trainer, module, prior_m = result.trainer, result.module, result.prior_m
    best = run_dir / BEST_DIR
    save_checkpoint(
        module.model,
        run_dir / LAST_DIR,
        scenario=scenario,
        features=features,
        extra={
            "epoch": trainer.current_epoch,
            "global_step": trainer.global_step,
            "train_mean_position_m": list(prior_m),
        },
    )
    if not best.is_dir():  # no validation ran: the final weights are the best we have
        save_checkpoint(
            module.model,
            best,
            scenario=scenario,
            features=features,
            extra={"train_mean_position_m": list(prior_m)},
        )
    calibration = None
    if config.calibrate_uncertainty:
        calibration = calibrate_checkpoint(best, result.data.val_set)  # type: ignore[arg-type]
    model, checkpoint_config = load_checkpoint(best)
    evaluation, estimates = evaluate_samples(
        model,
        scenario,
        features,
        samples=config.val_samples,
        seed=config.seed,
        split="validation",
        progress=progress,
        context={"run_dir": str(run_dir), "backbone": config.model.backbone},
        prior_position_m=prior_m,
    )
    label = f"{config.model.backbone}/{config.model.head}, validation set"
    write_report(evaluation, estimates, run_dir / EVALUATION_DIR, label=label)
    name = registered_model_name(checkpoint_config.backbone, checkpoint_config.head)
    version = None
    if tracker is not None:
        metrics = _evaluation_metrics(evaluation)
        if calibration is not None:
            metrics |= _calibration_metrics(calibration.as_dict())
        tracker.log_metrics(metrics, step=trainer.current_epoch)
        tracker.log_artifacts(best, "checkpoint")
        tracker.log_artifacts(run_dir / EVALUATION_DIR, "evaluation")
        version = tracker.register_model(
            name,
            "checkpoint",
            tags={
                "plugin": checkpoint_config.backbone_plugin,
                "plugin_version": checkpoint_config.backbone_plugin_version,
                "scenario": scenario.name,
                "head": checkpoint_config.head,
            },
            description=f"rfloc {checkpoint_config.backbone} backbone with a "
            f"{checkpoint_config.head} head",
        )
        tracker.finish()
    record = (stored or {}) | {
        "config": config.model_dump(mode="json"),
        "status": "finished",
        "finished_utc": _now(),
        "epochs_completed": trainer.current_epoch,
        "steps_completed": trainer.global_step,
        "learning_curve": result.curve.as_dict(),
        "train_samples_per_s": result.timer.samples_per_s,
        "uncertainty_calibration": calibration.as_dict() if calibration else None,
        "best_checkpoint": str(best),
        "registered_model": name if version else None,
        "model_version": version,
    }
    if tracker is not None:
        record |= {"mlflow_run_id": tracker.run_id, "tracking_uri": tracker.tracking_uri}
    write_run(run_dir, record)
    return TrainResult(
        config=config,
        run_dir=run_dir,
        best_checkpoint=best,
        last_checkpoint=run_dir / LAST_DIR,
        evaluation=evaluation,
        epochs_completed=trainer.current_epoch,
        steps_completed=trainer.global_step,
        learning_curve=result.curve.as_dict(),
        train_samples_per_s=result.timer.samples_per_s,
        simulated_samples_per_s=result.data.simulated_samples_per_s,
        prior_position_m=prior_m,
        uncertainty_calibration=calibration,
        mlflow_run_id=tracker.run_id if tracker else None,
        registered_model=name if version else None,
        model_version=version,
    )


@dataclass(frozen=True)
class _Fitted:
    trainer: lightning.Trainer
    module: LocalizationModule
    data: SyntheticDataModule
    curve: LearningCurve
    timer: StepTimer
    prior_m: tuple[float, float]


def _check_resume_state(path: Path) -> None:
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


def _patience_callback(config: TrainConfig) -> EarlyStopping | None:
    if config.validate_every_steps and config.early_stopping_patience_steps:
        validations = math.ceil(config.early_stopping_patience_steps / config.validate_every_steps)
        return EarlyStopping(MONITOR, patience=validations, mode="min")
    if not config.validate_every_steps and config.early_stopping_patience_epochs:
        return EarlyStopping(MONITOR, patience=config.early_stopping_patience_epochs, mode="min")
    return None


def _fit(
    config: TrainConfig,
    run_dir: Path,
    scenario: ScenarioConfig,
    features: FeatureConfig,
    tracker: RunTracker | None,
    resume_state: Path | None,
    progress: bool,
) -> _Fitted | None:
    torch.manual_seed(config.seed)
    kwargs = config.model.create_model_kwargs()
    kwargs["head_options"].setdefault("position_scale_m", position_scale_m(scenario))
    if config.model.fusion is not None:
        kwargs["receiver_scale_m"] = config.model.receiver_scale_m or position_scale_m(scenario)
    registry = get_registry()
    recipe = registry.backbone(config.model.backbone).training
    core_head = registry.head(config.model.head).plugin == INTERNAL_PLUGIN
    if core_head and recipe is not None and recipe.feature_norm is not None:
        kwargs["head_options"].setdefault("feature_norm", recipe.feature_norm)
    model = create_model(**kwargs)
    check_training_memory(model, config, features, scenario.n_receivers)
    module = LocalizationModule(
        model,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_fraction=config.warmup_fraction,
        seed=config.seed,
        loss=config.loss,
        beta=config.beta,
    )
    data = SyntheticDataModule(config, scenario, features)
    prior_m = data.train_mean_position_m()
    curve, timer = LearningCurve(), StepTimer()
    callbacks: list[lightning.Callback] = [
        ResumeState(run_dir, data.train_batches, config.checkpoint_every_steps),
        BestCheckpoint(
            run_dir,
            MONITOR,
            scenario=scenario.model_dump(mode="json"),
            features=features.model_dump(mode="json"),
            train_config=config.model_dump(mode="json"),
            extra={"train_mean_position_m": list(prior_m)},
        ),
        TrackingCallback(tracker, per_step=config.validate_every_steps > 0),
        curve,
        timer,
    ]
    patience = _patience_callback(config)
    if patience is not None:
        callbacks.append(patience)
    by_steps = config.validate_every_steps > 0
    with _lightning_settings(config):
        trainer = _trainer(config, run_dir, callbacks, by_steps, progress)
    trainer.fit(
        module,
        datamodule=data,
        ckpt_path=str(resume_state) if resume_state else None,
        weights_only=True,
    )
    if not trainer.is_global_zero:
        return None
    return _Fitted(trainer, module, data, curve, timer, prior_m)


@contextlib.contextmanager
def _lightning_settings(config: TrainConfig) -> Iterator[None]:
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


def _trainer(
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
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=False,
        num_sanity_val_steps=0,
        enable_progress_bar=progress,
        enable_model_summary=progress,
        plugins=[AtomicCheckpointIO()],
        use_distributed_sampler=False,
        default_root_dir=run_dir,
    )
