"""Training and evaluation on dataset folders: ``rfloc simulate`` -> ``rfloc train --data`` ->
``rfloc evaluate --data``. A run from shards is the run simulated on the fly, and an evaluation
on a stored test set is the evaluation on the same samples simulated."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

from rfloc_core.checkpoint import load_checkpoint
from rfloc_core.data.scenario import load_scenario
from rfloc_core.data.splits import split_seed
from rfloc_core.data.storage import simulate_to_disk
from rfloc_core.evaluation.evaluate import evaluate
from rfloc_core.training import load_train_config, train
from tests.cli_runner import run_rfloc
from tests.conftest import PluginSite
from tests.training.toy_run import write_toy_config

TRAIN_SAMPLES = 96
VAL_SAMPLES = 48


def _weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    model, _ = load_checkpoint(checkpoint)
    return model.state_dict()


def test_training_from_shards_is_the_run_simulated_on_the_fly(
    tmp_path: Path, toy_registry: object
) -> None:
    scenario = load_scenario("rss-ideal")
    simulate_to_disk(scenario, TRAIN_SAMPLES + 20, tmp_path / "train", seed=split_seed(3, "train"))
    simulate_to_disk(scenario, VAL_SAMPLES, tmp_path / "val", seed=split_seed(3, "validation"))
    common = [
        "scenario=rss-ideal",
        "seed=3",
        f"train_samples={TRAIN_SAMPLES}",
        f"val_samples={VAL_SAMPLES}",
        "checkpoint_every_steps=0",
    ]
    on_the_fly = load_train_config(write_toy_config(tmp_path), common)
    from_disk = load_train_config(
        write_toy_config(tmp_path),
        [*common, f"data={tmp_path / 'train'}", f"val_data={tmp_path / 'val'}"],
    )
    simulated = train(on_the_fly, run_dir=tmp_path / "fly", progress=False, tracking=False)
    stored = train(from_disk, run_dir=tmp_path / "disk", progress=False, tracking=False)
    assert simulated is not None and stored is not None
    assert stored.steps_completed == simulated.steps_completed == 2 * TRAIN_SAMPLES // 16
    assert stored.prior_position_m == pytest.approx(simulated.prior_position_m, rel=1e-6)
    fly_weights, disk_weights = (
        _weights(simulated.last_checkpoint),
        _weights(stored.last_checkpoint),
    )
    assert fly_weights.keys() == disk_weights.keys()
    for name, value in fly_weights.items():
        torch.testing.assert_close(disk_weights[name], value, rtol=1e-4, atol=1e-5, msg=name)
    fly_rows = {row.name: row.errors.median_m for row in simulated.evaluation.rows}
    disk_rows = {row.name: row.errors.median_m for row in stored.evaluation.rows}
    assert disk_rows == pytest.approx(fly_rows, rel=1e-3)
    record = json.loads((tmp_path / "disk" / "run.json").read_text(encoding="utf-8"))
    assert record["datasets"]["data"]["samples"] == TRAIN_SAMPLES
    assert record["datasets"]["val_data"]["samples"] == VAL_SAMPLES


def test_simulate_train_evaluate_from_folders_on_the_command_line(
    tmp_path: Path, plugin_site: PluginSite, toy_registry: object
) -> None:
    def rfloc(*args: str) -> str:
        result = run_rfloc(*args, site=plugin_site.path)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout + result.stderr

    for split, count in (("train", 64), ("validation", 32), ("test", 40)):
        rfloc("simulate", "--n", str(count), "--out", str(tmp_path / split), "--split", split)
    config = write_toy_config(tmp_path)
    run_dir = tmp_path / "run"
    trained = rfloc(
        "train", "--config", str(config), "--no-tracking", "--run-dir", str(run_dir),
        f"data={tmp_path / 'train'}", f"val_data={tmp_path / 'validation'}",
        f"test_data={tmp_path / 'test'}", "epochs=1",
    )  # fmt: skip
    # rfloc prints its own tables; Lightning's start-up lines and advertisements stay out.
    for chatter in ("GPU available", "TPU available", "litlogger", "`Trainer.fit` stopped"):
        assert chatter not in trained, trained
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["test_evaluation"]["samples"] == 40
    assert (run_dir / "evaluation-test" / "evaluation.json").is_file()
    out = tmp_path / "stored-test"
    printed = rfloc(
        "evaluate", str(run_dir / "best"), "--data", str(tmp_path / "test"), "--out", str(out)
    )
    assert "40 samples" in printed
    stored = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))

    # The stored test split is the one `rfloc evaluate` simulates for seed 0.
    simulated = evaluate(run_dir / "best", samples=40, seed=0)
    rows = {row["name"]: row["error_median_m"] for row in stored["rows"]}
    assert rows == pytest.approx(
        {row.name: row.errors.median_m for row in simulated.rows}, rel=1e-4
    )
    assert stored["crb_rmse_m"] == pytest.approx(simulated.crb_rmse_m, rel=1e-4)


def test_fine_tuning_starts_from_the_parent_and_records_it(
    tmp_path: Path, toy_registry: object
) -> None:
    """A run with init_from starts from the parent's weights (zero steps would end there),
    keeps the frozen part as the parent left it, trains the rest, and names its parent."""
    parent = train(
        load_train_config(write_toy_config(tmp_path), ["scenario=rss-ideal", "epochs=1"]),
        run_dir=tmp_path / "parent",
        progress=False,
        tracking=False,
    )
    assert parent is not None
    child_config = load_train_config(
        write_toy_config(tmp_path),
        [
            "scenario=vhf-rural",
            "epochs=1",
            f"init_from={parent.best_checkpoint}",
            "freeze=backbone",
        ],
    )
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        child = train(child_config, run_dir=tmp_path / "child", progress=False, tracking=False)
    assert child is not None
    # The frozen part is in eval mode by design; Lightning's warning about it is held back.
    assert not [w for w in shown if "in eval mode" in str(w.message)], shown
    before, after = _weights(parent.best_checkpoint), _weights(child.last_checkpoint)
    moved = {name for name in before if not torch.equal(before[name], after[name])}
    assert moved and all(name.startswith("head.") for name in moved), moved
    _, stored = load_checkpoint(child.best_checkpoint)
    record = stored.extra["parent_checkpoint"]
    assert record["path"] == str(parent.best_checkpoint.resolve())
    parent_json = json.loads((parent.best_checkpoint / "config.json").read_text(encoding="utf-8"))
    assert record["checkpoint_sha256"] == parent_json["checkpoint_sha256"]
    # The parent's output scale travels with its weights, though vhf-rural's area is larger.
    _, parent_stored = load_checkpoint(parent.best_checkpoint)
    assert stored.head_options["position_scale_m"] == parent_stored.head_options["position_scale_m"]
    run = json.loads((tmp_path / "child" / "run.json").read_text(encoding="utf-8"))
    assert run["parent_checkpoint"] == record


def test_a_parent_of_another_model_is_refused_naming_what_differs(
    tmp_path: Path, toy_registry: object
) -> None:
    from rfloc_core.data.errors import ConfigError

    parent = train(
        load_train_config(write_toy_config(tmp_path), ["epochs=1"]),
        run_dir=tmp_path / "parent",
        progress=False,
        tracking=False,
    )
    assert parent is not None
    with pytest.raises(
        ConfigError,
        match=r"field init_from: .*has input_size \(128, 32\) \(model.input_size is \(64, 32\)\)",
    ):
        load_train_config(
            write_toy_config(tmp_path),
            [f"init_from={parent.best_checkpoint}", "model.input_size.mel_bins=64"],
        )
    with pytest.raises(ConfigError, match="freeze is 'head' but init_from is not set"):
        load_train_config(write_toy_config(tmp_path), ["freeze=head"])
