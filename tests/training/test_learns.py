"""A tiny model on a tiny deterministic task beats the prior within a fixed step budget: the
recipe (input scaling, beta-NLL, the step budget) makes training learn, not just run."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfloc_core.checkpoint import load_checkpoint
from rfloc_core.evaluation.evaluate import recorded_prior_m
from rfloc_core.training import load_train_config, train
from tests.training.toy_run import write_toy_config

STEPS = 150


def test_the_toy_backbone_goes_below_the_prior_within_a_fixed_number_of_steps(
    tmp_path: Path, toy_registry: object
) -> None:
    config = load_train_config(
        write_toy_config(tmp_path),
        [
            "scenario=rss-ideal",
            f"max_steps={STEPS}",
            f"validate_every_steps={STEPS // 3}",
            "train_samples=1200",
            "val_samples=200",
            "data_in_memory=true",
            "checkpoint_every_steps=0",
        ],
    )
    result = train(config, run_dir=tmp_path / "run", progress=False, tracking=False)
    assert result is not None
    assert result.steps_completed == STEPS
    assert result.learning_curve["steps"] == [50, 100, 150]
    _, checkpoint = load_checkpoint(result.best_checkpoint)
    assert checkpoint.extra["train_mean_position_m"] == list(result.prior_position_m)
    assert recorded_prior_m(checkpoint) == result.prior_position_m  # rfloc evaluate's prior
    rows = {row.name: row.errors for row in result.evaluation.rows}
    prior_m, model_m = rows["prior"].median_m, rows["model"].median_m
    assert model_m < 0.8 * prior_m, (model_m, prior_m, result.learning_curve)

    # σ-scaling was fitted on the validation set and saved in the best checkpoint: the
    # evaluation that follows, on the same validation samples, sees the fitted NLL.
    calibration = result.uncertainty_calibration
    assert calibration is not None
    assert checkpoint.head_options["sigma_scale"] == calibration.sigma_scale
    assert checkpoint.extra["uncertainty_calibration"] == calibration.as_dict()
    assert calibration.nll_after <= calibration.nll_before
    assert calibration.samples == 200
    model_row = result.evaluation.row("model")
    assert model_row.nll_mean == pytest.approx(calibration.nll_after, rel=1e-4)
    assert model_row.calibration.inside_1sigma == pytest.approx(calibration.inside_1sigma_after)
