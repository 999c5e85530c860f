"""DDP with two CPU processes (gloo), launched by the real command line."""

from __future__ import annotations

import json
from pathlib import Path

from mlflow.tracking import MlflowClient

from tests.cli_runner import run_rfloc
from tests.conftest import PluginSite
from tests.training.toy_run import write_toy_config


def test_ddp_two_cpu_processes_train_and_write_one_checkpoint(
    tmp_path: Path, plugin_site: PluginSite
) -> None:
    plugin_site.install_toy()
    config = write_toy_config(tmp_path, epochs=3, train_samples=192)
    result = run_rfloc(
        "train", "--config", str(config), "--devices", "2", "--strategy", "ddp", "--no-progress",
        site=plugin_site.path, env={"OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in result.stderr
    runs = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1, runs  # the second process joined the first one's folder
    checkpoints = sorted(p.parent.relative_to(runs[0]) for p in runs[0].rglob("config.json"))
    assert checkpoints == [Path("best"), Path("last")]
    assert len(list(runs[0].rglob("*.safetensors"))) == 2
    assert len(list(runs[0].rglob("*.ckpt"))) == 1

    record = json.loads((runs[0] / "run.json").read_text())
    assert record["status"] == "finished"
    assert record["config"]["devices"] == 2 and record["config"]["strategy"] == "ddp"
    client = MlflowClient()
    assert len(client.search_runs([client.get_experiment_by_name("rfloc").experiment_id])) == 1
    history = client.get_metric_history(record["mlflow_run_id"], "train_loss")
    nll_by_epoch = [m.value for m in sorted(history, key=lambda m: m.step)]
    assert len(nll_by_epoch) == 3
    assert nll_by_epoch[-1] < nll_by_epoch[0]  # it trains
    assert "Best checkpoint on the validation set" in result.stdout
