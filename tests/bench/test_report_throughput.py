"""The training throughput table of both reports: the data side, rfloc's training and the bare
loop per model, their ratio, the flag where data is slower than training, and results written
before the bare loop was measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rfloc_core.bench.report import render_markdown, write_report
from rfloc_core.bench.report_html import render_html
from rfloc_core.bench.results import load_results
from rfloc_core.bench.results_views import (
    DATA_KEEPS_UP,
    DATA_SLOWER,
    TRAINING_THROUGHPUT_NOTE,
    training_throughput_rows,
)
from tests.bench.test_report import synthetic_results


def _with_rates(results: dict[str, Any], rates: dict[str, dict[str, float | None]]) -> None:
    """Replace each named model row's protocol rates by ``rates[model]`` (a rate left out of
    it is left out of the protocol, as in results written before it was recorded)."""
    for row in results["accuracy"]:
        if row["model"] in rates:
            protocol = row["protocol"]
            for key in ("train_samples_per_s", "simulated_samples_per_s"):
                protocol.pop(key, None)
            protocol |= rates[row["model"]]


def _results() -> dict[str, Any]:
    results = synthetic_results()
    _with_rates(
        results,
        {
            "resnet18": {
                "simulated_samples_per_s": 1000.0,
                "train_samples_per_s": 300.0,
                "bare_train_samples_per_s": 400.0,
            },
            # simulated by resnet18's run and shared: its rate stands for this row's data side
            "resnet50": {
                "simulated_samples_per_s": None,
                "train_samples_per_s": 1200.0,
                "bare_train_samples_per_s": 1250.0,
            },
            # written before the bare loop was measured
            "convnext_atto": {"simulated_samples_per_s": None, "train_samples_per_s": 250.0},
        },
    )
    return results


def test_rows_share_the_data_rate_compare_with_the_bare_loop_and_flag_slow_data() -> None:
    rows = training_throughput_rows(_results())
    assert [row["model"] for row in rows] == ["resnet50", "resnet18", "convnext_atto"]
    by_model = {row["model"]: row for row in rows}
    assert by_model["resnet18"] == {
        "model": "resnet18",
        "simulated_samples_per_s": 1000.0,
        "train_samples_per_s": 300.0,
        "bare_train_samples_per_s": 400.0,
        "rfloc_to_bare": pytest.approx(0.75),
        "data_side": DATA_KEEPS_UP,
    }
    assert by_model["resnet50"]["simulated_samples_per_s"] == 1000.0
    assert by_model["resnet50"]["rfloc_to_bare"] == pytest.approx(1200 / 1250)
    assert by_model["resnet50"]["data_side"] == DATA_SLOWER
    assert by_model["convnext_atto"]["bare_train_samples_per_s"] is None
    assert by_model["convnext_atto"]["rfloc_to_bare"] is None
    assert by_model["convnext_atto"]["data_side"] == DATA_KEEPS_UP


def test_markdown_has_the_table_with_the_figures_and_the_flag(tmp_path: Path) -> None:
    write_report(_results(), tmp_path)
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    section = markdown.split("## Training throughput\n", 1)[1].split("\n## ", 1)[0]
    assert TRAINING_THROUGHPUT_NOTE in section
    assert (
        "| model | data simulated samples/s | rfloc training samples/s | bare loop samples/s "
        "| rfloc / bare | data side |"
    ) in section
    assert "| resnet18 | 1,000 | 300 | 400 | 0.75 | keeps up |" in section
    assert "| resnet50 | 1,000 | 1,200 | 1,250 | 0.96 | **slower than training** |" in section
    assert "| convnext_atto | 1,000 | 250 | — | — | keeps up |" in section
    assert "> **Data slower than training** for resnet50." in section
    assert load_results(tmp_path / "results.json") == json.loads(json.dumps(_results()))


def test_html_has_the_table_with_the_figures_and_the_flag() -> None:
    page = render_html(_results())
    section = page.split('<section id="training-throughput">', 1)[1].split("</section>", 1)[0]
    assert "<h2>Training throughput</h2>" in section
    assert "<strong>Data slower than training</strong> for resnet50." in section
    assert '<table class="sortable">' in section
    assert '<td class="num" data-value="1250.0">1,250</td>' in section
    assert '<td class="num" data-value="0.75">0.75</td>' in section
    assert '<td data-value="slower than training">slower than training</td>' in section
    rows = section.split("<tbody>", 1)[1].split("<tr")[1:]
    assert [row.split('data-value="', 1)[1].split('"')[0] for row in rows] == [
        "resnet50",
        "resnet18",
        "convnext_atto",
    ]


def test_results_without_any_training_rate_render_without_the_table(tmp_path: Path) -> None:
    results = synthetic_results()
    for row in results["accuracy"]:
        row.pop("protocol", None)  # results written before the protocol was recorded
    path = tmp_path / "old.json"
    path.write_text(json.dumps(results), encoding="utf-8")
    old = load_results(path)
    assert training_throughput_rows(old) == []
    assert "Training throughput" not in render_markdown(old)
    assert "training-throughput" not in render_html(old)
    assert "## Accuracy" in render_markdown(old)


def test_results_written_before_the_bare_loop_show_the_other_rates() -> None:
    results = synthetic_results()  # train and data rates, no bare loop key
    assert all(
        "bare_train_samples_per_s" not in row.get("protocol", {}) for row in results["accuracy"]
    )
    markdown = render_markdown(results)
    assert "| resnet18 | 1,000 | 300 | — | — | keeps up |" in markdown
    assert "slower than training" not in markdown.split("## Training throughput", 1)[1]


def test_writing_a_report_imports_no_torch():
    import subprocess
    import sys

    code = "import rfloc_core.bench.report, sys; assert 'torch' not in sys.modules, 'torch'"
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-2000:]
