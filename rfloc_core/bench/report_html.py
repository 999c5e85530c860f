"""The benchmark report as one self-contained HTML file: inline CSS, inline vanilla JS and
matplotlib plots as inline SVG; a Content-Security-Policy forbids every fetch, so the page
works offline and from an e-mail attachment.

It holds the environments and which backends ran on which hardware, a latency-against-accuracy
Pareto plot per backend and machine, the error CDFs, the calibration curves, the learning
curves, one table of every latency cell joined to its model's accuracy that sorts by any column,
the accuracy table with the baselines, training throughput beside a bare loop, and every cell
that was not measured with its reason.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rfloc_core.atomic import write_text_atomic
from rfloc_core.bench.int8_view import INT8_COLUMNS, INT8_NOTE, int8_rows
from rfloc_core.bench.report_page import Column, page, table, text
from rfloc_core.bench.report_plots import (
    BOUND_LABEL,
    SIGMA,
    calibration_svg,
    cdf_svg,
    finite,
    finite_values,
    learning_curve_svg,
    pareto_svg,
    positive,
)
from rfloc_core.bench.results import environments_of
from rfloc_core.bench.results_views import (
    DATA_SLOWER,
    HELD_OUT_COLUMNS,
    TRAINING_THROUGHPUT_COLUMNS,
    TRAINING_THROUGHPUT_NOTE,
    BackendKey,
    HardwareUse,
    busy_machines,
    failed_cells,
    format_number,
    group_by_backend,
    hardware_use,
    held_out_rows,
    latency_rows_for_table,
    sorted_accuracy_rows,
    training_throughput_rows,
)

_LATENCY_TABLE: tuple[Column, ...] = (
    Column("machine", "machine", False),
    Column("model", "model", False),
    Column("family", "family", False),
    Column("backend", "backend", False),
    Column("device", "device", False),
    Column("precision", "precision", False),
    Column("batch", "batch_size", True),
    Column("status", "status", False),
    Column("p50 ms", "p50_ms", True),
    Column("p90 ms", "p90_ms", True),
    Column("p95 ms", "p95_ms", True),
    Column("p99 ms", "p99_ms", True),
    Column("mean ms", "mean_ms", True),
    Column("CV", "cv", True),
    Column("samples/s", "samples_per_s", True),
    Column("peak MB", "peak_memory_mb", True),
    Column("others' CPUs", "other_cpus_busy", True),
    Column("params M", "params_m", True),
    Column("GFLOPs", "gflops", True),
    Column("GFLOP/s", "achieved_gflops_per_s", True),
    Column("fraction of peak", "fraction_of_peak", True),
    Column("median error m", "error_median_m", True),
    Column("p95 error m", "error_p95_m", True),
    Column("ratio to CRB", "ratio_to_crb", True),
    Column(f"inside 1{SIGMA}", "inside_1sigma", True),
    Column("verdict", "verdict", False),
    Column("reason", "reason", False),
)

_ACCURACY_TABLE: tuple[Column, ...] = (
    Column("name", "model", False),
    Column("kind", "kind", False),
    Column("family", "family", False),
    Column("scenario", "scenario", False),
    Column("seeds", "seeds", False),
    Column("train samples", "train_samples", True),
    Column("steps", "steps", True),
    Column("batch", "batch_size", True),
    Column("learning rate", "learning_rate", True),
    Column("loss", "loss", False),
    Column("test samples", "test_samples", True),
    Column("mean m", "error_mean_m", True),
    Column("median m", "error_median_m", True),
    Column("p68 m", "error_p68_m", True),
    Column("p95 m", "error_p95_m", True),
    Column("RMSE m", "error_rmse_m", True),
    Column("ratio to CRB", "ratio_to_crb", True),
    Column(f"inside 1{SIGMA}", "inside_1sigma", True),
    Column(f"inside 2{SIGMA}", "inside_2sigma", True),
    Column(f"{SIGMA} scale", "sigma_scale", True),
    Column("NLL", "nll_mean", True),
    Column("train s", "train_seconds", True),
    Column("verdict", "verdict", False),
    Column("status", "status", False),
    Column("reason", "reason", False),
)

_FAILED_TABLE: tuple[Column, ...] = (
    Column("cell", "what", False),
    Column("status", "status", False),
    Column("reason", "reason", False),
)

_ENVIRONMENT_TABLE: tuple[Column, ...] = (
    Column("machine", "label", False),
    Column("host", "hostname", False),
    Column("CPU", "cpu", False),
    Column("GPU", "gpu", False),
    Column("driver", "driver", False),
    Column("Python", "python", False),
    Column("torch", "torch", False),
    Column("ONNX Runtime", "onnxruntime", False),
    Column("TensorRT", "tensorrt", False),
    Column("platform", "platform", False),
    Column("threads", "threads", True),
    Column("matmul peak GFLOP/s", "matmul_peak_gflops_per_s", True),
)


def render_html(results: Mapping[str, Any]) -> str:
    """The whole report page; ``results`` as ``validate_results`` accepts them."""
    rows = latency_rows_for_table(results)
    title = f"rfloc benchmark: {results['suite'].get('name', 'unnamed suite')}"
    sections = [
        _header(results, title),
        _pareto_section(results, rows),
        _distribution_section(results),
        _learning_section(results),
        _latency_table_section(rows),
        _accuracy_table_section(results),
        _training_throughput_section(results),
        _int8_section(results),
        _held_out_section(results),
        _not_measured_section(results),
    ]
    return page(title, "\n".join(sections))


def write_html(results: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``render_html(results)`` atomically to ``path``."""
    write_text_atomic(path, render_html(results))
    return Path(path)


