"""The accuracy harness: every backbone trained with one budget and seed on one scenario,
then tested on one held-out test set beside the classical baselines and the Cramér–Rao bound.

A run (model, seed) ends as a ``RunOutcome``: the per-sample errors of the model and of each
baseline on the test set, which is the same for every model and seed (the test split of the
suite's first seed). ``accuracy_rows`` pools a model's seeds into one report row and adds one
reference row per baseline.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from rfloc_core.bench.config import AccuracyProtocol, ReceiverSetProtocol
from rfloc_core.bench.held_out import held_out_outcome, set_model_overrides
from rfloc_core.data.metrics import mahalanobis2, position_errors_m
from rfloc_core.training.quiet import quiet_training

if TYPE_CHECKING:
    from rfloc_core.data.scenario import ScenarioConfig
    from rfloc_core.evaluation.estimates import SampleEstimates
    from rfloc_core.evaluation.summary import Evaluation
    from rfloc_core.training.run import TrainResult


@dataclass(frozen=True)
class RunOutcome:
    """One trained model on the suite's test set; errors in metres, one per sample."""

    model: str
    family: str
    seed: int
    train_seconds: float
    errors_m: list[float]
    mahalanobis2: list[float] | None
    """Squared Mahalanobis distance of each truth from the predicted Gaussian (None: no
    covariance from this head)."""
    nll: list[float]
    crb_rmse_m: float
    baseline_errors_m: dict[str, list[float]]
    steps: int = 0
    """Optimizer steps run."""
    batch_size: int = 0
    learning_rate: float = 0.0
    loss: str = ""
    learning_curve: dict[str, list[Any]] | None = None
    """``steps`` and ``val_error_median_m`` after each validation."""
    train_samples_per_s: float | None = None
    simulated_samples_per_s: float | None = None
    bare_train_samples_per_s: float | None = None
    """Samples/s of a bare PyTorch loop on the same model and batch (``bench.training_rate``);
    None: not measured (a later seed, a receiver-set model, an older outcome)."""
    sigma_scale: float | None = None
    """The σ-scaling factor fitted on the validation set after training (None: not fitted)."""
    fusion: str | None = None
    """A receiver-set model's fusion; None for a fixed-network model."""
    held_out: dict[str, Any] | None = None
    """A receiver-set model on a network no training sample drew (see ``bench.held_out``)."""
    exported: dict[str, dict[str, Any]] | None = None
    """Per backend whose numbers differ from PyTorch's (INT8): ``errors_m``, ``mahalanobis2``
    and ``validation_passed`` of the trained model run through that backend's file."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunOutcome:
        return cls(**data)


def training_overrides(
    model_name: str, protocol: AccuracyProtocol, seed: int, device: torch.device
) -> list[str]:
    """``key=value`` overrides on the suite's training preset: the same budget for all, the
    shared in-memory data, and the backbone's recommended learning rate unless the suite
    fixes one."""
    from rfloc_core.registry import get_registry

    overrides = [
        f"model.backbone={model_name}",
        f"scenario={protocol.scenario}",
        f"epochs={protocol.epochs}",
        f"max_steps={protocol.steps}",
        f"validate_every_steps={protocol.validation_interval_steps()}",
        f"early_stopping_patience_steps={protocol.patience_steps}",
        f"train_samples={protocol.train_samples}",
        f"val_samples={protocol.val_samples}",
        f"seed={seed}",
        "data_in_memory=true",
    ]
    if protocol.batch_size is not None:
        overrides.append(f"batch_size={protocol.batch_size}")
    recipe = get_registry().backbone(model_name).training
    if protocol.learning_rate is not None:
        overrides.append(f"learning_rate={protocol.learning_rate}")
    elif recipe is not None and recipe.learning_rate is not None:
        overrides.append(f"learning_rate={recipe.learning_rate}")
        if recipe.weight_decay is not None:
            overrides.append(f"weight_decay={recipe.weight_decay}")
    if device.type == "cuda":
        overrides += ["accelerator=gpu", "precision=auto"]
    return overrides


def train_model(
    model_name: str,
    protocol: AccuracyProtocol,
    seed: int,
    run_dir: Path,
    *,
    device: torch.device,
    tracking: bool,
    receiver_set: ReceiverSetProtocol | None = None,
) -> TrainResult:
    """Train (or resume, where ``run_dir`` holds resume state) and return the run's result."""
    from rfloc_core.training import load_train_config, train
    from rfloc_core.training.callbacks import RESUME_DIR, RESUME_STATE

    with quiet_training():
        if (run_dir / RESUME_DIR / RESUME_STATE).is_file():
            result = train(run_dir=run_dir, resume=True, progress=False, tracking=tracking)
        else:
            if run_dir.exists():
                shutil.rmtree(run_dir)  # cut short before its first saved state: nothing to keep
            overrides = training_overrides(model_name, protocol, seed, device)
            if receiver_set is not None:
                overrides += set_model_overrides(receiver_set)
            config = load_train_config(protocol.training_preset, overrides)
            result = train(config, run_dir=run_dir, progress=False, tracking=tracking)
    assert result is not None  # the launching process always gets the result
    return result


