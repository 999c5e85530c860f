"""Training against a real MLflow tracking server over HTTP, and the server killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from rfloc_core.checkpoint import load_checkpoint
from rfloc_core.training.run import RUN_JSON, train
from tests.conftest import PluginSite
from tests.training.toy_run import write_toy_config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def tracking_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`mlflow server` on a free port of 127.0.0.1, with its own store and artifact root."""
    port = _free_port()
    store = tmp_path / "server"
    store.mkdir()
    log = (store / "server.log").open("wb")
    command = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1"]
    command += ["--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}"]
    command += ["--artifacts-destination", str(store / "artifacts")]
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # the server's background job runners (five more processes) serve no request here
        env=dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"),
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"mlflow server did not start: {(store / 'server.log').read_text()}")
        time.sleep(0.5)
    yield uri, process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log.close()


def test_a_run_is_read_back_from_a_tracking_server(
    toy_registry: object,
    tracking_server: tuple[str, subprocess.Popen[bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uri, _ = tracking_server
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    result = train(write_toy_config(tmp_path, epochs=2), progress=False)
    assert result is not None and result.mlflow_run_id
    client = MlflowClient(uri)
    run = client.get_run(result.mlflow_run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["model.backbone"] == "toynet"
    history = client.get_metric_history(result.mlflow_run_id, "val_error_median_m")
    assert sorted(metric.step for metric in history) == [0, 1]
    listed = {a.path for a in client.list_artifacts(result.mlflow_run_id, "checkpoint")}
    downloaded = client.download_artifacts(result.mlflow_run_id, "checkpoint", str(tmp_path))
    model, config = load_checkpoint(downloaded)
    assert listed == {"checkpoint/config.json", f"checkpoint/{config.weights_file}"}
    assert config.backbone == "toynet" and model.receivers == 7
    (version,) = client.search_model_versions("name='rfloc-toynet-gaussian'")
    assert version.run_id == result.mlflow_run_id
    assert json.loads((result.run_dir / RUN_JSON).read_text())["tracking_uri"] == uri


def test_a_server_killed_mid_run_leaves_one_line_and_an_intact_checkpoint(
    plugin_site: PluginSite,
    toy_registry: object,
    tracking_server: tuple[str, subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    uri, server = tracking_server
    config = write_toy_config(tmp_path, epochs=400)
    run_dir = tmp_path / "run"
    environment = dict(os.environ) | {
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
        "PYTHONPATH": os.pathsep.join([str(plugin_site.path), os.environ.get("PYTHONPATH", "")]),
        "COLUMNS": "1000",
    }
    command = [sys.executable, "-m", "rfloc_core", "train", "--config", str(config)]
    training = subprocess.Popen(
        [*command, "--run-dir", str(run_dir), "--no-progress"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not (run_dir / "best" / "config.json").is_file():
        assert training.poll() is None, training.stderr.read() if training.stderr else ""
        assert time.monotonic() < deadline, "no checkpoint was saved"
        time.sleep(0.1)
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()
    _, stderr = training.communicate(timeout=600)
    if training.returncode != 0:
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error:")]
        assert "Traceback" not in stderr and errors == lines[-1:], stderr[-3000:]
        assert "MLflow tracking store" in errors[0] and "--resume" in errors[0]
        assert json.loads((run_dir / RUN_JSON).read_text())["status"] == "failed"
    model, _ = load_checkpoint(run_dir / "best")
    assert model.receivers == 7