def _header(results: Mapping[str, Any], title: str) -> str:
    suite = results["suite"]
    started, finished = results["started_utc"] or "?", results["finished_utc"] or "?"
    parts = [f"<header><h1>{text(title)}</h1>"]
    if suite.get("description"):
        parts.append(f"<p>{text(suite['description'])}</p>")
    parts.append(f"<p>Started {text(started)}, finished {text(finished)} (UTC).</p>")
    parts += [
        f'<p class="warning"><strong>Busy machine.</strong> {text(busy.warning())}</p>'
        for busy in busy_machines(results)
    ]
    parts.append("<h2>Hardware</h2>")
    parts.append(table(_ENVIRONMENT_TABLE, environments_of(results), sortable=False))
    items = "".join(_hardware_item(use) for use in hardware_use(results))
    parts.append(f"<p>Which backends ran where:</p><ul>{items}</ul>")
    parts.append(
        '<p class="note">Latencies compare only within one machine; accuracy does not depend '
        "on the machine.</p></header>"
    )
    return "\n".join(parts)


def _hardware_item(use: HardwareUse) -> str:
    item = f"<li><strong>{text(use.machine)}</strong>: measured {_pairs(use.measured)}"
    if use.not_measured:
        item += f"; not measured: {_pairs(use.not_measured)} (see <em>Not measured</em>)"
    return item + "</li>"


def _pairs(pairs: Sequence[tuple[str, str]]) -> str:
    if not pairs:
        return "nothing"
    return ", ".join(f"{text(backend)} on {text(device)}" for backend, device in pairs)


def _pareto_section(results: Mapping[str, Any], rows: list[dict[str, Any]]) -> str:
    baselines_m = _baseline_medians_m(results)
    figures = [
        _pareto_figure(index, key, group, baselines_m, results["crb_rmse_m"])
        for index, (key, group) in enumerate(group_by_backend(rows).items())
    ]
    intro = (
        '<p class="note">One plot per backend and machine: p50 latency at batch 1 (log scale) '
        "against the model's median position error. The step line is the Pareto front (no "
        "other model is both faster and more accurate); dashed lines are the baselines, the "
        f"dotted line the {text(BOUND_LABEL)}.</p>"
    )
    body = "\n".join(figures) if figures else "<p>No latency was measured.</p>"
    return (
        f'<section id="pareto"><h2>Latency against accuracy</h2>{intro}'
        f'<div class="figures">{body}</div></section>'
    )


