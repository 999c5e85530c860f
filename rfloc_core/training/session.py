"""The body of a training run: build, fit with Lightning, evaluate, track, register."""

from __future__ import annotations

import contextlib
import datetime
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning
import torch

from rfloc_core.checkpoint import load_checkpoint, save_checkpoint
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.errors import RflocError, first_line
from rfloc_core.model import create_model
from rfloc_core.registry import get_registry
from rfloc_core.registry._loading import INTERNAL_PLUGIN
from rfloc_core.training.calibrate import calibrate_checkpoint
from rfloc_core.training.callbacks import (
    BEST_DIR,
    BestCheckpoint,
    LearningCurve,
    ResumeState,
    StepTimer,
)
from rfloc_core.training.config import TrainConfig
from rfloc_core.training.data_module import SyntheticDataModule
from rfloc_core.training.final_evaluation import (
    TEST_EVALUATION_DIR,
    evaluate_best,
    evaluation_metrics,
)
from rfloc_core.training.fine_tune import (
    PARENT_KEY,
    ParentCheckpoint,
    freeze,
    load_parent_weights,
    read_parent,
)
from rfloc_core.training.memory_check import check_training_memory
from rfloc_core.training.module import MONITOR, LocalizationModule, module_for
from rfloc_core.training.quiet import lightning_chatter_held_back, quiet_training
from rfloc_core.training.run import (
    EVALUATION_DIR,
    LAST_DIR,
    RUN_JSON,
    RunFolderError,
    TrainResult,
)
from rfloc_core.training.sources import TrainingSources, training_sources
from rfloc_core.training.tracking import (
    RunTracker,
    TrackingCallback,
    environment,
    flatten,
    registered_model_name,
)
from rfloc_core.training.trainer_setup import (
    check_resume_state,
    lightning_settings,
    make_trainer,
    patience_callback,
)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def position_scale_m(scenario: ScenarioConfig) -> float:
    """The heads' output scale for a scenario: half the larger side of its area, so raw
    outputs of order one span the area and the initial uncertainty is of its size."""
    area = scenario.area
    return 0.5 * max(area.east_max_m - area.east_min_m, area.north_max_m - area.north_min_m)


def _lineage_tags(record: dict[str, Any]) -> dict[str, str]:
    """MLflow tags linking a fine-tuning run to the run that made its starting checkpoint."""
    parent = record.get(PARENT_KEY)
    if not parent:
        return {}
    tags = {"parent_checkpoint": parent["path"]}
    if parent.get("mlflow_run_id"):
        tags["parent_run_id"] = parent["mlflow_run_id"]
    return tags


