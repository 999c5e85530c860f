"""A benchmark's report files, each written atomically: ``results.json`` (the results as given,
strict JSON), ``results.csv`` (one row per latency cell, timm-like column names, the model's
accuracy joined), ``report.md`` and the self-contained ``report.html``."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rfloc_core.atomic import write_text_atomic
from rfloc_core.bench.headline import headline_table
from rfloc_core.bench.int8_view import INT8_COLUMNS, INT8_NOTE, int8_rows
from rfloc_core.bench.report_html import render_html
from rfloc_core.bench.results import environments_of, validate_results
from rfloc_core.bench.results_views import (
    DATA_SLOWER,
    HELD_OUT_COLUMNS,
    TRAINING_THROUGHPUT_COLUMNS,
    TRAINING_THROUGHPUT_NOTE,
    BackendKey,
    busy_machines,
    failed_cells,
    format_number,
    group_by_backend,
    hardware_use,
    held_out_rows,
    latency_rows_for_table,
    per_machine,
    sorted_accuracy_rows,
    training_throughput_rows,
)

RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
REPORT_FILES = (RESULTS_JSON, RESULTS_CSV, REPORT_MD, REPORT_HTML)


def report_files_in(folder: Path) -> tuple[str, ...]:
    """The report files of ``folder`` when it holds an rfloc report written before folders
    kept a record of their files (its results.json reads as rfloc results), else none."""
    from rfloc_core.bench.results import load_results
    from rfloc_core.errors import RflocError

    try:
        load_results(folder / RESULTS_JSON)
    except RflocError:
        return ()
    return REPORT_FILES


CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "model"),
    ("family", "family"),
    ("backend", "backend"),
    ("machine", "machine"),
    ("device", "device"),
    ("precision", "precision"),
    ("infer_batch_size", "batch_size"),
    ("infer_samples_per_sec", "samples_per_s"),
    ("infer_step_time", "p50_ms"),
    ("infer_p90_ms", "p90_ms"),
    ("infer_p95_ms", "p95_ms"),
    ("infer_p99_ms", "p99_ms"),
    ("infer_cv", "cv"),
    ("param_count", "params_m"),
    ("infer_gflops", "gflops"),
    ("infer_gflops_per_sec", "achieved_gflops_per_s"),
    ("peak_memory_mb", "peak_memory_mb"),
    ("other_cpus_busy", "other_cpus_busy"),
    ("error_median_m", "error_median_m"),
    ("error_p95_m", "error_p95_m"),
    ("ratio_to_crb", "ratio_to_crb"),
    ("inside_1sigma", "inside_1sigma"),
    ("status", "status"),
    ("reason", "reason"),
    ("accuracy_status", "accuracy_status"),
    ("accuracy_reason", "accuracy_reason"),
)
"""(CSV column, key of ``latency_rows_for_table``); ``infer_step_time`` is the p50 in ms and
``param_count`` is in millions, as in timm's benchmark.py."""

_SIGMA = "\N{GREEK SMALL LETTER SIGMA}"
_BOUND_LABEL = "Cram\N{LATIN SMALL LETTER E WITH ACUTE}r\N{EN DASH}Rao RMSE bound"

_LATENCY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "model"),
    ("family", "family"),
    ("batch", "batch_size"),
    ("p50 ms", "p50_ms"),
    ("p90 ms", "p90_ms"),
    ("p95 ms", "p95_ms"),
    ("p99 ms", "p99_ms"),
    ("CV", "cv"),
    ("samples/s", "samples_per_s"),
    ("peak MB", "peak_memory_mb"),
    ("others' CPUs", "other_cpus_busy"),
    ("params M", "params_m"),
    ("GFLOPs", "gflops"),
    ("GFLOP/s", "achieved_gflops_per_s"),
    ("fraction of peak", "fraction_of_peak"),
    ("median error m", "error_median_m"),
    ("p95 error m", "error_p95_m"),
    ("ratio to CRB", "ratio_to_crb"),
    (f"inside 1{_SIGMA}", "inside_1sigma"),
)

_ACCURACY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "model"),
    ("kind", "kind"),
    ("family", "family"),
    ("scenario", "scenario"),
    ("seeds", "seeds"),
    ("train samples", "train_samples"),
    ("steps", "steps"),
    ("batch", "batch_size"),
    ("learning rate", "learning_rate"),
    ("loss", "loss"),
    ("test samples", "test_samples"),
    ("mean m", "error_mean_m"),
    ("median m", "error_median_m"),
    ("p68 m", "error_p68_m"),
    ("p95 m", "error_p95_m"),
    ("RMSE m", "error_rmse_m"),
    ("ratio to CRB", "ratio_to_crb"),
    (f"inside 1{_SIGMA}", "inside_1sigma"),
    (f"inside 2{_SIGMA}", "inside_2sigma"),
    (f"{_SIGMA} scale", "sigma_scale"),
    ("NLL", "nll_mean"),
    ("train s", "train_seconds"),
    ("verdict", "verdict"),
    ("status", "status"),
)

_ENVIRONMENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("machine", "label"),
    ("host", "hostname"),
    ("CPU", "cpu"),
    ("GPU", "gpu"),
    ("driver", "driver"),
    ("Python", "python"),
    ("torch", "torch"),
    ("ONNX Runtime", "onnxruntime"),
    ("TensorRT", "tensorrt"),
    ("platform", "platform"),
    ("threads", "threads"),
    ("matmul peak GFLOP/s", "matmul_peak_gflops_per_s"),
)


def write_report(results: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``results.json``, ``results.csv``, ``report.md`` and ``report.html`` to
    ``out_dir``; returns their paths in that order."""
    checked = validate_results(dict(results), source="the results passed to write_report")
    out_dir = Path(out_dir)
    texts = {
        RESULTS_JSON: results_json(checked),
        RESULTS_CSV: results_csv(checked),
        REPORT_MD: render_markdown(checked),
        REPORT_HTML: render_html(checked),
    }
    for name, text in texts.items():
        write_text_atomic(out_dir / name, text)
    return [out_dir / name for name in texts]


def results_json(results: Mapping[str, Any]) -> str:
    """The results as strict JSON: NaN and infinities, which JSON cannot hold, become null."""
    return json.dumps(_finite_or_null(results), indent=2, allow_nan=False) + "\n"


def results_csv(results: Mapping[str, Any]) -> str:
    """One row per latency cell under ``CSV_COLUMNS``; null cells are empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column for column, _ in CSV_COLUMNS])
    for row in latency_rows_for_table(results):
        writer.writerow([_csv_cell(row[key]) for _, key in CSV_COLUMNS])
    return buffer.getvalue()


def render_markdown(results: Mapping[str, Any]) -> str:
    """The report as Markdown: hardware, latency against accuracy per backend, accuracy with
    baselines and the bound, training throughput beside a bare loop, and every cell that was
    not measured with its reason."""
    rows = latency_rows_for_table(results)
    sections = [
        _markdown_title(results),
        *_markdown_busy(results),
        *_markdown_summary(results),
        _markdown_hardware(results),
        _markdown_latency(group_by_backend(rows)),
        _markdown_accuracy(results),
        *_markdown_training_throughput(results),
        *_markdown_int8(results),
        *_markdown_held_out(results),
        _markdown_not_measured(results),
    ]
    return "\n\n".join(sections) + "\n"


def _finite_or_null(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(key): _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_null(item) for item in value]
    return value


def _csv_cell(value: Any) -> str:
    return "" if value is None else str(value)


def _markdown_title(results: Mapping[str, Any]) -> str:
    suite = results["suite"]
    lines = [f"# Benchmark report: {_md_text(suite.get('name', 'unnamed suite'))}"]
    if suite.get("description"):
        lines += ["", _md_text(suite["description"])]
    started, finished = results["started_utc"] or "?", results["finished_utc"] or "?"
    lines += ["", f"Started {_md_text(started)}, finished {_md_text(finished)} (UTC)."]
    return "\n".join(lines)


def _markdown_summary(results: Mapping[str, Any]) -> list[str]:
    """The headline table, one per machine of merged results."""
    parts = []
    for machine, view in per_machine(results):
        headers, rows = headline_table(view)
        parts.append(
            f"Measured on {_md_text(machine)}. Latency: median of single calls; accuracy: "
            "the same held-out test set for every row.\n\n"
            + _md_table(headers, [[_md_text(cell) for cell in row] for row in rows])
        )
    return ["## Summary\n\n" + "\n\n".join(parts)] if parts else []


def _markdown_busy(results: Mapping[str, Any]) -> list[str]:
    return [f"> **Busy machine.** {_md_text(busy.warning())}" for busy in busy_machines(results)]


def _markdown_hardware(results: Mapping[str, Any]) -> str:
    environments = environments_of(results)
    table = _md_table(
        [header for header, _ in _ENVIRONMENT_COLUMNS],
        [[_md_value(env.get(key)) for _, key in _ENVIRONMENT_COLUMNS] for env in environments],
    )
    lines = [
        _md_hardware_line(u.machine, u.measured, u.not_measured) for u in hardware_use(results)
    ]
    note = "Latencies compare only within one machine; accuracy does not depend on the machine."
    return "\n\n".join(["## Hardware", table, "Which backends ran where:", "\n".join(lines), note])


def _md_hardware_line(
    machine: str, measured: Sequence[tuple[str, str]], not_measured: Sequence[tuple[str, str]]
) -> str:
    line = f"- **{_md_text(machine)}**: measured {_md_pairs(measured) or 'nothing'}"
    if not_measured:
        line += f"; not measured: {_md_pairs(not_measured)} (see *Not measured*)"
    return line