def _pareto_figure(
    index: int,
    key: BackendKey,
    group: list[dict[str, Any]],
    baselines_m: list[tuple[str, float]],
    crb_m: float | None,
) -> str:
    name = f"{key.backend} on {key.machine} ({key.device}, {key.precision})"
    batch = _plotted_batch(group)
    timed = [row for row in group if row["batch_size"] == batch and positive(row["p50_ms"])]
    points = [row for row in timed if finite(row["error_median_m"])]
    unplotted = sorted({row["model"] for row in timed} - {row["model"] for row in points})
    if not points:
        return (
            f'<div class="pareto-missing"><h3>{text(name)}</h3><p>Nothing to plot: no model '
            "has both a latency and an accuracy here; see <em>Not measured</em>.</p></div>"
        )
    for point in points:
        point["ranked"] = point.get("verdict") != "did not learn"
    figure = pareto_svg(name, batch, points, baselines_m, crb_m, f"pareto{index}")
    caption = text(name)
    if unplotted:
        caption += f"; left out, no accuracy: {text(', '.join(unplotted))}"
    attributes = f'data-backend="{text(key.backend)}" data-machine="{text(key.machine)}"'
    return (
        f'<figure class="pareto" {attributes}>{figure}<figcaption>{caption}</figcaption></figure>'
    )


def _plotted_batch(group: list[dict[str, Any]]) -> int | None:
    """Batch 1 where it was measured, else the smallest measured batch."""
    batches = {row["batch_size"] for row in group if row["status"] == "ok"}
    return 1 if 1 in batches else min(batches, default=None)


def _distribution_section(results: Mapping[str, Any]) -> str:
    labels = _accuracy_labels(results)
    cdfs = [
        (labels[index], row)
        for index, row in enumerate(results["accuracy"])
        if row["status"] == "ok" and row["error_cdf"] and finite_values(row["error_cdf"])
    ]
    calibrations = [
        (labels[index], row["calibration"])
        for index, row in enumerate(results["accuracy"])
        if row["status"] == "ok" and row["calibration"] and row["calibration"]["expected"]
    ]
    cdf = (
        f'<figure class="cdf">{cdf_svg(cdfs, results["crb_rmse_m"])}'
        "<figcaption>Error CDFs</figcaption></figure>"
        if cdfs
        else "<p>No error distribution was recorded.</p>"
    )
    caption = "Calibration: above the diagonal is under-confident, below over-confident"
    calibration = (
        f'<figure class="calibration">{calibration_svg(calibrations)}'
        f"<figcaption>{caption}</figcaption></figure>"
        if calibrations
        else "<p>No calibration curve was recorded.</p>"
    )
    return (
        '<section id="distributions"><h2>Error distributions and calibration</h2>'
        f'<div class="figures">{cdf}{calibration}</div></section>'
    )


def _learning_section(results: Mapping[str, Any]) -> str:
    labels = _accuracy_labels(results)
    series = []
    for index, row in enumerate(results["accuracy"]):
        curves = row.get("learning_curves") or []
        for curve in curves:
            label = labels[index] + (f", seed {curve['seed']}" if len(curves) > 1 else "")
            series.append((label, curve["steps"], curve["val_error_median_m"]))
    intro = (
        '<p class="note">Validation median error against optimizer steps (log scale), one line '
        "per model and seed; dashed: the baselines' median on the test set, dotted: the "
        f"{text(BOUND_LABEL)}. A curve still falling at its last step was stopped by the "
        "budget, not by convergence.</p>"
    )
    if not series:
        body = "<p>No learning curve was recorded.</p>"
    else:
        svg = learning_curve_svg(series, _baseline_medians_m(results), results["crb_rmse_m"])
        body = f'<figure class="curves">{svg}<figcaption>Learning curves</figcaption></figure>'
    return f'<section id="learning"><h2>Learning curves</h2>{intro}{body}</section>'


