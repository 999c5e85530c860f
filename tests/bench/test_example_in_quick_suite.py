"""The example third-party plugin takes part in the quick benchmark like a built-in family:
selected by the shipped suite, timed with the suite's latency protocol, trained and tested."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfloc_core.bench.config import load_suite
from rfloc_core.bench.runner import run_suite, select_backbones

pytest.importorskip("rfloc_mobilenetv3", reason="examples/rfloc-mobilenetv3 is not installed")

EXAMPLE_BACKBONE = "mobilenetv3_small_100"


def test_the_quick_suite_benchmarks_the_example_plugin(tmp_path: Path) -> None:
    quick = load_suite("quick")
    selected, _ = select_backbones(quick)
    assert selected[EXAMPLE_BACKBONE] == "mobilenetv3"
    small_budget = quick.accuracy.model_copy(
        update={
            "steps": 4,
            "batch_size": 16,
            "validate_every_steps": 2,
            "train_samples": 64,
            "val_samples": 32,
            "test_samples": 40,
        }
    )
    suite = quick.model_copy(update={"accuracy": small_budget})
    run = run_suite(
        suite, tmp_path / "out", only=("mobilenetv3_*",), progress=False, tracking=False
    )
    latency = run.results["latency"]
    assert {(row["backend"], row["batch_size"]) for row in latency} == {
        (backend, batch)
        for backend in quick.latency.backends
        for batch in quick.latency.batch_sizes
    }
    assert all(row["model"] == EXAMPLE_BACKBONE and row["status"] == "ok" for row in latency)
    assert all(row["family"] == "mobilenetv3" for row in latency)
    (model,) = [row for row in run.results["accuracy"] if row["kind"] == "model"]
    assert model["model"] == EXAMPLE_BACKBONE and model["status"] == "ok"
    assert model["error_median_m"] > 0
    assert EXAMPLE_BACKBONE in (tmp_path / "out" / "report.md").read_text()
