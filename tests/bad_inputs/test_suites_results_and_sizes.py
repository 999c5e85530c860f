"""Classes 6 and 9: suites and results files of the wrong types, and sizes that would run
without end or exhaust memory, each refused at once in one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bad_inputs.conftest import Case, run_case

QUICK_RESULTS = Path(__file__).parents[2] / "benchmarks" / "results" / "quick" / "results.json"


def _suite(text: str) -> Callable[[Path, Path], list[str]]:
    def make(workspace: Path, checkpoint: Path) -> list[str]:
        path = workspace / "suite.toml"
        path.write_text(f'base = "quick"\n{text}\n')
        return ["bench", "--suite", str(path), "--out", str(workspace / "bench")]

    return make


def _results(change: Callable[[dict], object]) -> Callable[[Path, Path], list[str]]:
    def make(workspace: Path, checkpoint: Path) -> list[str]:
        results = json.loads(QUICK_RESULTS.read_text())
        changed = change(results)
        path = workspace / "results.json"
        path.write_text(json.dumps(results if changed is None else changed))
        return ["report", str(path), "--out", str(workspace / "merged")]

    return make


def _huge_features(workspace: Path, checkpoint: Path) -> list[str]:
    path = workspace / "features.toml"
    path.write_text("fft_size_samples = 65536\nhop_samples = 65536\nframes = 65536\n")
    return ["simulate", "--n", "1", "--features", str(path), "--out", str(workspace / "d")]


def _endless_simulation(workspace: Path, checkpoint: Path) -> list[str]:
    return ["simulate", "--n", str(2**70), "--out", str(workspace / "data")]


def _too_many_predictions(workspace: Path, checkpoint: Path) -> list[str]:
    return ["predict", str(checkpoint), "--simulate", str(10**12)]


CASES = [
    Case("a batch size of 0", _suite("[latency]\nbatch_sizes = [0]"), ("batch_sizes",)),
    Case("a negative batch size", _suite("[latency]\nbatch_sizes = [-3]"), ("batch_sizes",)),
    Case("an unknown backend", _suite('[latency]\nbackends = ["torchh"]'), ("torchh",)),
    Case("results that are a list", _results(lambda results: [results]), ("results.json",)),
    Case(
        "a latency figure as text",
        _results(lambda results: results["latency"][0].update(p50_ms="fast")),
        ("results.json", "p50_ms"),
    ),
    Case(
        "accuracy rows that are not a list",
        _results(lambda results: results.update(accuracy="good")),
        ("results.json", "accuracy"),
    ),
    Case("a front end of 34 GiB per sample", _huge_features, ("features.toml", "GiB")),
    Case("2**70 samples to simulate", _endless_simulation, ("GB",)),
    Case("10**12 predictions", _too_many_predictions, ("--simulate",)),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_suites_results_and_sizes(
    case: Case, checkpoint: Path, toy_site: Path, tmp_path: Path
) -> None:
    run_case(case, checkpoint, toy_site, tmp_path)
