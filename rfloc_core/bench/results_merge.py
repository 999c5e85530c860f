"""Merging benchmark results from several runs, possibly on several machines, into one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rfloc_core.bench.results import (
    RESULTS_FORMAT,
    RESULTS_VERSION,
    BenchResultsError,
    environments_of,
    machine_of,
    validate_results,
)


def merge_results(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One results object from several runs, possibly on several machines.

    Every latency row gains ``machine`` (its environment's label); a later row with the same
    machine, model, backend, device, precision and batch size replaces an earlier one. Accuracy
    rows are de-duplicated by (model, scenario, seeds), keeping the last. Environments are kept
    under ``environments``, one per label (the last of each label).
    """
    if not results:
        raise BenchResultsError(
            "expected at least one results object to merge, got none; "
            "pass e.g. [load_results(a), load_results(b)]"
        )
    parts = [validate_results(part, source=f"results[{i}]") for i, part in enumerate(results)]
    crb_values_m = [part["crb_rmse_m"] for part in parts if part["crb_rmse_m"] is not None]
    environments = _merged_environments(parts)
    return {
        "format": RESULTS_FORMAT,
        "format_version": RESULTS_VERSION,
        "suite": _merged_suite([part["suite"] for part in parts]),
        "environments": environments,
        "started_utc": _extreme_time([part["started_utc"] for part in parts], earliest=True),
        "finished_utc": _extreme_time([part["finished_utc"] for part in parts], earliest=False),
        "latency": _against_kept_peaks(_merged_latency(parts), environments),
        "accuracy": _merged_accuracy(parts),
        "crb_rmse_m": crb_values_m[-1] if crb_values_m else None,
    }


def _merged_suite(suites: list[dict[str, Any]]) -> dict[str, Any]:
    if all(suite == suites[0] for suite in suites):
        return dict(suites[0])
    names = list(dict.fromkeys(str(suite.get("name", "?")) for suite in suites))
    return {"name": " + ".join(names), "merged": suites}


def _merged_environments(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_label: dict[str, dict[str, Any]] = {}
    for part in parts:
        for environment in environments_of(part):
            by_label[str(environment["label"])] = environment
    return list(by_label.values())


def _merged_latency(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_cell: dict[tuple[Any, ...], dict[str, Any]] = {}
    for part in parts:
        for row in part["latency"]:
            merged = {**row, "machine": machine_of(row, part)}
            cell = ("machine", "model", "backend", "device", "precision", "batch_size")
            by_cell[tuple(merged[key] for key in cell)] = merged
    return list(by_cell.values())


def _against_kept_peaks(
    rows: list[dict[str, Any]], environments: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each row's fraction of peak against the matmul peak its machine's Hardware row shows
    (a machine measured in two runs keeps its last run's peak)."""
    peaks = {str(env["label"]): env.get("matmul_peak_gflops_per_s") for env in environments}
    for row in rows:
        peak = peaks.get(str(row["machine"]))
        achieved = row.get("achieved_gflops_per_s")
        if achieved is not None and peak:
            row["fraction_of_peak"] = achieved / peak
    return rows


def _merged_accuracy(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_run: dict[tuple[Any, ...], dict[str, Any]] = {}
    for part in parts:
        for row in part["accuracy"]:
            by_run[(row["model"], row["scenario"], tuple(row["seeds"]))] = dict(row)
    return list(by_run.values())


def _extreme_time(times_utc: list[str | None], *, earliest: bool) -> str | None:
    """ISO 8601 UTC times in one format sort as text."""
    known = [time for time in times_utc if time is not None]
    if not known:
        return None
    return min(known) if earliest else max(known)