def _model_kwargs(
    config: TrainConfig, scenario: ScenarioConfig, parent: ParentCheckpoint | None
) -> dict[str, Any]:
    """``create_model``'s arguments: the config's, the scales of the scenario (or of the
    parent, whose weights they give meaning to) and the backbone's recipe."""
    kwargs = config.model.create_model_kwargs()
    if parent is not None:
        kwargs["head_options"] = parent.head_options() | kwargs["head_options"]
    kwargs["head_options"].setdefault("position_scale_m", position_scale_m(scenario))
    if config.model.fusion is not None:
        parent_scale_m = parent.receiver_scale_m() if parent is not None else None
        kwargs["receiver_scale_m"] = (
            config.model.receiver_scale_m or parent_scale_m or position_scale_m(scenario)
        )
    registry = get_registry()
    recipe = registry.backbone(config.model.backbone).training
    core_head = registry.head(config.model.head).plugin == INTERNAL_PLUGIN
    if core_head and recipe is not None and recipe.feature_norm is not None:
        kwargs["head_options"].setdefault("feature_norm", recipe.feature_norm)
    return kwargs


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

    sources = training_sources(config)
    scenario, features = sources.scenario, sources.features
    parent = read_parent(config) if config.init_from else None
    resume_state = run_dir / RESUME_DIR / RESUME_STATE
    if resume and not resume_state.is_file():
        raise RunFolderError(
            f"{run_dir} has no resume state ({RESUME_DIR}/{RESUME_STATE}), and it cannot be "
            "started again: its run.json names a process that may still run, or the folder "
            "holds files a run does not write; start a new run in a new --run-dir"
        )
    if resume and launching:
        check_resume_state(resume_state)
    tracker = None
    if launching:
        with lightning_settings(config), quiet_training():
            make_trainer(config, run_dir, [], by_steps=False, progress=False)
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
        if parent is not None:
            record[PARENT_KEY] = parent.record()
        write_run(run_dir, record)
        if tracker is not None and not resume:
            tracker.log_params(flatten(config.model_dump(mode="json")))
            tracker.set_tags(
                environment() | {"run_dir": str(run_dir.resolve())} | _lineage_tags(record)
            )
            tracker.log_artifact(run_dir / RUN_JSON)
    try:
        result = _fit(
            config, run_dir, sources, parent, tracker, resume_state if resume else None, progress
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
        extra=result.extra | {"epoch": trainer.current_epoch, "global_step": trainer.global_step},
    )
    if not best.is_dir():  # no validation ran: the final weights are the best we have
        save_checkpoint(
            module.model,
            best,
            scenario=scenario,
            features=features,
            extra=result.extra,
        )
    calibration = None
    if config.calibrate_uncertainty:
        calibration = calibrate_checkpoint(best, result.data.val_set)  # type: ignore[arg-type]
    model, checkpoint_config = load_checkpoint(best)
    final = evaluate_best(
        model,
        config,
        sources,
        run_dir,
        run_dir / EVALUATION_DIR,
        prior_m=prior_m,
        progress=progress,
    )
    evaluation = final.validation
    name = registered_model_name(checkpoint_config.backbone, checkpoint_config.head)
    version = None
    if tracker is not None:
        metrics = evaluation_metrics(evaluation)
        if final.test is not None:
            metrics |= evaluation_metrics(final.test, "test")
        if calibration is not None:
            metrics |= _calibration_metrics(calibration.as_dict())
        tracker.log_metrics(metrics, step=trainer.current_epoch)
        tracker.log_artifacts(best, "checkpoint")
        tracker.log_artifacts(run_dir / EVALUATION_DIR, "evaluation")
        if final.test is not None:
            tracker.log_artifacts(run_dir / TEST_EVALUATION_DIR, TEST_EVALUATION_DIR)
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
        "datasets": sources.provenance(),
        PARENT_KEY: result.extra.get(PARENT_KEY),
        "test_evaluation": final.test.as_dict() if final.test else None,
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
        test_evaluation=final.test,
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
    extra: dict[str, Any]
    """What every checkpoint of the run records: the prior, the parent, the MLflow run."""


def _fit(
    config: TrainConfig,
    run_dir: Path,
    sources: TrainingSources,
    parent: ParentCheckpoint | None,
    tracker: RunTracker | None,
    resume_state: Path | None,
    progress: bool,
) -> _Fitted | None:
    scenario, features = sources.scenario, sources.features
    torch.manual_seed(config.seed)
    model = create_model(**_model_kwargs(config, scenario, parent))
    frozen = []
    if parent is not None:
        load_parent_weights(model, parent)
        frozen = freeze(model, config.freeze)
    check_training_memory(model, config, features, scenario.n_receivers)
    module = module_for(model, config, feature_span_db=features.scale_span_db)
    module.frozen_modules = frozen
    module.train()
    data = SyntheticDataModule(
        config, scenario, features, train_data=sources.train, val_data=sources.validation
    )
    prior_m = data.train_mean_position_m()
    extra: dict[str, Any] = {"train_mean_position_m": list(prior_m)}
    if parent is not None:
        extra[PARENT_KEY] = parent.record()
    if tracker is not None:
        extra["mlflow_run_id"] = tracker.run_id
    curve, timer = LearningCurve(), StepTimer()
    callbacks: list[lightning.Callback] = [
        ResumeState(run_dir, data.train_batches, config.checkpoint_every_steps),
        BestCheckpoint(
            run_dir,
            MONITOR,
            scenario=scenario.model_dump(mode="json"),
            features=features.model_dump(mode="json"),
            train_config=config.model_dump(mode="json"),
            extra=extra,
        ),
        TrackingCallback(tracker, per_step=config.validate_every_steps > 0),
        curve,
        timer,
    ]
    patience = patience_callback(config)
    if patience is not None:
        callbacks.append(patience)
    by_steps = config.validate_every_steps > 0
    with lightning_chatter_held_back(len({id(m) for part in frozen for m in part.modules()})):
        with lightning_settings(config):
            trainer = make_trainer(config, run_dir, callbacks, by_steps, progress)
        trainer.fit(
            module,
            datamodule=data,
            ckpt_path=str(resume_state) if resume_state else None,
            weights_only=True,
        )
    if not trainer.is_global_zero:
        return None
    return _Fitted(trainer, module, data, curve, timer, prior_m, extra)
