"""The benchmark results format, ``rfloc-bench-results`` version 1: its types, loading with
validation, merging runs from several machines, and the flat rows the reports tabulate.

A run on one machine has an ``environment``; merged results have ``environments`` instead and
every latency row names its ``machine`` (the environment's label). Numbers are null where a
cell was not measured (status ``unavailable`` or ``error``, with a ``reason``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypedDict

from rfloc_core.bench.contention import BUSY_OTHER_CPUS
from rfloc_core.errors import RflocError

RESULTS_FORMAT = "rfloc-bench-results"
RESULTS_VERSION = 1

Status = Literal["ok", "unavailable", "error"]
UNKNOWN_MACHINE = "unknown machine"


class BenchResultsError(RflocError):
    """Benchmark results that do not follow the ``rfloc-bench-results`` format."""


class Environment(TypedDict):
    label: str
    hostname: str
    cpu: str
    gpu: str | None
    driver: str | None
    python: str
    torch: str
    onnxruntime: str | None
    tensorrt: str | None
    platform: str
    threads: int
    matmul_peak_gflops_per_s: float | None


class _LatencyRowFields(TypedDict):
    model: str
    family: str
    backend: str
    device: str
    precision: str
    batch_size: int
    threads: int
    status: Status
    reason: str | None
    p50_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    cv: float | None
    iterations: int | None
    samples_per_s: float | None
    peak_memory_mb: float | None
    params_m: float | None
    gflops: float | None
    achieved_gflops_per_s: float | None
    fraction_of_peak: float | None


class LatencyRow(_LatencyRowFields, total=False):
    other_cpus_busy: float | None
    """CPUs other processes kept busy on average while the cell was timed (absent in results
    written before it was recorded)."""


class MachineLatencyRow(LatencyRow):
    """A latency row of merged results: it names the machine that measured it."""

    machine: str


class ErrorCdf(TypedDict):
    errors_m: list[float]
    """Sorted quantiles of the position error, at most 200."""


class Calibration(TypedDict):
    expected: list[float]
    observed: list[float]
    """Fraction of truths inside the k-sigma ellipse, one per ``expected`` fraction."""


class AccuracyRow(TypedDict):
    model: str
    family: str | None
    kind: Literal["model", "baseline"]
    scenario: str
    seeds: list[int]
    train_samples: int | None
    test_samples: int | None
    status: Status
    reason: str | None
    error_mean_m: float | None
    error_median_m: float | None
    error_p68_m: float | None
    error_p95_m: float | None
    error_rmse_m: float | None
    ratio_to_crb: float | None
    inside_1sigma: float | None
    inside_2sigma: float | None
    nll_mean: float | None
    train_seconds: float | None
    error_cdf: ErrorCdf | None
    calibration: Calibration | None


class BenchResults(TypedDict):
    """The keys every results object has, merged or not."""

    format: str
    format_version: int
    suite: dict[str, Any]
    started_utc: str | None
    finished_utc: str | None
    latency: list[LatencyRow]
    accuracy: list[AccuracyRow]
    crb_rmse_m: float | None


class RunResults(BenchResults):
    """One run on one machine."""

    environment: Environment


class MergedResults(BenchResults):
    """Several runs; each latency row is a ``MachineLatencyRow``."""

    environments: list[Environment]


class BackendKey(NamedTuple):
    """The latency cells that are comparable with each other."""

    machine: str
    backend: str
    device: str
    precision: str


@dataclass(frozen=True)
class HardwareUse:
    """Which backends one machine measured, and which it could not."""

    machine: str
    measured: tuple[tuple[str, str], ...]
    """(backend, device) pairs with at least one row of status ok."""
    not_measured: tuple[tuple[str, str], ...]
    """(backend, device) pairs whose every row is unavailable or failed."""


@dataclass(frozen=True)
class FailedCell:
    """A latency or accuracy cell that was not measured, and why."""

    what: str
    status: str
    reason: str


@dataclass(frozen=True)
class BusyMachine:
    """A machine where other processes competed for the CPUs while latencies were timed."""

    machine: str
    busy_cells: int
    """Latency cells timed while other processes kept ``BUSY_OTHER_CPUS`` or more busy."""
    known_cells: int
    """Latency cells whose other processes' CPU use is known."""
    most_other_cpus: float

    def warning(self) -> str:
        return (
            f"On {self.machine}, other processes kept up to {self.most_other_cpus:.1f} CPUs "
            f"busy while {self.busy_cells} of {self.known_cells} latency cells were timed: "
            "those latencies are inflated, and not by the same factor for every backend. "
            "Rerun the benchmark on a quiet machine before comparing them."
        )


TABLE_ACCURACY_KEYS = ("error_median_m", "error_p95_m", "ratio_to_crb", "inside_1sigma")


