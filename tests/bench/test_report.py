from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from rfloc_core.bench.report import results_csv, write_report
from rfloc_core.bench.results import (
    RESULTS_FORMAT,
    RESULTS_VERSION,
    BenchResultsError,
    load_results,
)
from rfloc_core.bench.results_merge import merge_results
from rfloc_core.bench.results_views import busy_machines, pareto_front
from rfloc_core.errors import RflocError
from tests.bench.chromium import CHROMIUM, NO_CHROMIUM, assert_renders_without_console_errors

MODELS = (
    ("resnet18", "resnet", 11.2),
    ("resnet50", "resnet", 23.5),
    ("convnext_atto", "convnext", 3.4),
)
TENSORRT_REASON = "TensorRT is not installed (pip install tensorrt) and no CUDA GPU is visible"
ERROR_REASON = "onnxruntime crashed: Conv kernel not implemented for this shape"


def _environment(label: str) -> dict[str, Any]:
    return {
        "label": label,
        "hostname": "bench-host",
        "cpu": "Intel Xeon",
        "gpu": None,
        "driver": None,
        "python": "3.11.7",
        "torch": "2.5.1",
        "onnxruntime": "1.20.1",
        "tensorrt": None,
        "platform": "Linux-6.1-x86_64",
        "threads": 2,
        "matmul_peak_gflops_per_s": 95.0,
    }


def _latency(
    model: str, family: str, backend: str, p50_ms: float | None, *, status: str = "ok", **extra: Any
) -> dict[str, Any]:
    measured = status == "ok"

    def number(value: float) -> float | None:
        return value if measured else None

    row: dict[str, Any] = {
        "model": model,
        "family": family,
        "backend": backend,
        "device": "cpu",
        "precision": "fp32",
        "batch_size": 1,
        "threads": 2,
        "status": status,
        "reason": None,
        "p50_ms": p50_ms,
        "p90_ms": number((p50_ms or 0) * 1.1),
        "p95_ms": number((p50_ms or 0) * 1.2),
        "p99_ms": number((p50_ms or 0) * 1.5),
        "mean_ms": number((p50_ms or 0) * 1.05),
        "cv": number(0.04),
        "iterations": 50 if measured else None,
        "samples_per_s": number(1000.0 / (p50_ms or 1.0)),
        "peak_memory_mb": number(120.0),
        "params_m": 11.2,
        "gflops": 1.8,
        "achieved_gflops_per_s": number(1.8 / ((p50_ms or 1.0) / 1000.0)),
        "fraction_of_peak": number(0.3),
    }
    return row | extra


def _accuracy(
    model: str, family: str | None, median_m: float, *, kind: str = "model"
) -> dict[str, Any]:
    is_model = kind == "model"
    return {
        "model": model,
        "family": family,
        "kind": kind,
        "scenario": "vhf-rural",
        "seeds": [0],
        "train_samples": 2000 if is_model else None,
        "test_samples": 500,
        "status": "ok",
        "reason": None,
        "error_mean_m": median_m * 1.2,
        "error_median_m": median_m,
        "error_p68_m": median_m * 1.3,
        "error_p95_m": median_m * 2.5,
        "error_rmse_m": median_m * 1.4,
        "ratio_to_crb": median_m * 1.4 / 150.0,
        "inside_1sigma": 0.37 if is_model else None,
        "inside_2sigma": 0.85 if is_model else None,
        "nll_mean": 12.5 if is_model else None,
        "train_seconds": 42.0 if is_model else None,
        "error_cdf": {"errors_m": [median_m * (0.1 + 0.02 * i) for i in range(100)]},
        "calibration": (
            {"expected": [0.0, 0.39, 0.86, 0.99], "observed": [0.0, 0.37, 0.85, 0.97]}
            if is_model
            else None
        ),
    } | (
        {
            "protocol": {
                "steps": 400,
                "max_steps": 400,
                "batch_size": 32,
                "train_samples": 2000,
                "learning_rate": 1e-3,
                "loss": "beta_nll(beta=0.5)",
                "train_seconds": 42.0,
                "train_samples_per_s": 300.0,
                "simulated_samples_per_s": 1000.0,
            },
            "learning_curves": [
                {
                    "seed": 0,
                    "steps": [50, 100, 200, 400],
                    "val_error_median_m": [4 * median_m, 2 * median_m, 1.2 * median_m, median_m],
                }
            ],
        }
        if is_model
        else {}
    )