def _latency_table_section(rows: list[dict[str, Any]]) -> str:
    return (
        '<section id="latency"><h2>Every latency cell with its accuracy</h2>'
        '<p class="note">Click a header to sort by it; empty cells sort last.</p>'
        f"{table(_LATENCY_TABLE, rows, sortable=True)}</section>"
    )


def _accuracy_table_section(results: Mapping[str, Any]) -> str:
    bound_m = results["crb_rmse_m"]
    bound = "not available" if bound_m is None else f"{text(format_number(bound_m))} m"
    return (
        '<section id="accuracy"><h2>Accuracy</h2>'
        '<p class="note">Models and baselines on the same held-out test set.</p>'
        f"{table(_ACCURACY_TABLE, sorted_accuracy_rows(results), sortable=True)}"
        f"<p>{text(BOUND_LABEL)} of the test set: <strong>{bound}</strong>.</p></section>"
    )


def _training_throughput_section(results: Mapping[str, Any]) -> str:
    rows = training_throughput_rows(results)
    if not rows:
        return ""
    columns = tuple(
        Column(header, key, key not in ("model", "data_side"))
        for header, key in TRAINING_THROUGHPUT_COLUMNS
    )
    slower = [row["model"] for row in rows if row["data_side"] == DATA_SLOWER]
    warning = (
        f'<p class="warning"><strong>Data slower than training</strong> for '
        f"{text(', '.join(slower))}.</p>"
        if slower
        else ""
    )
    return (
        '<section id="training-throughput"><h2>Training throughput</h2>'
        f'<p class="note">{text(TRAINING_THROUGHPUT_NOTE)}</p>{warning}'
        f"{table(columns, rows, sortable=True)}</section>"
    )


def _int8_section(results: Mapping[str, Any]) -> str:
    rows = int8_rows(results)
    if not rows:
        return ""
    columns = tuple(
        Column(header, key, key not in ("model", "error_change", "validation"))
        for header, key in INT8_COLUMNS
    )
    return (
        '<section id="int8"><h2>INT8 against float32</h2>'
        f'<p class="note">{text(INT8_NOTE)}</p>{table(columns, rows, sortable=True)}</section>'
    )


def _held_out_section(results: Mapping[str, Any]) -> str:
    rows = held_out_rows(results)
    if not rows:
        return ""
    columns = tuple(
        Column(header, key, key not in ("model", "network")) for header, key in HELD_OUT_COLUMNS
    )
    return (
        '<section id="held-out"><h2>Held-out network</h2>'
        '<p class="note">Receiver-set models (trained on a new random network every sample) '
        "on a network no training sample drew, beside the RSS MLE and the Cramér–Rao bound of "
        f"that network.</p>{table(columns, rows, sortable=True)}</section>"
    )


def _not_measured_section(results: Mapping[str, Any]) -> str:
    cells = [
        {"what": cell.what, "status": cell.status, "reason": cell.reason}
        for cell in failed_cells(results)
    ]
    body = (
        table(_FAILED_TABLE, cells, sortable=True) if cells else "<p>Every cell was measured.</p>"
    )
    return f'<section id="not-measured"><h2>Not measured</h2>{body}</section>'


def _baseline_medians_m(results: Mapping[str, Any]) -> list[tuple[str, float]]:
    labels = _accuracy_labels(results)
    return [
        (labels[index], float(row["error_median_m"]))
        for index, row in enumerate(results["accuracy"])
        if row["kind"] == "baseline" and row["status"] == "ok" and finite(row["error_median_m"])
    ]


def _accuracy_labels(results: Mapping[str, Any]) -> list[str]:
    """Each accuracy row's name, with its scenario where the results hold several."""
    rows = results["accuracy"]
    several_scenarios = len({row["scenario"] for row in rows}) > 1
    return [
        f"{row['model']} ({row['scenario']})" if several_scenarios else str(row["model"])
        for row in rows
    ]
