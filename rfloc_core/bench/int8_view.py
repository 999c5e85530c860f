"""The INT8 table of the reports: each model's INT8 file beside float32 ONNX Runtime, latency
and accuracy on the same machine and test set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rfloc_core.bench.backend_names import INT8_BACKEND
from rfloc_core.bench.results import machine_of
from rfloc_core.bench.results_views import accuracy_by_model

FLOAT_BACKEND = "onnxruntime"

INT8_COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "model"),
    ("batch", "batch_size"),
    ("fp32 ONNX Runtime p50 ms", "float_p50_ms"),
    ("INT8 p50 ms", "int8_p50_ms"),
    ("speed-up", "speedup"),
    ("fp32 median error m", "float_error_median_m"),
    ("INT8 median error m", "int8_error_median_m"),
    ("median error change", "error_change"),
    ("fp32 RMSE / CRB", "float_ratio_to_crb"),
    ("INT8 RMSE / CRB", "int8_ratio_to_crb"),
    ("INT8 validation", "validation"),
)
"""(header, key) of the INT8 table, in the Markdown and the HTML report."""

INT8_NOTE = (
    "The onnx_int8 exporter's file (ONNX Runtime static quantization, QDQ, weights int8 per "
    "channel, activations uint8 with ranges of ± the 99.999th percentile of each "
    "activation's magnitude over 256 samples simulated from the checkpoint's scenario) "
    "against the float32 ONNX file, both on ONNX Runtime's CPU provider in the same "
    "interleaved rounds. Accuracy is the trained model's (the first seed's) on the same test "
    "set, run through each file: the float32 file matches PyTorch within float32 rounding, so "
    "PyTorch's figures are its. Validation is against PyTorch with the INT8 tolerance (atol "
    "50 m + rtol 0.05 of each output's largest value) on simulated inputs."
)


def int8_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per model and batch size where both files were timed on one machine and the
    INT8 file's accuracy was measured; flat dicts with the keys of ``INT8_COLUMNS``."""
    accuracy = accuracy_by_model(results)
    timed: dict[tuple[str, str, str, int], float] = {}
    for row in results["latency"]:
        if row["status"] == "ok" and row["backend"] in (FLOAT_BACKEND, INT8_BACKEND):
            key = (machine_of(row, results), row["model"], row["backend"], row["batch_size"])
            timed[key] = row["p50_ms"]
    rows = []
    for (machine, model, backend, batch), int8_ms in timed.items():
        float_ms = timed.get((machine, model, FLOAT_BACKEND, batch))
        measured = accuracy.get(model)
        if backend != INT8_BACKEND or float_ms is None or measured is None:
            continue
        exported = (measured.get("exported") or {}).get(INT8_BACKEND)
        if measured["status"] != "ok" or exported is None or "error" in exported:
            continue
        # The same seed's PyTorch model (results from before it was recorded had one seed).
        reference = exported.get("reference") or measured
        float_median, int8_median = reference["error_median_m"], exported["error_median_m"]
        passed = exported.get("validation_passed")
        rows.append(
            {
                "model": model,
                "batch_size": batch,
                "float_p50_ms": float_ms,
                "int8_p50_ms": int8_ms,
                "speedup": float_ms / int8_ms if int8_ms else None,
                "float_error_median_m": float_median,
                "int8_error_median_m": int8_median,
                "error_change": f"{(int8_median / float_median - 1) * 100:+.1f} %"
                if float_median
                else None,
                "float_ratio_to_crb": reference["ratio_to_crb"],
                "int8_ratio_to_crb": exported["ratio_to_crb"],
                "validation": None if passed is None else ("passed" if passed else "missed"),
            }
        )
    return sorted(rows, key=lambda row: (row["batch_size"], row["model"]))