def load_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results JSON file and check its format, version and required keys."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BenchResultsError(
            f"expected a readable bench results file at {path}, got {error.strerror or error}; "
            "check the path or rerun the benchmark"
        ) from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BenchResultsError(
            f"expected JSON in bench results file {path}, got invalid JSON at line "
            f"{error.lineno} ({error.msg}); rerun the benchmark to rewrite it"
        ) from error
    return validate_results(data, source=f"bench results file {path}")


def validate_results(results: object, *, source: str = "bench results") -> dict[str, Any]:
    """``results`` itself once its format, version and required keys are checked."""
    mapping = _checked_mapping(results, "the top level", source)
    _require_keys(mapping, _required_keys(BenchResults), "the top level", source)
    if mapping["format"] != RESULTS_FORMAT:
        raise BenchResultsError(
            f"expected format {RESULTS_FORMAT!r} in {source}, got {mapping['format']!r}; "
            "pass a results.json written by the rfloc benchmark"
        )
    if mapping["format_version"] != RESULTS_VERSION:
        raise BenchResultsError(
            f"expected format_version {RESULTS_VERSION} in {source}, got "
            f"{mapping['format_version']!r}; read it with the rfloc-core that wrote it or rerun "
            "the benchmark"
        )
    for index, environment in enumerate(_checked_environments(mapping, source)):
        where = f"environment {index}"
        _require_keys(
            _checked_mapping(environment, where, source), _ENVIRONMENT_KEYS, where, source
        )
    _check_rows(mapping, "latency", _required_keys(LatencyRow), source)
    _check_rows(mapping, "accuracy", _required_keys(AccuracyRow), source)
    return mapping


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
    return {
        "format": RESULTS_FORMAT,
        "format_version": RESULTS_VERSION,
        "suite": _merged_suite([part["suite"] for part in parts]),
        "environments": _merged_environments(parts),
        "started_utc": _extreme_time([part["started_utc"] for part in parts], earliest=True),
        "finished_utc": _extreme_time([part["finished_utc"] for part in parts], earliest=False),
        "latency": _merged_latency(parts),
        "accuracy": _merged_accuracy(parts),
        "crb_rmse_m": crb_values_m[-1] if crb_values_m else None,
    }


