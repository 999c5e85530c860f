"""What the reports read off benchmark results: rows joined and grouped for tables and plots,
the machines, the failed cells, the Pareto front and numbers formatted for people."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from rfloc_core.bench.backend_names import EXPORTED_ACCURACY_BACKENDS
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


TRAINING_THROUGHPUT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("model", "model"),
    ("data simulated samples/s", "simulated_samples_per_s"),
    ("rfloc training samples/s", "train_samples_per_s"),
    ("bare loop samples/s", "bare_train_samples_per_s"),
    ("rfloc / bare", "rfloc_to_bare"),
    ("data side", "data_side"),
)
"""(header, key) of the training throughput table, in the Markdown and the HTML report."""

TRAINING_THROUGHPUT_NOTE = (
    "Samples per second of the data side (the training set's simulation, once per seed and "
    "shared by every model trained on it, so a row whose run did not simulate it shows the "
    "rate of the run that did), of rfloc's training steps (Lightning, without data loading or "
    "validation) and of a bare PyTorch loop (forward, loss, backward and AdamW step on batches "
    "already in memory, same model and batch size, after the first seed's training); rfloc / "
    "bare below 1 is what rfloc's loop costs. The data side must be faster than training, or "
    "training on freshly simulated data waits for it: a row where it is slower is flagged."
)
"""What each column of the training throughput table is, in both reports."""

DATA_KEEPS_UP = "keeps up"
DATA_SLOWER = "slower than training"
_RATES = ("simulated_samples_per_s", "train_samples_per_s", "bare_train_samples_per_s")


def training_throughput_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Measured model rows with any training throughput, fastest rfloc training first: one
    flat dict each with the keys of ``TRAINING_THROUGHPUT_COLUMNS``.

    A row without its own simulation rate gets the rate its training set was simulated at
    in another row (same scenario, same kind of model); ``data_side`` is ``DATA_SLOWER``
    where that rate is below rfloc's training rate, ``DATA_KEEPS_UP`` where not, None where
    either is unknown."""
    measured = [
        (row, row.get("protocol") or {})
        for row in results["accuracy"]
        if row["kind"] == "model" and row["status"] == "ok"
    ]
    shared: dict[tuple[str, bool], list[float]] = {}
    for row, protocol in measured:
        if _positive(protocol.get("simulated_samples_per_s")):
            shared.setdefault(_data_key(row), []).append(protocol["simulated_samples_per_s"])
    rows = []
    for row, protocol in measured:
        rates = {key: protocol.get(key) if _positive(protocol.get(key)) else None for key in _RATES}
        if all(rate is None for rate in rates.values()):
            continue
        if rates["simulated_samples_per_s"] is None and shared.get(_data_key(row)):
            known = shared[_data_key(row)]
            rates["simulated_samples_per_s"] = sum(known) / len(known)
        data, train, bare = (rates[key] for key in _RATES)
        side = None
        if data is not None and train is not None:
            side = DATA_SLOWER if data < train else DATA_KEEPS_UP
        ratio = train / bare if train is not None and bare is not None else None
        rows.append({"model": row["model"], **rates, "rfloc_to_bare": ratio, "data_side": side})
    return sorted(
        rows,
        key=lambda row: (row["train_samples_per_s"] is None, -(row["train_samples_per_s"] or 0)),
    )


def _data_key(row: Mapping[str, Any]) -> tuple[str, bool]:
    """Rows that train on the same shared data: the scenario, and whether the model is a
    receiver-set model (those train on their own random networks)."""
    return (str(row["scenario"]), row.get("fusion") is not None)


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
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


def _table_row(
    row: Mapping[str, Any], machine: str, accuracy: Mapping[str, Any] | None
) -> dict[str, Any]:
    flat: dict[str, Any] = {"machine": machine}
    flat |= {key: row[key] for key in required_keys(LatencyRow)}
    flat["other_cpus_busy"] = row.get("other_cpus_busy")
    measured = accuracy if accuracy is not None and accuracy["status"] == "ok" else None
    reason = None if accuracy is None else accuracy["reason"]
    if measured is not None and row["backend"] in EXPORTED_ACCURACY_BACKENDS:
        # This file's own accuracy; PyTorch's figures are not the file's.
        exported = (measured.get("exported") or {}).get(row["backend"])
        measured = exported if exported is not None and "error" not in exported else None
        if measured is None:
            reason = f"the {row['backend']} file's own accuracy " + (
                f"could not be measured: {exported['error']}"
                if exported is not None
                else "was not measured in this run"
            )
    flat |= {key: None if measured is None else measured[key] for key in TABLE_ACCURACY_KEYS}
    flat["accuracy_status"] = None if accuracy is None else accuracy["status"]
    flat["accuracy_reason"] = reason
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