def synthetic_results(label: str = "2-core Xeon, no GPU") -> dict[str, Any]:
    latency = []
    for index, (model, family, _) in enumerate(MODELS):
        latency.append(_latency(model, family, "torch", 5.0 + 4.0 * index))
        latency.append(_latency(model, family, "onnxruntime", 3.0 + 2.5 * index))
    latency.append(
        _latency("resnet18", "resnet", "tensorrt", None, status="unavailable", device="cuda")
        | {"reason": TENSORRT_REASON}
    )
    latency.append(
        _latency("resnet50", "resnet", "onnxruntime", None, status="error", batch_size=8)
        | {"reason": ERROR_REASON}
    )
    accuracy = [
        _accuracy("resnet18", "resnet", 420.0),
        _accuracy("resnet50", "resnet", 380.0),
        _accuracy("convnext_atto", "convnext", 510.0),
        _accuracy("tdoa_least_squares", None, 900.0, kind="baseline"),
        _accuracy("power_centroid", None, 2400.0, kind="baseline"),
    ]
    return {
        "format": RESULTS_FORMAT,
        "format_version": RESULTS_VERSION,
        "suite": {"name": "quick", "description": "CPU only"},
        "environment": _environment(label),
        "started_utc": "2025-01-01T10:00:00Z",
        "finished_utc": "2025-01-01T10:12:00Z",
        "latency": latency,
        "accuracy": accuracy,
        "crb_rmse_m": 150.0,
    }


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out_dir = tmp_path_factory.mktemp("report")
    return out_dir, write_report(synthetic_results(), out_dir)


@pytest.fixture(scope="module")
def report_dir(report: tuple[Path, list[Path]]) -> Path:
    return report[0]


def test_write_report_writes_the_four_files(report: tuple[Path, list[Path]]) -> None:
    out_dir, written = report
    names = ["results.json", "results.csv", "report.md", "report.html"]
    assert written == [out_dir / name for name in names]
    assert all(path.is_file() for path in written)
    assert not list(out_dir.glob(".*.tmp"))


def test_results_json_round_trips(report_dir: Path) -> None:
    assert load_results(report_dir / "results.json") == synthetic_results()


def test_csv_has_timm_like_columns_and_one_row_per_latency_cell(report_dir: Path) -> None:
    with open(report_dir / "results.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = {
        "model", "backend", "machine", "infer_batch_size", "infer_samples_per_sec",
        "infer_step_time", "infer_p90_ms", "infer_p95_ms", "infer_p99_ms", "infer_cv",
        "param_count", "infer_gflops", "infer_gflops_per_sec", "peak_memory_mb",
        "error_median_m", "error_p95_m", "ratio_to_crb", "inside_1sigma", "status", "reason",
    }  # fmt: skip
    assert expected <= set(rows[0])
    assert len(rows) == len(synthetic_results()["latency"])
    first = rows[0]
    assert (first["model"], first["backend"], first["infer_step_time"]) == (
        "resnet18",
        "torch",
        "5.0",
    )
    assert first["machine"] == "2-core Xeon, no GPU" and first["error_median_m"] == "420.0"
    unavailable = next(row for row in rows if row["backend"] == "tensorrt")
    assert unavailable["status"] == "unavailable" and unavailable["infer_step_time"] == ""
    assert unavailable["reason"] == TENSORRT_REASON


def test_markdown_lists_what_was_not_measured(report_dir: Path) -> None:
    markdown = (report_dir / "report.md").read_text(encoding="utf-8")
    assert TENSORRT_REASON in markdown
    assert ERROR_REASON in markdown and "**error**" in markdown and "**unavailable**" in markdown
    assert "measured torch on cpu, onnxruntime on cpu; not measured: tensorrt on cuda" in markdown
    assert "### torch on 2-core Xeon, no GPU (cpu, fp32)" in markdown
    assert "tdoa_least_squares" in markdown and "power_centroid" in markdown
    assert "Rao RMSE bound of the test set: **150 m**" in markdown
    torch_table = markdown.split("### torch on")[1].split("###")[0]
    order = [torch_table.index(model) for model in ("resnet18", "resnet50", "convnext_atto")]
    assert order == sorted(order)