def estimates_on_test_set(
    checkpoint: Path,
    scenario: ScenarioConfig,
    protocol: AccuracyProtocol,
    prior_position_m: tuple[float, float],
    *,
    device: torch.device,
    data: str | None = None,
    wrap: Callable[[Any], Any] | None = None,
) -> tuple[Evaluation, SampleEstimates]:
    """``checkpoint`` and the baselines on the suite's ``test_samples`` of ``scenario`` (the
    test split of the suite's first seed, the same samples for every model), or on the first
    ``test_samples`` of the dataset folder ``data``; ``wrap`` puts something else (an exported
    file's runtime) in the loaded model's place."""
    from rfloc_core.checkpoint import load_checkpoint
    from rfloc_core.evaluation.evaluate import (
        checkpoint_features,
        evaluate_dataset,
        evaluate_samples,
        open_test_data,
    )

    model, config = load_checkpoint(checkpoint, map_location=str(device))
    model = model.eval() if wrap is None else wrap(model.eval())
    if data is not None:
        return evaluate_dataset(
            model,
            open_test_data(data, config, protocol.test_samples),
            device=str(device),
            prior_position_m=prior_position_m,
        )
    return evaluate_samples(
        model,
        scenario,
        checkpoint_features(config),
        samples=protocol.test_samples,
        seed=protocol.seeds[0],
        split="test",
        device=str(device),
        prior_position_m=prior_position_m,
    )


def evaluate_on_test_set(
    checkpoint: Path,
    protocol: AccuracyProtocol,
    prior_position_m: tuple[float, float],
    *,
    device: torch.device,
    wrap: Callable[[Any], Any] | None = None,
) -> tuple[dict[str, Any], float]:
    """Per-sample outcome fields of ``checkpoint`` (or of what ``wrap`` puts in its place) and
    the baselines (the prior among them) on the test set, and the test set's Cramér–Rao RMSE
    bound (m)."""
    from rfloc_core.data.scenario import load_scenario

    scenario = load_scenario(protocol.scenario)
    evaluation, estimates = estimates_on_test_set(
        checkpoint,
        scenario,
        protocol,
        prior_position_m,
        device=device,
        data=protocol.test_data,
        wrap=wrap,
    )
    truth = estimates.truth_m
    distance2 = None
    if estimates.model_covariance_m2 is not None:
        distance2 = mahalanobis2(
            estimates.model_position_m, truth, estimates.model_covariance_m2
        ).tolist()
    fields = {
        "errors_m": position_errors_m(estimates.model_position_m, truth).tolist(),
        "mahalanobis2": distance2,
        "nll": estimates.model_nll.tolist(),
        "baseline_errors_m": {
            name: position_errors_m(position, truth).tolist()
            for name, position in estimates.baselines_m.items()
        },
    }
    return fields, evaluation.crb_rmse_m


def train_and_test(
    model_name: str,
    family: str,
    protocol: AccuracyProtocol,
    seed: int,
    run_dir: Path,
    *,
    device: torch.device,
    tracking: bool,
    backbone: str | None = None,
    receiver_set: ReceiverSetProtocol | None = None,
    latency_backends: Sequence[str] = (),
) -> RunOutcome:
    """Train ``backbone`` (default ``model_name``; as a receiver-set model with
    ``receiver_set``) and test it; the outcome is named ``model_name``. For the suite's first
    seed, the bare loop's rate on the trained model is measured beside rfloc's (see
    ``bench.training_rate``), and the trained model is tested again through each of
    ``latency_backends`` whose numbers differ from PyTorch's (``bench.exported_accuracy``)."""
    started_s = time.perf_counter()
    result = train_model(
        backbone or model_name,
        protocol,
        seed,
        run_dir,
        device=device,
        tracking=tracking,
        receiver_set=receiver_set,
    )
    train_seconds = time.perf_counter() - started_s
    bare_samples_per_s = None
    if seed == protocol.seeds[0]:
        from rfloc_core.bench.training_rate import trained_model_bare_samples_per_s

        try:
            bare_samples_per_s = trained_model_bare_samples_per_s(result, device=device)
        except Exception:  # a throughput figure missing must not cost the model its accuracy
            bare_samples_per_s = None
    fields, crb_rmse_m = evaluate_on_test_set(
        result.best_checkpoint, protocol, result.prior_position_m, device=device
    )
    exported = None
    if seed == protocol.seeds[0] and receiver_set is None:
        from rfloc_core.bench.exported_accuracy import exported_accuracy

        exported = exported_accuracy(
            result.best_checkpoint, latency_backends, protocol, result.prior_position_m
        )
    held_out = None
    if receiver_set is not None:
        held_out = held_out_outcome(
            result.best_checkpoint, receiver_set, protocol, result.prior_position_m, device=device
        )
    _drop_resume_state(run_dir)
    config, calibration = result.config, result.uncertainty_calibration
    return RunOutcome(
        model=model_name,
        family=family,
        seed=seed,
        train_seconds=train_seconds,
        crb_rmse_m=crb_rmse_m,
        steps=result.steps_completed,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        loss=config.loss if config.loss == "nll" else f"{config.loss}(beta={config.beta:g})",
        learning_curve=result.learning_curve,
        train_samples_per_s=result.train_samples_per_s,
        simulated_samples_per_s=result.simulated_samples_per_s,
        bare_train_samples_per_s=bare_samples_per_s,
        sigma_scale=calibration.sigma_scale if calibration else None,
        fusion=receiver_set.fusion if receiver_set else None,
        held_out=held_out,
        exported=exported,
        **fields,
    )


def _drop_resume_state(run_dir: Path) -> None:
    """A finished run needs no resume state (weights and optimizer moments, the bulk of the
    run folder); its best and last checkpoints stay."""
    from rfloc_core.training.callbacks import RESUME_DIR

    shutil.rmtree(run_dir / RESUME_DIR, ignore_errors=True)
