from __future__ import annotations

from pathlib import Path

import pytest

from rfloc_core.bench.config import load_suite, suite_names
from rfloc_core.data.errors import ConfigError


def test_the_shipped_suites_load() -> None:
    assert suite_names() == ["converge", "cpu-full", "gpu-full", "quick", "receiver-sets", "urban"]
    quick = load_suite("quick")
    assert quick.latency.device == "cpu"
    assert set(quick.latency.backends) == {"torch", "onnxruntime"}
    assert quick.backbones[:4] == (
        "convnext_atto",
        "resnet18",
        "vit_tiny_patch16",
        "efficientnet_b0",
    )
    assert quick.accuracy.scenario == "rss-ideal"
    assert quick.accuracy.steps > 0, "the quick budget is in optimizer steps"
    converge = load_suite("converge").accuracy
    assert converge.patience_steps > 0 and converge.validation_interval_steps() > 0
    assert load_suite("urban").accuracy.scenario == "urban-multipath"
    assert load_suite("gpu-full").latency.device == "cuda"
    assert "tensorrt" in load_suite("gpu-full").latency.backends


def test_a_suite_file_and_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('backbones = ["resnet*"]\n[latency]\nbatch_sizes = [1]\n', encoding="utf-8")
    suite = load_suite(path)
    assert suite.backbones == ("resnet*",) and suite.latency.batch_sizes == (1,)
    path.write_text('backbones = ["x"]\n[latency]\nmin_seconds = -1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"latency\.min_seconds"):
        load_suite(path)
    with pytest.raises(
        ConfigError, match="converge, cpu-full, gpu-full, quick, receiver-sets, urban"
    ):
        load_suite("slow")


def test_the_gpu_check_suite_in_benchmarks_loads() -> None:
    from pathlib import Path

    suite = load_suite(Path(__file__).parents[2] / "benchmarks" / "suites" / "gpu-check.toml")
    assert suite.latency.device == "cuda"
    assert "tensorrt" in suite.latency.backends
