"""A real training run of the toy backbone, read back from MLflow's local store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from rfloc_core.checkpoint import load_checkpoint, read_checkpoint_config
from rfloc_core.training.run import RUN_JSON, RunFolderError, train
from tests.training.toy_run import write_toy_config

pytestmark = pytest.mark.usefixtures("toy_registry")

EPOCH_METRICS = (
    "val_error_mean_m",
    "val_error_median_m",
    "val_error_p68_m",
    "val_error_p95_m",
    "val_nll",
    "val_inside_1sigma",
    "val_inside_2sigma",
    "train_loss",
    "learning_rate",
)


def test_run_logs_everything_to_the_local_store(tmp_path: Path) -> None:
    result = train(write_toy_config(tmp_path, epochs=3), progress=False)
    assert result is not None
    client = MlflowClient()
    run = client.get_run(result.mlflow_run_id)
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["model.backbone"] == "toynet"
    assert params["epochs"] == "3"
    assert params["learning_rate"] == "0.003"
    assert run.data.tags["env.torch"]
    assert run.data.tags["env.device"] == "cpu"
    for metric in EPOCH_METRICS:
        history = client.get_metric_history(result.mlflow_run_id, metric)
        assert sorted(m.step for m in history) == [0, 1, 2], metric
    best_epoch_error = min(
        m.value for m in client.get_metric_history(result.mlflow_run_id, "val_error_mean_m")
    )
    final = run.data.metrics
    assert final["final_model_error_mean_m"] == pytest.approx(best_epoch_error, rel=1e-6)
    assert final["final_weighted_centroid_error_mean_m"] > 0
    assert final["final_crb_rmse_m"] > 0

    artifacts = {a.path for a in client.list_artifacts(result.mlflow_run_id, "checkpoint")}
    weights_file = read_checkpoint_config(result.best_checkpoint).weights_file
    assert artifacts == {"checkpoint/config.json", f"checkpoint/{weights_file}"}
    plots = {a.path for a in client.list_artifacts(result.mlflow_run_id, "evaluation")}
    for name in ("error_cdf.png", "positions_map.png", "calibration.png", "evaluation.json"):
        assert f"evaluation/{name}" in plots
    downloaded = Path(
        client.download_artifacts(result.mlflow_run_id, "checkpoint", str(tmp_path / "dl"))
    )
    _, config = load_checkpoint(downloaded)
    assert config.backbone == "toynet"
    assert config.scenario is not None and config.scenario["name"] == "vhf-rural"
    assert config.extra["metrics"]["val_error_mean_m"] == pytest.approx(best_epoch_error)

    versions = client.search_model_versions("name='rfloc-toynet-gaussian'")
    assert [str(v.version) for v in versions] == [result.model_version] == ["1"]
    tags = versions[0].tags
    assert tags["plugin"] == "toy"
    assert tags["plugin_version"] == "0.0.1"
    assert tags["scenario"] == "vhf-rural"
    assert versions[0].run_id == result.mlflow_run_id

    stored = json.loads((result.run_dir / RUN_JSON).read_text())
    assert stored["status"] == "finished"
    assert stored["mlflow_run_id"] == result.mlflow_run_id
    assert read_checkpoint_config(result.best_checkpoint).extra["epoch"] in (0, 1, 2)


def test_a_second_run_adds_a_model_version_and_a_used_folder_is_refused(tmp_path: Path) -> None:
    config = write_toy_config(tmp_path, epochs=1, train_samples=32)
    first = train(config, progress=False)
    second = train(config, progress=False)
    assert first is not None and second is not None
    assert first.run_dir != second.run_dir
    assert (first.model_version, second.model_version) == ("1", "2")
    with pytest.raises(RunFolderError, match="already holds files; pass --resume"):
        train(config, run_dir=first.run_dir, progress=False)


def test_no_tracking_writes_no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "untouched.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    result = train(
        write_toy_config(tmp_path, epochs=1, train_samples=32), tracking=False, progress=False
    )
    assert result is not None and result.mlflow_run_id is None
    assert not store.exists()
    assert load_checkpoint(result.best_checkpoint)[1].backbone == "toynet"


def test_a_fine_tuning_run_is_linked_to_its_parent_run(tmp_path: Path) -> None:
    from rfloc_core.training import load_train_config

    parent = train(write_toy_config(tmp_path, epochs=1), progress=False)
    assert parent is not None and parent.mlflow_run_id is not None
    _, parent_checkpoint = load_checkpoint(parent.best_checkpoint)
    assert parent_checkpoint.extra["mlflow_run_id"] == parent.mlflow_run_id
    config = load_train_config(
        write_toy_config(tmp_path, epochs=1, name="child.toml"),
        [f"init_from={parent.best_checkpoint}", "freeze=head"],
    )
    child = train(config, progress=False)
    assert child is not None
    tags = MlflowClient().get_run(child.mlflow_run_id).data.tags
    assert tags["parent_run_id"] == parent.mlflow_run_id
    assert tags["parent_checkpoint"] == str(parent.best_checkpoint.resolve())