def test_html_is_self_contained_with_plots_sortable_table_and_every_model(
    report_dir: Path,
) -> None:
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    for reference in ("http://", "https://", 'src="//', "src='//"):
        assert reference not in page
    for backend in ("torch", "onnxruntime"):
        figure = re.search(rf'<figure class="pareto" data-backend="{backend}"[^>]*>\s*<svg', page)
        assert figure is not None, backend
    assert page.count('<figure class="pareto"') == 2
    assert '<figure class="cdf"><svg' in page and '<figure class="calibration"><svg' in page
    assert '<table class="sortable">' in page
    assert (
        '<th scope="col" data-type="number" aria-sort="none"><button type="button">p50 ms' in page
    )
    assert 'addEventListener("click"' in page
    for model, _, _ in MODELS:
        assert model in page
    assert "tdoa_least_squares" in page and "power_centroid" in page
    assert TENSORRT_REASON in page and ERROR_REASON in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "every id on the page is unique"


def test_merge_keeps_both_machines() -> None:
    laptop, server = synthetic_results("laptop"), synthetic_results("server")
    server["accuracy"][0]["error_median_m"] = 111.0
    merged = merge_results([laptop, server])
    assert [env["label"] for env in merged["environments"]] == ["laptop", "server"]
    assert len(merged["latency"]) == 2 * len(laptop["latency"])
    assert {row["machine"] for row in merged["latency"]} == {"laptop", "server"}
    assert len(merged["accuracy"]) == len(laptop["accuracy"])
    assert merged["accuracy"][0]["error_median_m"] == 111.0
    first = laptop["latency"][0]
    assert merged["latency"][0] == first | {
        "machine": "laptop",
        "fraction_of_peak": first["achieved_gflops_per_s"] / 95.0,
    }
    rows = list(csv.DictReader(io.StringIO(results_csv(merged))))
    machines = [row["machine"] for row in rows]
    assert machines.count("laptop") == machines.count("server") == len(laptop["latency"])
    assert merge_results([merged, synthetic_results("laptop")])["latency"] == merged["latency"]


def test_a_merged_report_keeps_a_summary_per_machine_and_fractions_against_the_kept_peak(
    tmp_path: Path,
) -> None:
    older, newer = synthetic_results("laptop"), synthetic_results("laptop")
    newer["environment"]["matmul_peak_gflops_per_s"] = 190.0
    for row in older["latency"]:
        row["achieved_gflops_per_s"] = 19.0 if row["status"] == "ok" else None
    merged = merge_results([older, synthetic_results("server"), newer])
    peaks = {env["label"]: env["matmul_peak_gflops_per_s"] for env in merged["environments"]}
    assert peaks == {"laptop": 190.0, "server": 95.0}
    for row in merged["latency"]:
        if row["achieved_gflops_per_s"] is not None:
            expected = row["achieved_gflops_per_s"] / peaks[row["machine"]]
            assert row["fraction_of_peak"] == pytest.approx(expected)
    write_report(merged, tmp_path)
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    summary = markdown.split("## Summary")[1].split("## Hardware")[0]
    assert "Measured on laptop" in summary and "Measured on server" in summary


def test_report_of_merged_results_escapes_text(tmp_path: Path) -> None:
    hostile = synthetic_results(label="<script>alert(1)</script>")
    hostile["latency"][0]["model"] = 'evil"<b>$x$'
    merged = merge_results([hostile, synthetic_results("server")])
    write_report(merged, tmp_path)
    assert load_results(tmp_path / "results.json") == merged
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "evil&quot;&lt;b&gt;$x$" in page
    assert page.count('<figure class="pareto"') == 4
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "### torch on server (cpu, fp32)" in markdown and "&lt;script>" in markdown


