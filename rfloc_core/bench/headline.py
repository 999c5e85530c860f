"""The one table a benchmark run ends with: one row per model, its size, its median latency
on each backend at the smallest batch size, and its accuracy; then the baselines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rfloc_core.bench.results_views import (
    DID_NOT_LEARN,
    accuracy_by_model,
    did_not_learn,
    format_number,
)


def headline_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Column headers and rows of text cells."""
    latency = [row for row in results["latency"]]
    smallest = min((row["batch_size"] for row in latency), default=1)
    backends = list(dict.fromkeys(row["backend"] for row in latency))
    accuracy = accuracy_by_model(results)
    models = list(dict.fromkeys([row["model"] for row in latency] + list(accuracy)))
    headers = [
        "model",
        "params M",
        "GFLOPs",
        *(f"{backend} p50 ms (batch {smallest})" for backend in backends),
        "median error m",
        "p95 error m",
        "RMSE / CRB",
        "inside 1σ",
    ]
    rows: list[list[str]] = []
    for model in models:
        cells = [row for row in latency if row["model"] == model]
        figures = next((row for row in cells if row["params_m"] is not None), None)
        measured = accuracy.get(model)
        flagged = measured is not None and did_not_learn(measured, results)
        row = [
            f"{model} ({DID_NOT_LEARN})" if flagged else model,
            format_number(figures["params_m"]) if figures else "—",
            format_number(figures["gflops"]) if figures else "—",
        ]
        for backend in backends:
            found = next(
                (c for c in cells if c["backend"] == backend and c["batch_size"] == smallest),
                None,
            )
            row.append(_latency_text(found))
        row += _accuracy_cells(measured)
        rows.append(row)
    for baseline in results["accuracy"]:
        if baseline["kind"] == "baseline":
            name = f"{baseline['model']} (baseline)"
            dashes = ["—"] * (2 + len(backends))
            rows.append([name, *dashes, *_accuracy_cells(baseline)])
    return headers, rows


def _latency_text(row: Mapping[str, Any] | None) -> str:
    if row is None:
        return "—"
    if row["status"] == "ok":
        return format_number(row["p50_ms"])
    return str(row["status"])


def _accuracy_cells(row: Mapping[str, Any] | None) -> list[str]:
    if row is None:
        return ["—"] * 4
    if row["status"] != "ok":
        return [row["status"], "—", "—", "—"]
    keys = ("error_median_m", "error_p95_m", "ratio_to_crb", "inside_1sigma")
    return [format_number(row[key]) for key in keys]
