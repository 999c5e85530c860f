"""SIGKILL a training process mid-epoch, resume it, and compare with an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient
from safetensors.torch import load_file

from rfloc_core.checkpoint import read_checkpoint_config
from rfloc_core.registry import get_registry
from rfloc_core.training.run import RunFolderError, train
from tests.conftest import PluginSite
from tests.training.toy_run import write_toy_config

WEIGHT_TOLERANCE = 1e-6
"""Max abs difference of any weight: the resumed run repeats the same float operations on the
same data (same seed, same thread count), so only the order of reductions could differ."""

METRIC_TOLERANCE = 1e-6


def _train_command(config: Path, run_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "rfloc_core", "train", "--config", str(config),
        "--run-dir", str(run_dir), "--no-progress", *extra,
    ]  # fmt: skip


def _kill_mid_epoch(command: list[str], position: Path, env: dict[str, str]) -> dict[str, int]:
    """Start training and SIGKILL it once it has saved state part-way through epoch 1."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"training ended before it could be killed: {process.stderr.read()}")  # type: ignore[union-attr]
            try:
                state = json.loads(position.read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                state = {}
            if state.get("epoch") == 1 and 0 < state.get("batches_done", 0) < 15:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return dict(state)
            time.sleep(0.01)
        pytest.fail("training never reached the middle of epoch 1")
    finally:
        if process.poll() is None:
            process.kill()
    raise AssertionError("unreachable")


@pytest.fixture
def one_thread() -> Iterator[None]:
    """The same thread count as the killed subprocess, so reductions run in the same order."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("one_thread")
def test_resume_after_sigkill_matches_an_uninterrupted_run(
    tmp_path: Path, plugin_site: PluginSite
) -> None:
    plugin_site.install_toy()
    get_registry(refresh=True)
    config = write_toy_config(tmp_path, epochs=2, train_samples=320)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_site.path), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"

    whole = train(config, run_dir=tmp_path / "whole", progress=False)
    assert whole is not None

    killed = tmp_path / "killed"
    state = _kill_mid_epoch(
        _train_command(config, killed), killed / "resume" / "position.json", env
    )
    assert state["global_step"] >= 20  # epoch 0 has 20 steps
    assert (killed / "resume" / "last.ckpt").is_file()
    assert not (killed / "last").exists()  # it really died before the end
    run_before = json.loads((killed / "run.json").read_text())
    assert run_before["status"] == "running"

    resumed = train(config, run_dir=killed, resume=True, progress=False)
    assert resumed is not None

    expected = load_file(_weights(whole.run_dir / "last"))
    actual = load_file(_weights(killed / "last"))
    assert expected.keys() == actual.keys()
    worst = max(float((expected[k] - actual[k]).abs().max()) for k in expected)
    assert worst <= WEIGHT_TOLERANCE

    for before, after in zip(whole.evaluation.rows, resumed.evaluation.rows, strict=True):
        for key, value in before.as_dict().items():
            if isinstance(value, float):
                assert after.as_dict()[key] == pytest.approx(value, rel=METRIC_TOLERANCE), key

    run_after = json.loads((killed / "run.json").read_text())
    assert run_after["status"] == "finished"
    assert run_after["mlflow_run_id"] == run_before["mlflow_run_id"] == resumed.mlflow_run_id
    client = MlflowClient()
    assert client.get_run(resumed.mlflow_run_id).info.status == "FINISHED"
    steps = [m.step for m in client.get_metric_history(resumed.mlflow_run_id, "val_nll")]
    assert sorted(set(steps)) == [0, 1]


def test_resume_needs_saved_state(tmp_path: Path, toy_registry: object) -> None:
    config = write_toy_config(tmp_path, epochs=1, train_samples=32)
    with pytest.raises(RunFolderError, match=r"no run under .* has resume state"):
        train(config, resume=True, progress=False)
    with pytest.raises(RunFolderError, match=r"holds no run\.json"):
        train(config, run_dir=tmp_path, resume=True, progress=False)


def _weights(checkpoint: Path) -> Path:
    return checkpoint / read_checkpoint_config(checkpoint).weights_file