def environments_of(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The environments of merged results, or the one environment of a single run."""
    if "environments" in results:
        return list(results["environments"])
    return [results["environment"]]


def machine_of(row: Mapping[str, Any], results: Mapping[str, Any]) -> str:
    """The label of the machine that measured a latency row."""
    if row.get("machine"):
        return str(row["machine"])
    environments = environments_of(results)
    return str(environments[0]["label"]) if len(environments) == 1 else UNKNOWN_MACHINE


def accuracy_by_model(results: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each model's accuracy row (not baselines): the last one with status ok, else the last."""
    chosen: dict[str, dict[str, Any]] = {}
    for row in results["accuracy"]:
        if row["kind"] != "model":
            continue
        previous = chosen.get(row["model"])
        if previous is None or row["status"] == "ok" or previous["status"] != "ok":
            chosen[row["model"]] = row
    return chosen


def latency_rows_for_table(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every latency row, flat: ``machine``, the latency keys, then the model's accuracy
    (``error_median_m``, ``error_p95_m``, ``ratio_to_crb``, ``inside_1sigma``, null unless its
    accuracy row is ok) and that row's ``accuracy_status`` and ``accuracy_reason``."""
    accuracy = accuracy_by_model(results)
    return [
        _table_row(row, machine_of(row, results), accuracy.get(row["model"]))
        for row in results["latency"]
    ]


def group_by_backend(rows: Iterable[Mapping[str, Any]]) -> dict[BackendKey, list[dict[str, Any]]]:
    """Flat latency rows grouped by machine, backend, device and precision, in first-seen order."""
    groups: dict[BackendKey, list[dict[str, Any]]] = {}
    for row in rows:
        key = BackendKey(row["machine"], row["backend"], row["device"], row["precision"])
        groups.setdefault(key, []).append(dict(row))
    return groups


def hardware_use(results: Mapping[str, Any]) -> list[HardwareUse]:
    """For each machine, the backends it measured and those it could not, in row order."""
    machines = [str(environment["label"]) for environment in environments_of(results)]
    statuses: dict[str, dict[tuple[str, str], bool]] = {machine: {} for machine in machines}
    for row in results["latency"]:
        cells = statuses.setdefault(machine_of(row, results), {})
        pair = (str(row["backend"]), str(row["device"]))
        cells[pair] = cells.get(pair, False) or row["status"] == "ok"
    return [
        HardwareUse(
            machine=machine,
            measured=tuple(pair for pair, ok in cells.items() if ok),
            not_measured=tuple(pair for pair, ok in cells.items() if not ok),
        )
        for machine, cells in statuses.items()
    ]


def sorted_accuracy_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Accuracy rows, models and baselines, by median error; unmeasured ones last."""
    return sorted(
        results["accuracy"],
        key=lambda row: (row["error_median_m"] is None, row["error_median_m"] or 0.0),
    )


def failed_cells(results: Mapping[str, Any]) -> list[FailedCell]:
    """Every latency and accuracy row whose status is not ok, described for people."""
    cells = [
        FailedCell(_latency_cell(row, machine_of(row, results)), row["status"], _reason(row))
        for row in results["latency"]
        if row["status"] != "ok"
    ]
    cells += [
        FailedCell(_accuracy_cell(row), row["status"], _reason(row))
        for row in results["accuracy"]
        if row["status"] != "ok"
    ]
    return cells


def busy_machines(results: Mapping[str, Any]) -> list[BusyMachine]:
    """The machines with latency cells timed while other processes kept at least
    ``BUSY_OTHER_CPUS`` CPUs busy (the ``other_cpus_busy`` column), in first-seen order."""
    known: dict[str, list[float]] = {}
    for row in results["latency"]:
        other_cpus = row.get("other_cpus_busy")
        if isinstance(other_cpus, int | float) and math.isfinite(other_cpus):
            known.setdefault(machine_of(row, results), []).append(float(other_cpus))
    return [
        BusyMachine(machine, sum(x >= BUSY_OTHER_CPUS for x in values), len(values), max(values))
        for machine, values in known.items()
        if max(values) >= BUSY_OTHER_CPUS
    ]


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated points, lower being better on both axes, ordered by the
    first coordinate; points with a non-finite coordinate are never on the front, and equal
    points are all kept since neither dominates the other."""
    order = sorted(
        (index for index, point in enumerate(points) if all(map(math.isfinite, point))),
        key=lambda index: points[index],
    )
    front: list[int] = []
    best_y = math.inf
    for index in order:
        if points[index][1] < best_y or (front and points[index] == points[front[-1]]):
            front.append(index)
            best_y = min(best_y, points[index][1])
    return front


def format_number(value: object, digits: int = 3) -> str:
    """A number for people: ``digits`` significant digits, thousands separated, ``—`` for
    null or NaN."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "—"
    if math.isinf(value) or abs(value) >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _required_keys(typed_dict: type) -> tuple[str, ...]:
    required: frozenset[str] = getattr(typed_dict, "__required_keys__", frozenset())
    return tuple(key for key in typed_dict.__annotations__ if key in required)


_ENVIRONMENT_KEYS = _required_keys(Environment)


def _checked_mapping(value: object, where: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BenchResultsError(
            f"expected a JSON object at {where} of {source}, got {type(value).__name__}; "
            "rerun the benchmark to rewrite it"
        )
    return value


def _require_keys(mapping: Mapping[str, Any], keys: Iterable[str], where: str, source: str) -> None:
    for key in keys:
        if key not in mapping:
            raise BenchResultsError(
                f"expected key {key!r} in {where} of {source}, got only {sorted(mapping)}; "
                f"rerun the benchmark, or add {key!r} (null where unknown)"
            )


def _checked_environments(mapping: Mapping[str, Any], source: str) -> list[Any]:
    if "environments" in mapping and isinstance(mapping["environments"], list):
        return list(mapping["environments"])
    if "environment" in mapping:
        return [mapping["environment"]]
    raise BenchResultsError(
        f"expected key 'environment' (one run) or a list under 'environments' (merged) at the "
        f"top level of {source}, got neither; rerun the benchmark to record its environment"
    )


def _check_rows(mapping: Mapping[str, Any], key: str, required: Sequence[str], source: str) -> None:
    rows = mapping[key]
    if not isinstance(rows, list):
        raise BenchResultsError(
            f"expected a list under {key!r} in {source}, got {type(rows).__name__}; "
            "rerun the benchmark to rewrite it"
        )
    for index, row in enumerate(rows):
        where = f"{key} row {index}"
        _require_keys(_checked_mapping(row, where, source), required, where, source)


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


def _table_row(
    row: Mapping[str, Any], machine: str, accuracy: Mapping[str, Any] | None
) -> dict[str, Any]:
    flat: dict[str, Any] = {"machine": machine}
    flat |= {key: row[key] for key in _required_keys(LatencyRow)}
    flat["other_cpus_busy"] = row.get("other_cpus_busy")
    measured = accuracy if accuracy is not None and accuracy["status"] == "ok" else None
    flat |= {key: None if measured is None else measured[key] for key in TABLE_ACCURACY_KEYS}
    flat["accuracy_status"] = None if accuracy is None else accuracy["status"]
    flat["accuracy_reason"] = None if accuracy is None else accuracy["reason"]
    return flat


def _latency_cell(row: Mapping[str, Any], machine: str) -> str:
    return (
        f"latency of {row['model']} at batch {row['batch_size']}: {row['backend']} on "
        f"{machine} ({row['device']}, {row['precision']})"
    )


def _accuracy_cell(row: Mapping[str, Any]) -> str:
    seeds = ", ".join(str(seed) for seed in row["seeds"])
    return f"accuracy of {row['kind']} {row['model']} on {row['scenario']} (seeds {seeds})"


def _reason(row: Mapping[str, Any]) -> str:
    return str(row["reason"]) if row["reason"] else "no reason recorded"
