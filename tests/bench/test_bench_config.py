from __future__ import annotations

from pathlib import Path

import pytest

from rfloc_core.bench.config import load_suite, suite_names
from rfloc_core.data.errors import ConfigError


def test_the_shipped_suites_load() -> None:
    assert suite_names() == ["converge", "cpu-full", "gpu-full", "quick", "receiver-sets", "urban"]
    quick = load_suite("quick")
    assert quick.latency.device == "cpu"
    assert set(quick.latency.backends) == {"torch", "onnxruntime", "onnxruntime-int8"}
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


def test_a_suite_file_starts_from_a_shipped_suite_and_overrides_apply_on_top(
    tmp_path: Path,
) -> None:
    path = tmp_path / "longer.toml"
    path.write_text('base = "quick"\nname = "longer"\n[accuracy]\nsteps = 2000\n', encoding="utf-8")
    quick, longer = load_suite("quick"), load_suite(path)
    assert longer.name == "longer" and longer.accuracy.steps == 2000
    assert longer.backbones == quick.backbones
    assert longer.latency == quick.latency
    assert longer.accuracy.train_samples == quick.accuracy.train_samples
    tuned = load_suite("quick", ["accuracy.steps=30", "latency.batch_sizes=[1]"])
    assert (tuned.accuracy.steps, tuned.latency.batch_sizes) == (30, (1,))
    with pytest.raises(ConfigError, match=r"unknown key 'accuracy\.stepz'"):
        load_suite("quick", ["accuracy.stepz=3"])
    with pytest.raises(ConfigError, match=r"would replace the whole \[accuracy\] table"):
        load_suite("quick", ["accuracy=3"])
    with pytest.raises(ConfigError, match=r"accuracy\.steps"):
        load_suite("quick", ["accuracy.steps=-1"])
    path.write_text('base = "nope"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown benchmark preset 'nope'"):
        load_suite(path)


def test_only_selects_any_installed_backbone_and_names_a_pattern_that_matches_none(
    toy_registry: object,
) -> None:
    from rfloc_core.bench.runner import BenchSelectionError, backbone_provenance, select_backbones

    quick = load_suite("quick")
    selected, _ = select_backbones(quick, ("toy*",))
    assert selected == {"toynet": "toy"}
    with pytest.raises(BenchSelectionError, match="--only nothing_like_it matches no installed"):
        select_backbones(quick, ("toy*", "nothing_like_it"))
    assert backbone_provenance("toynet") == {
        "plugin": "toy",
        "plugin_version": "0.0.1",
        "distribution": "rfloc-toy",
    }
    assert backbone_provenance("toynet+attention")["plugin"] == "toy"
