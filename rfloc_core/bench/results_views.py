"""What the reports read off benchmark results: rows joined and grouped for tables and plots,
the machines, the failed cells, the Pareto front and numbers formatted for people."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from rfloc_core.bench.contention import BUSY_OTHER_CPUS
from rfloc_core.bench.results import LatencyRow, environments_of, machine_of, required_keys


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


PRIOR = "prior"
"""The baseline that knows nothing: always the training set's mean position."""

LEARNED_FRACTION_OF_PRIOR = 0.9
"""A model learned when its median test error is below this fraction of the prior's; within
10 % of the prior it is flagged "did not learn" and never ranked."""
LEARNED = "learned"
DID_NOT_LEARN = "did not learn"


def prior_median_m(results: Mapping[str, Any], scenario: str) -> float | None:
    """The prior baseline's median test error on ``scenario`` (None where not measured)."""
    for row in results["accuracy"]:
        if row["kind"] == "baseline" and row["model"] == PRIOR and row["scenario"] == scenario:
            median_m = row["error_median_m"]
            if row["status"] == "ok" and isinstance(median_m, int | float):
                return float(median_m)
    return None


def did_not_learn(row: Mapping[str, Any], results: Mapping[str, Any]) -> bool:
    """True for a measured model row whose median error is within 10 % of the prior's."""
    if row["kind"] != "model" or row["status"] != "ok" or row["error_median_m"] is None:
        return False
    prior_m = prior_median_m(results, row["scenario"])
    return prior_m is not None and row["error_median_m"] >= LEARNED_FRACTION_OF_PRIOR * prior_m


def verdict(row: Mapping[str, Any], results: Mapping[str, Any]) -> str | None:
    """``"did not learn"``, ``"learned"`` or None (a baseline or an unmeasured row)."""
    if row["kind"] != "model" or row["status"] != "ok":
        return None
    if prior_median_m(results, row["scenario"]) is None:
        return None
    return DID_NOT_LEARN if did_not_learn(row, results) else LEARNED


def latency_rows_for_table(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every latency row, flat: ``machine``, the latency keys, then the model's accuracy
    (``error_median_m``, ``error_p95_m``, ``ratio_to_crb``, ``inside_1sigma``, null unless its
    accuracy row is ok), that row's ``accuracy_status``, ``accuracy_reason`` and ``verdict``
    (see ``verdict``)."""
    accuracy = accuracy_by_model(results)
    rows = []
    for row in results["latency"]:
        measured = accuracy.get(row["model"])
        flat = _table_row(row, machine_of(row, results), measured)
        flat["verdict"] = None if measured is None else verdict(measured, results)
        rows.append(flat)
    return rows


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


PROTOCOL_KEYS = ("steps", "batch_size", "learning_rate", "loss", "sigma_scale")


def sorted_accuracy_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Accuracy rows, models and baselines, by median error, unmeasured ones last; each with
    its ``verdict`` and its training protocol's ``PROTOCOL_KEYS`` (null for baselines)."""
    rows = []
    for row in results["accuracy"]:
        protocol = row.get("protocol") or {}
        flat = dict(row) | {key: protocol.get(key) for key in PROTOCOL_KEYS}
        rows.append(flat | {"verdict": verdict(row, results)})
    return sorted(
        rows, key=lambda row: (row["error_median_m"] is None, row["error_median_m"] or 0.0)
    )


HELD_OUT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "model"),
    ("held-out network", "network"),
    ("stations", "stations"),
    ("median error m", "error_median_m"),
    ("RMSE m", "error_rmse_m"),
    ("RSS MLE RMSE m", "rss_mle_rmse_m"),
    ("CRB RMSE m", "crb_rmse_m"),
    ("RMSE / CRB", "ratio_to_crb"),
    ("RMSE / RSS MLE", "ratio_to_rss_mle"),
    ("prior median m", "prior_median_m"),
    ("verdict", "verdict"),
)
"""(header, key) of the held-out network table, in the Markdown and the HTML report."""


def held_out_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Receiver-set model rows on their held-out network, by RMSE, those that did not learn
    last: one flat dict each, with the keys of ``HELD_OUT_COLUMNS``."""
    rows = [
        {"prior_median_m": None, "verdict": None, "model": row["model"]} | dict(row["held_out"])
        for row in results["accuracy"]
        if row.get("held_out")
    ]
    return sorted(rows, key=lambda row: (row["verdict"] == DID_NOT_LEARN, row["error_rmse_m"]))


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


def _table_row(
    row: Mapping[str, Any], machine: str, accuracy: Mapping[str, Any] | None
) -> dict[str, Any]:
    flat: dict[str, Any] = {"machine": machine}
    flat |= {key: row[key] for key in required_keys(LatencyRow)}
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


def per_machine(results: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(machine label, the results as measured there): one pair for a single run, one per
    machine for merged results, each with that machine's latency rows and every accuracy row."""
    if "environment" in results:
        return [(str(results["environment"]["label"]), dict(results))]
    views = []
    for environment in environments_of(results):
        label = str(environment["label"])
        rows = [row for row in results["latency"] if machine_of(row, results) == label]
        view = {k: v for k, v in results.items() if k != "environments"}
        views.append((label, view | {"environment": environment, "latency": rows}))
    return views
