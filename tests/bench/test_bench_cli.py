"""``rfloc bench`` killed midway and resumed, results in MLflow, and ``rfloc report`` merging
two machines: real processes, real training, a real MLflow store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from rfloc_core.bench.results import load_results
from rfloc_core.bench.tracking import BENCH_EXPERIMENT
from tests.bench.toy_suite import write_toy_suite
from tests.conftest import PluginSite


def _bench(suite: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "rfloc_core", "bench", "--suite", str(suite), "--out", str(out),
        "--no-progress", *extra,
    ]  # fmt: skip


def _environment(plugin_site: PluginSite) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_site.path), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env


def _kill_after(path: Path, command: list[str], env: dict[str, str]) -> None:
    """Start ``command`` and SIGKILL it as soon as ``path`` exists."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if path.is_file():
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return
            if process.poll() is not None:
                pytest.fail(
                    f"the benchmark ended before it could be killed: {process.stderr.read()}"
                )  # type: ignore[union-attr]
            time.sleep(0.01)
        pytest.fail(f"the benchmark never wrote {path}")
    finally:
        if process.poll() is None:
            process.kill()


def test_killed_benchmark_resumes_skipping_finished_cells(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    plugin_site.install_toy()
    suite = write_toy_suite(tmp_path, seeds=(0, 1))
    out = tmp_path / "out"
    env = _environment(plugin_site)
    latency_cell = out / "cells" / "latency" / "toynet.json"
    _kill_after(latency_cell, _bench(suite, out), env)
    finished = latency_cell.stat().st_mtime_ns, latency_cell.read_bytes()
    assert not (out / "results.json").exists()

    refused = subprocess.run(_bench(suite, out), env=env, capture_output=True, text=True)
    assert refused.returncode == 1
    assert "pass --resume" in refused.stderr

    resumed = subprocess.run(
        _bench(suite, out, "--resume", "--tracking"), env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed: 1 finished cells skipped" in resumed.stdout
    assert (latency_cell.stat().st_mtime_ns, latency_cell.read_bytes()) == finished

    results = load_results(out / "results.json")
    provenance = {"plugin": "toy", "plugin_version": "0.0.1", "distribution": "rfloc-toy"}
    assert [row | provenance for row in json.loads(finished[1])] == results["latency"]
    models = [row for row in results["accuracy"] if row["kind"] == "model"]
    assert [(row["model"], row["status"], row["seeds"]) for row in models] == [
        ("toynet", "ok", [0, 1])
    ]
    assert models[0]["test_samples"] == 40
    assert {key: models[0][key] for key in provenance} == provenance
    assert len(models[0]["error_cdf"]["errors_m"]) == 80  # both seeds' test errors, pooled
    baselines = {row["model"] for row in results["accuracy"] if row["kind"] == "baseline"}
    assert baselines == {"prior", "rss_mle", "weighted_centroid"}
    assert results["crb_rmse_m"] > 0
    for seed in (0, 1):
        run_dir = out / "runs" / f"toynet-seed{seed}"
        assert (run_dir / "best").is_dir() and not (run_dir / "resume").exists()

    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name(BENCH_EXPERIMENT)
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    torch_b1 = next(
        row for row in results["latency"] if row["backend"] == "torch" and row["batch_size"] == 1
    )
    assert run.data.metrics["p50_ms/toynet/torch/cpu-fp32/b1"] == pytest.approx(torch_b1["p50_ms"])
    assert run.data.metrics["error_median_m/toynet"] == pytest.approx(models[0]["error_median_m"])
    artifacts = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "report")}
    assert {"results.json", "report.html"} <= artifacts


def test_report_merges_two_machines(tmp_path: Path) -> None:
    from tests.bench.test_report import synthetic_results

    paths = []
    for label in ("laptop", "H100 server"):
        path = tmp_path / f"{label}.json"
        path.write_text(json.dumps(synthetic_results(label)))
        paths.append(str(path))
    out = tmp_path / "merged"
    command = [sys.executable, "-m", "rfloc_core", "report", *paths, "--out", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
    assert completed.returncode == 0, completed.stderr
    merged = load_results(out / "results.json")
    assert [env["label"] for env in merged["environments"]] == ["laptop", "H100 server"]
    assert {row["machine"] for row in merged["latency"]} == {"laptop", "H100 server"}
    assert "H100 server" in (out / "report.html").read_text()

    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    failed = subprocess.run(
        [sys.executable, "-m", "rfloc_core", "report", str(broken), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 1
    assert "invalid JSON" in failed.stderr and "Traceback" not in failed.stderr
