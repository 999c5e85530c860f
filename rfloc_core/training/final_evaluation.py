"""The best checkpoint's evaluation once training ends: on the validation set, and on the test
set where the run names one (``test_data``), each written as a report in the run folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rfloc_core.evaluation.evaluate import evaluate_dataset, evaluate_samples
from rfloc_core.evaluation.report import write_report
from rfloc_core.evaluation.summary import Evaluation
from rfloc_core.training.config import TrainConfig
from rfloc_core.training.sources import TrainingSources

TEST_EVALUATION_DIR = "evaluation-test"


@dataclass(frozen=True)
class FinalEvaluations:
    validation: Evaluation
    test: Evaluation | None


def evaluation_metrics(evaluation: Evaluation, prefix: str = "final") -> dict[str, float]:
    """Figures for MLflow: ``<prefix>_<estimator>_<metric>``."""
    metrics = {f"{prefix}_crb_rmse_m": evaluation.crb_rmse_m}
    for row in evaluation.rows:
        for key, value in row.as_dict().items():
            if isinstance(value, float) and value != float("inf"):
                metrics[f"{prefix}_{row.name}_{key}"] = value
    return metrics


def evaluate_best(
    model: Any,
    config: TrainConfig,
    sources: TrainingSources,
    run_dir: Path,
    evaluation_dir: Path,
    *,
    prior_m: tuple[float, float],
    progress: bool,
) -> FinalEvaluations:
    """The model on the run's validation set (``evaluation_dir``) and test set, if any."""
    context = {"run_dir": str(run_dir), "backbone": config.model.backbone}
    name = f"{config.model.backbone}/{config.model.head}"
    if sources.validation is not None:
        validation, estimates = evaluate_dataset(
            model,
            sources.validation,
            progress=progress,
            context=context | {"data": str(sources.validation.root)},
            prior_position_m=prior_m,
        )
    else:
        validation, estimates = evaluate_samples(
            model,
            sources.scenario,
            sources.features,
            samples=config.val_samples,
            seed=config.seed,
            split="validation",
            progress=progress,
            context=context,
            prior_position_m=prior_m,
        )
    write_report(validation, estimates, evaluation_dir, label=f"{name}, validation set")
    test = None
    if sources.test is not None:
        test, estimates = evaluate_dataset(
            model,
            sources.test,
            progress=progress,
            context=context | {"data": str(sources.test.root)},
            prior_position_m=prior_m,
        )
        write_report(test, estimates, run_dir / TEST_EVALUATION_DIR, label=f"{name}, test set")
    return FinalEvaluations(validation, test)
