"""The latency and accuracy harnesses on the toy backbone, with real runtimes and training."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from rfloc_core.bench.accuracy import RunOutcome
from rfloc_core.bench.accuracy_rows import baseline_rows, model_row
from rfloc_core.bench.backends import Target
from rfloc_core.bench.latency import measure_latency
from rfloc_core.bench.results import validate_results
from rfloc_core.bench.results_views import format_number
from rfloc_core.bench.runner import BenchSelectionError, run_suite
from rfloc_core.bench.store import BenchStoreError
from rfloc_core.model import create_model
from rfloc_core.registry import get_registry
from tests.bench.chromium import CHROMIUM, assert_renders_without_console_errors
from tests.bench.toy_suite import BROKEN_BACKBONE_PLUGIN, EXPORTER_PLUGIN, toy_suite
from tests.conftest import PluginSite

PEAK_GFLOPS_PER_S = 100.0
BACKENDS = ("torch", "onnxruntime", "plain_onnx", "explodes", "tensorrt", "nosuch")


@pytest.fixture
def toy_with_exporters(plugin_site: PluginSite) -> None:
    plugin_site.install_toy()
    plugin_site.install(
        "rfloc-toy-exporters",
        {"toyexport": "rfloc_toyexport"},
        {"rfloc_toyexport": EXPORTER_PLUGIN},
    )
    get_registry(refresh=True)


def _toy_flops_per_sample() -> int:
    """Counted by hand: the toy's two 3x3 stride-2 convolutions at 128x32 input, then every
    linear layer of the head (2 FLOPs per multiply-add)."""
    conv1 = 2 * 8 * 7 * 9 * 64 * 16
    conv2 = 2 * 16 * 8 * 9 * 32 * 8
    model = create_model("toynet")
    head = sum(
        2 * m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear)
    )
    return conv1 + conv2 + head


def test_latency_rows_for_every_backend_and_batch(toy_with_exporters: None) -> None:
    suite = toy_suite(backends=BACKENDS)
    target = Target(torch.device("cpu"), "fp32", 1, (1, 3))
    stages: list[tuple[str, str]] = []
    rows = measure_latency(
        "toynet",
        "toy",
        BACKENDS,
        suite.latency,
        target,
        peak_gflops_per_s=PEAK_GFLOPS_PER_S,
        on_stage=lambda backend, stage: stages.append((backend, stage)),
    )
    assert [(r["batch_size"], r["backend"]) for r in rows] == [
        (batch, backend) for batch in (1, 3) for backend in BACKENDS
    ]
    by_key = {(r["backend"], r["batch_size"]): r for r in rows}
    params_m = sum(p.numel() for p in create_model("toynet").parameters()) / 1e6
    flops = _toy_flops_per_sample()
    for backend in ("torch", "onnxruntime", "plain_onnx"):
        for batch in (1, 3):
            row = by_key[(backend, batch)]
            assert row["status"] == "ok", row["reason"]
            assert row["iterations"] >= suite.latency.min_iterations
            assert 0 < row["p50_ms"] <= row["p90_ms"] <= row["p95_ms"] <= row["p99_ms"]
            assert row["samples_per_s"] == pytest.approx(batch / row["p50_ms"] * 1e3)
            assert row["peak_memory_mb"] > 10
            assert row["params_m"] == pytest.approx(params_m)
            assert row["gflops"] * 1e9 == pytest.approx(flops, rel=1e-6)
            achieved = flops / 1e9 * batch / (row["p50_ms"] / 1e3)
            assert row["achieved_gflops_per_s"] == pytest.approx(achieved)
            assert row["fraction_of_peak"] == pytest.approx(achieved / PEAK_GFLOPS_PER_S)
            assert row["cv"] >= 0 and row["threads"] == 1
            assert row["other_cpus_busy"] is None or row["other_cpus_busy"] >= 0
    for batch in (1, 3):
        assert by_key[("explodes", batch)]["status"] == "error"
        assert "exploded on purpose" in by_key[("explodes", batch)]["reason"]
        assert by_key[("nosuch", batch)]["status"] == "unavailable"
        assert "no exporter named 'nosuch'" in by_key[("nosuch", batch)]["reason"]
        tensorrt = by_key[("tensorrt", batch)]
        if tensorrt["status"] == "unavailable":
            assert tensorrt["reason"]
    assert ("onnxruntime", "batch 3: round 2/2") in stages


def test_a_model_that_cannot_be_built_does_not_stop_the_others(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    plugin_site.install_toy()
    plugin_site.install(
        "rfloc-toy-broken",
        {"toybroken": "rfloc_toybroken"},
        {"rfloc_toybroken": BROKEN_BACKBONE_PLUGIN},
    )
    get_registry(refresh=True)
    suite = toy_suite(backbones=("toybroken", "toynet", "absent_*"), accuracy=False)
    out = tmp_path / "out"
    run = run_suite(suite, out, progress=False, tracking=False)
    results = validate_results(run.results)
    broken = [r for r in results["latency"] if r["model"] == "toybroken"]
    working = [r for r in results["latency"] if r["model"] == "toynet"]
    assert len(broken) == len(working) == 4
    assert all(r["status"] == "error" and "cannot be built" in r["reason"] for r in broken)
    assert all(r["status"] == "ok" for r in working)
    assert results["suite"]["not_installed"] == ["absent_*"]
    assert {p.name for p in run.files} == {
        "results.json",
        "results.csv",
        "report.md",
        "report.html",
    }
    markdown = (out / "report.md").read_text()
    summary = markdown.split("## Summary", 1)[1].split("## Hardware", 1)[0]
    torch_b1 = next(r for r in working if r["backend"] == "torch" and r["batch_size"] == 1)
    assert f"| toynet | {format_number(torch_b1['params_m'])} |" in summary
    assert "| toybroken | — | — | error | error |" in summary
    with pytest.raises(BenchStoreError, match="--resume"):
        run_suite(suite, out, progress=False, tracking=False)
    if CHROMIUM is not None:
        assert_renders_without_console_errors(out / "report.html", tmp_path)


def test_a_suite_that_selects_nothing_says_what_is_installed(
    toy_registry: object, tmp_path: Path
) -> None:
    with pytest.raises(BenchSelectionError, match=r"installed: .*toynet"):
        run_suite(toy_suite(backbones=("nothing_*",)), tmp_path, progress=False)


def _outcome(errors_m: list[float], distance2: list[float] | None, seed: int) -> RunOutcome:
    return RunOutcome(
        model="toynet",
        family="toy",
        seed=seed,
        train_seconds=2.0,
        errors_m=errors_m,
        mahalanobis2=distance2,
        nll=[1.0] * len(errors_m),
        crb_rmse_m=2.0,
        baseline_errors_m={"rss_mle": [1.0, 1.0, 4.0], "weighted_centroid": [2.0, 2.0, 2.0]},
    )


def test_accuracy_row_pools_the_seeds_against_the_bound() -> None:
    suite = toy_suite(seeds=(0, 1))
    row = model_row(
        [_outcome([3.0, 4.0], [0.5, 2.0], 0), _outcome([5.0], [5.0], 1)], suite.accuracy
    )
    assert row["error_mean_m"] == pytest.approx(4.0)
    assert row["error_median_m"] == pytest.approx(4.0)
    rmse = math.sqrt((9 + 16 + 25) / 3)
    assert row["error_rmse_m"] == pytest.approx(rmse)
    assert row["ratio_to_crb"] == pytest.approx(rmse / 2.0)
    assert row["inside_1sigma"] == pytest.approx(1 / 3)
    assert row["inside_2sigma"] == pytest.approx(2 / 3)
    assert row["train_seconds"] == pytest.approx(4.0)
    assert row["error_cdf"]["errors_m"] == [3.0, 4.0, 5.0]
    calibration = row["calibration"]
    one_sigma = calibration["expected"].index(pytest.approx(1 - math.exp(-0.5)))
    assert calibration["observed"][one_sigma] == pytest.approx(1 / 3)
    baselines = {r["model"]: r for r in baseline_rows(_outcome([1.0], None, 0), suite.accuracy)}
    assert baselines["rss_mle"]["kind"] == "baseline"
    assert baselines["rss_mle"]["error_rmse_m"] == pytest.approx(math.sqrt(6.0))
    assert baselines["weighted_centroid"]["ratio_to_crb"] == pytest.approx(1.0)
    assert np.all(np.diff(row["error_cdf"]["errors_m"]) >= 0)