def test_load_results_names_the_missing_key(tmp_path: Path) -> None:
    results = synthetic_results()
    del results["latency"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(results), encoding="utf-8")
    with pytest.raises(RflocError, match=r"'latency'.*broken\.json") as caught:
        load_results(path)
    assert isinstance(caught.value, BenchResultsError)
    results = synthetic_results()
    del results["accuracy"][1]["error_p95_m"]
    path.write_text(json.dumps(results), encoding="utf-8")
    with pytest.raises(BenchResultsError, match=r"'error_p95_m' in accuracy row 1"):
        load_results(path)
    path.write_text(json.dumps(synthetic_results() | {"format_version": 99}), encoding="utf-8")
    with pytest.raises(BenchResultsError, match="format_version 1"):
        load_results(path)


def test_latencies_timed_on_a_busy_machine_are_flagged(tmp_path: Path) -> None:
    assert busy_machines(synthetic_results()) == []  # results without the column
    results = synthetic_results()
    for row in results["latency"]:
        row["other_cpus_busy"] = 0.1 if row["status"] == "ok" else None
    assert busy_machines(results) == []
    results["latency"][1]["other_cpus_busy"] = 1.83
    (busy,) = busy_machines(results)
    assert (busy.machine, busy.busy_cells, busy.known_cells) == ("2-core Xeon, no GPU", 1, 6)
    write_report(results, tmp_path)
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "> **Busy machine.** On 2-core Xeon, no GPU, other processes kept up to 1.8 CPUs" in (
        markdown
    )
    assert "1 of 6 latency cells" in markdown
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<p class="warning"><strong>Busy machine.</strong>' in page
    rows = list(csv.DictReader(io.StringIO(results_csv(results))))
    assert [row["other_cpus_busy"] for row in rows[:2]] == ["0.1", "1.83"]
    quiet = tmp_path / "quiet"
    write_report(synthetic_results(), quiet)
    assert "Busy machine" not in (quiet / "report.md").read_text(encoding="utf-8")


def test_pareto_front() -> None:
    points = [(10.0, 5.0), (1.0, 9.0), (4.0, 4.0), (5.0, 6.0), (2.0, 7.0), (4.0, 4.0)]
    assert pareto_front(points) == [1, 4, 2, 5]
    assert pareto_front([]) == []
    assert pareto_front([(1.0, float("nan")), (2.0, 2.0), (3.0, 2.0)]) == [1]


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_report_renders_in_headless_chromium_without_console_errors(
    report_dir: Path, tmp_path: Path
) -> None:
    assert_renders_without_console_errors(report_dir / "report.html", tmp_path)


def test_a_model_within_ten_percent_of_the_prior_is_flagged_everywhere_and_not_ranked():
    results = synthetic_results()
    results["accuracy"].append(_accuracy("prior", None, 540.0, kind="baseline"))
    from rfloc_core.bench.headline import headline_table
    from rfloc_core.bench.report import render_markdown
    from rfloc_core.bench.report_html import render_html
    from rfloc_core.bench.results_views import did_not_learn, verdict

    rows = {row["model"]: row for row in results["accuracy"]}
    assert did_not_learn(rows["convnext_atto"], results)  # 510 m >= 0.9 x 540 m
    assert verdict(rows["resnet18"], results) == "learned"
    assert verdict(rows["prior"], results) is None
    _, table = headline_table(results)
    names = [row[0] for row in table]
    assert "convnext_atto (did not learn)" in names and "resnet18" in names
    assert "prior (baseline)" in names
    markdown = render_markdown(results)
    assert "| convnext_atto (did not learn) |" in markdown
    assert markdown.count("did not learn") >= 3  # summary, accuracy table, the rule
    page = render_html(results)
    assert page.count(">did not learn</td>") == 3  # accuracy table; both latency rows
    learning = page[page.index('<section id="learning">') :]
    assert "<svg" in learning[: learning.index("</section>")]


def test_without_a_prior_row_no_model_gets_a_verdict():
    from rfloc_core.bench.results_views import verdict

    results = synthetic_results()
    assert {verdict(row, results) for row in results["accuracy"]} == {None}
