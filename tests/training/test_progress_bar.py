"""The training progress bar names the step budget instead of Lightning's "Epoch 3/-2"."""

from __future__ import annotations

import pytest

from rfloc_core.training import load_train_config
from rfloc_core.training.trainer_setup import StepBudgetProgressBar, make_trainer

pytestmark = pytest.mark.usefixtures("toy_registry")


def _description(tmp_path, overrides: list[str]) -> str:
    config = load_train_config("dev_test", ["model.backbone=toynet", *overrides])
    trainer = make_trainer(config, tmp_path, [], by_steps=True, progress=True)
    bar = trainer.progress_bar_callback
    assert isinstance(bar, StepBudgetProgressBar)
    bar.setup(trainer, None, "fit")  # type: ignore[arg-type]
    return bar._get_train_description(3).strip()


def test_a_step_budget_is_named_and_an_epoch_budget_keeps_lightning_s_count(tmp_path):
    assert _description(tmp_path, ["max_steps=2400"]) == "Epoch 3, 2,400 steps in all"
    assert _description(tmp_path, ["max_steps=0", "epochs=5"]) == "Epoch 3/4"


def test_no_progress_bar_without_progress(tmp_path):
    config = load_train_config("dev_test", ["model.backbone=toynet"])
    trainer = make_trainer(config, tmp_path, [], by_steps=True, progress=False)
    assert trainer.progress_bar_callback is None