def _md_pairs(pairs: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{_md_text(backend)} on {_md_text(device)}" for backend, device in pairs)


def _markdown_latency(groups: Mapping[BackendKey, list[dict[str, Any]]]) -> str:
    parts = ["## Latency against accuracy", "Per backend, sorted by batch size, then p50."]
    if not groups:
        parts.append("No latency was measured.")
    for key, rows in groups.items():
        measured = [row for row in rows if row["status"] == "ok"]
        measured.sort(key=lambda row: (row["batch_size"], _sort_number(row["p50_ms"])))
        parts.append(
            f"### {_md_text(key.backend)} on {_md_text(key.machine)} "
            f"({_md_text(key.device)}, {_md_text(key.precision)})"
        )
        if not measured:
            parts.append("Nothing measured; the reasons are under *Not measured*.")
            continue
        parts.append(
            _md_table(
                [header for header, _ in _LATENCY_COLUMNS],
                [[_md_value(row[key]) for _, key in _LATENCY_COLUMNS] for row in measured],
            )
        )
    return "\n\n".join(parts)


def _markdown_accuracy(results: Mapping[str, Any]) -> str:
    rows = sorted_accuracy_rows(results)
    bound_m = results["crb_rmse_m"]
    bound = "not available" if bound_m is None else f"**{format_number(bound_m)} m**"
    parts = [
        "## Accuracy",
        "Models and baselines on the same held-out test set, sorted by median error. The "
        "prior always answers the training set's mean position; a model whose median error is "
        "within 10 % of the prior's did not learn, and is not ranked.",
    ]
    if rows:
        parts.append(
            _md_table(
                [header for header, _ in _ACCURACY_COLUMNS],
                [[_md_value(row[key]) for _, key in _ACCURACY_COLUMNS] for row in rows],
            )
        )
    else:
        parts.append("No accuracy was measured.")
    parts.append(f"{_BOUND_LABEL} of the test set: {bound}.")
    return "\n\n".join(parts)


def _markdown_training_throughput(results: Mapping[str, Any]) -> list[str]:
    rows = training_throughput_rows(results)
    if not rows:
        return []
    table = _md_table(
        [header for header, _ in TRAINING_THROUGHPUT_COLUMNS],
        [[_md_flagged(row[key]) for _, key in TRAINING_THROUGHPUT_COLUMNS] for row in rows],
    )
    parts = ["## Training throughput", _md_text(TRAINING_THROUGHPUT_NOTE)]
    slower = [str(row["model"]) for row in rows if row["data_side"] == DATA_SLOWER]
    if slower:
        parts.append(f"> **Data slower than training** for {_md_text(', '.join(slower))}.")
    return ["\n\n".join([*parts, table])]


def _markdown_int8(results: Mapping[str, Any]) -> list[str]:
    rows = int8_rows(results)
    if not rows:
        return []
    table = _md_table(
        [header for header, _ in INT8_COLUMNS],
        [[_md_value(row[key]) for _, key in INT8_COLUMNS] for row in rows],
    )
    return ["\n\n".join(["## INT8 against float32", _md_text(INT8_NOTE), table])]


def _md_flagged(value: Any) -> str:
    """A cell, in bold where the data side is slower than training."""
    return f"**{_md_text(value)}**" if value == DATA_SLOWER else _md_value(value)


def _markdown_held_out(results: Mapping[str, Any]) -> list[str]:
    rows = held_out_rows(results)
    if not rows:
        return []
    return [
        "## Held-out network\n\n"
        "Receiver-set models (trained on a new random network every sample) on a network no "
        "training sample drew, beside the RSS MLE and the Cramér–Rao bound of that network.\n\n"
        + _md_table(
            [header for header, _ in HELD_OUT_COLUMNS],
            [[_md_value(row[key]) for _, key in HELD_OUT_COLUMNS] for row in rows],
        )
    ]


def _markdown_not_measured(results: Mapping[str, Any]) -> str:
    cells = failed_cells(results)
    if not cells:
        return "## Not measured\n\nEvery cell was measured."
    lines = [
        f"- {_md_text(cell.what)}: **{_md_text(cell.status)}**: {_md_text(cell.reason)}"
        for cell in cells
    ]
    return "## Not measured\n\n" + "\n".join(lines)


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(_md_text(header) for header in headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _md_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return _md_text(", ".join(str(item) for item in value))
    return _md_text(format_number(value))


def _md_text(text: object) -> str:
    """One line, safe inside a table cell, with no raw HTML."""
    one_line = " ".join(str(text).split())
    return one_line.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def _sort_number(value: Any) -> float:
    return math.inf if value is None else float(value)
