"""``run_suite``: every selected backbone through the latency and accuracy harnesses, one
cell at a time, then the report.

Cells are (latency, model) and (accuracy, model, seed). Each is saved when it ends (see
``store``), so ``resume=True`` skips the finished ones. A cell that fails is recorded with its
error and the run goes on.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from rfloc_core.bench.accuracy import RunOutcome, train_and_test
from rfloc_core.bench.accuracy_rows import baseline_rows, failed_row, model_row
from rfloc_core.bench.backends import Target
from rfloc_core.bench.config import BenchConfig
from rfloc_core.bench.environment import fingerprint
from rfloc_core.bench.held_out import check_receiver_sets, set_model_name
from rfloc_core.bench.latency import describe_error, measure_latency
from rfloc_core.bench.progress import BenchProgress
from rfloc_core.bench.results import RESULTS_FORMAT, RESULTS_VERSION, AccuracyRow, LatencyRow
from rfloc_core.bench.stats import matmul_peak_gflops_per_s
from rfloc_core.bench.store import CellStore
from rfloc_core.bench.tracking import tracking_wanted
from rfloc_core.errors import RflocError

_PEAK_DTYPE = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
_ASSUMED_SECONDS_PER_TRAINING_SAMPLE = 0.012
_ASSUMED_BATCH_SIZE = 32
_ASSUMED_EXPORT_SECONDS = 10.0


class BenchSelectionError(RflocError):
    """A suite whose patterns select no installed backbone."""


@dataclass(frozen=True)
class Cell:
    kind: Literal["latency", "accuracy"]
    model: str
    """The row's name: the backbone, or ``backbone+fusion`` for a receiver-set model."""
    family: str
    seed: int
    weight_s: float
    """A rough cost, for the ETA."""
    backbone: str = ""
    """The backbone trained, where it differs from ``model`` (receiver-set cells)."""


@dataclass(frozen=True)
class BenchRun:
    results: dict[str, Any]
    files: list[Path]
    skipped_cells: int
    """Cells already finished in the output folder (``resume``)."""
    mlflow_run_id: str | None


def _now_utc() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def backbone_provenance(name: str) -> dict[str, str]:
    """Which plugin, plugin version and distribution provide backbone ``name`` here."""
    from rfloc_core.registry import get_registry

    registry = get_registry()
    try:
        spec = registry.backbone(name.split("+")[0])
    except RflocError:
        return {"plugin": "", "plugin_version": "", "distribution": ""}
    distribution = next((p.distribution for p in registry.plugins if p.name == spec.plugin), "")
    return {
        "plugin": spec.plugin,
        "plugin_version": spec.plugin_version,
        "distribution": distribution,
    }


def select_backbones(
    suite: BenchConfig, only: Sequence[str] = ()
) -> tuple[dict[str, str], list[str]]:
    """The installed backbones (name -> family) the suite's patterns select, or, with
    ``only``, those any ``only`` pattern selects among every installed backbone; and the
    patterns that select none."""
    from rfloc_core.registry import get_registry

    specs = {spec.name: spec.family for spec in get_registry().backbones("*")}
    patterns = tuple(only) or suite.backbones
    selected: dict[str, str] = {}
    unmatched: list[str] = []
    for pattern in patterns:
        names = [name for name in specs if fnmatch.fnmatchcase(name, pattern)]
        if not names:
            unmatched.append(pattern)
        for name in names:
            selected.setdefault(name, specs[name])
    if only and unmatched:
        raise BenchSelectionError(
            f"--only {' '.join(unmatched)} matches no installed backbone; installed: "
            f"{', '.join(sorted(specs))}. Check the pattern (`rfloc models` lists the names) "
            "or install the plugin that provides it"
        )
    if not selected:
        raise BenchSelectionError(
            f"suite {suite.name!r} selects no installed backbone (patterns "
            f"{list(suite.backbones)}); installed: {', '.join(sorted(specs))}; pass --only "
            "with installed names, or install a plugin that provides them (see `rfloc plugins`)"
        )
    return selected, unmatched


def resolve_target(suite: BenchConfig) -> Target:
    protocol = suite.latency
    wants_cuda = protocol.device == "cuda" or (
        protocol.device == "auto" and torch.cuda.is_available()
    )
    if wants_cuda and not torch.cuda.is_available():
        raise RflocError(
            f"suite {suite.name!r} runs on cuda but torch sees no CUDA GPU here; run it on a "
            "GPU machine or use a CPU suite such as quick or cpu-full"
        )
    device = torch.device("cuda", 0) if wants_cuda else torch.device("cpu")
    threads = protocol.threads or os.cpu_count() or 1
    return Target(device, protocol.precision, threads, tuple(protocol.batch_sizes))


def plan_cells(suite: BenchConfig, models: dict[str, str]) -> list[Cell]:
    latency = suite.latency
    latency_s = _ASSUMED_EXPORT_SECONDS + len(latency.backends) * len(latency.batch_sizes) * (
        latency.min_seconds + 0.5
    )
    accuracy = suite.accuracy
    if accuracy.steps:
        samples = accuracy.steps * (accuracy.batch_size or _ASSUMED_BATCH_SIZE)
    else:
        samples = accuracy.epochs * accuracy.train_samples
    training_s = samples * _ASSUMED_SECONDS_PER_TRAINING_SAMPLE
    cells = [Cell("latency", name, family, 0, latency_s) for name, family in models.items()]
    if accuracy.enabled:  # seed by seed, so each seed's shared training set is simulated once
        cells += [
            Cell("accuracy", name, family, seed, training_s + 20.0)
            for seed in accuracy.seeds
            for name, family in models.items()
        ]
    if accuracy.enabled and suite.receiver_sets is not None:
        # one encoder pass per receiver: several times a fixed-network model's training cost
        cells += [
            Cell(
                "accuracy",
                set_model_name(name, suite.receiver_sets),
                family,
                seed,
                3.0 * training_s + 30.0,
                backbone=name,
            )
            for seed in accuracy.seeds
            for name, family in models.items()
        ]
    return cells


def _cell_path(store: CellStore, cell: Cell) -> Path:
    if cell.kind == "latency":
        return store.latency_path(cell.model)
    return store.accuracy_path(cell.model, cell.seed)


def _run_cell(
    cell: Cell,
    suite: BenchConfig,
    target: Target,
    store: CellStore,
    peak_gflops_per_s: float | None,
    tracking: bool,
    display: BenchProgress,
) -> Any:
    if cell.kind == "latency":
        return measure_latency(
            cell.model,
            cell.family,
            suite.latency.backends,
            suite.latency,
            target,
            peak_gflops_per_s=peak_gflops_per_s,
            on_stage=lambda backend, stage: display.stage(cell.model, backend, stage),
        )
    display.stage(cell.model, "accuracy", f"training and testing, seed {cell.seed}")
    try:
        outcome = train_and_test(
            cell.model,
            cell.family,
            suite.accuracy,
            cell.seed,
            store.run_dir(cell.model, cell.seed),
            device=target.device,
            tracking=tracking,
            backbone=cell.backbone or None,
            receiver_set=suite.receiver_sets if cell.backbone else None,
            latency_backends=suite.latency.backends,
        )
    except Exception as error:
        return {"status": "error", "reason": describe_error(error)}
    display.note(throughput_note(outcome))
    return {"status": "ok", "outcome": outcome.as_dict()}


def throughput_note(outcome: RunOutcome) -> str:
    """The data side's and the training side's samples/s of one run, side by side, and a bare
    PyTorch loop's on the same model where it was measured."""
    parts = [f"{outcome.model} seed {outcome.seed}: {outcome.steps} steps"]
    if outcome.simulated_samples_per_s is not None:
        parts.append(f"data simulated at {outcome.simulated_samples_per_s:,.0f} samples/s")
    else:
        parts.append("data shared from an earlier run (simulated once)")
    if outcome.train_samples_per_s is not None:
        parts.append(f"training at {outcome.train_samples_per_s:,.0f} samples/s")
    if outcome.bare_train_samples_per_s is not None:
        parts.append(f"bare loop at {outcome.bare_train_samples_per_s:,.0f} samples/s")
    return ", ".join(parts)


def assemble_results(
    run: dict[str, Any], store: CellStore, cells: Sequence[Cell], suite: BenchConfig
) -> dict[str, Any]:
    """The results format from the finished cells (missing ones are left out)."""
    latency: list[LatencyRow] = []
    outcomes: dict[str, list[RunOutcome]] = {}
    errors: dict[str, str] = {}
    families: dict[str, str] = {}
    for cell in cells:
        path = _cell_path(store, cell)
        if not path.is_file():
            continue
        data = store.read(path)
        if cell.kind == "latency":
            latency += data
            continue
        families[cell.model] = cell.family
        if data["status"] == "ok":
            outcomes.setdefault(cell.model, []).append(RunOutcome.from_dict(data["outcome"]))
        else:
            errors[cell.model] = f"seed {cell.seed}: {data['reason']}"
    accuracy: list[AccuracyRow] = []
    for model, family in families.items():
        if model in errors:
            accuracy.append(failed_row(model, family, suite.accuracy, errors[model]))
        elif model in outcomes:
            accuracy.append(model_row(outcomes[model], suite.accuracy))
    first = next(iter(outcomes.values()), None)
    if first:
        accuracy += baseline_rows(first[0], suite.accuracy)
    for row in [*latency, *accuracy]:
        if row.get("kind", "model") == "model":
            row.update(backbone_provenance(str(row["model"])))  # type: ignore[typeddict-item]
    return {
        "format": RESULTS_FORMAT,
        "format_version": RESULTS_VERSION,
        "suite": run["suite"],
        "environment": run["environment"],
        "started_utc": run["started_utc"],
        "finished_utc": _now_utc(),
        "latency": latency,
        "accuracy": accuracy,
        "crb_rmse_m": first[0].crb_rmse_m if first else None,
    }


def run_suite(
    suite: BenchConfig,
    out_dir: str | os.PathLike[str],
    *,
    only: Sequence[str] = (),
    resume: bool = False,
    tracking: bool | None = None,
    progress: bool = True,
    label: str | None = None,
) -> BenchRun:
    """Run ``suite`` into ``out_dir`` and write its report there (see ``write_report``).

    ``only`` narrows the suite's backbones with fnmatch patterns. ``resume`` continues the
    run stored in ``out_dir``, skipping finished cells. ``tracking`` (default: on when
    ``MLFLOW_TRACKING_URI`` is set) logs the training runs, results and report to MLflow.
    ``label`` names this machine in merged reports.
    """
    from rfloc_core.bench.report import write_report

    track = tracking_wanted(tracking)
    models, unmatched = select_backbones(suite, only)
    if suite.receiver_sets is not None and suite.accuracy.enabled:
        check_receiver_sets(suite.receiver_sets)
    target = resolve_target(suite)
    torch.set_num_threads(target.threads)
    store = CellStore(out_dir)
    suite_record = suite.model_dump(mode="json") | {
        "selected": list(models),
        "only": list(only),
        "not_installed": unmatched,
    }
    cells = plan_cells(suite, models)
    pending = [cell for cell in cells if not (resume and _cell_path(store, cell).is_file())]
    with BenchProgress(len(cells), sum(c.weight_s for c in cells), enabled=progress) as display:
        display.stage("", "", f"measuring the {target.device.type} matmul peak")
        peak = matmul_peak_gflops_per_s(target.device, dtype=_PEAK_DTYPE[target.precision])
        run = store.start(
            {
                "suite": suite_record,
                "environment": fingerprint(
                    target.device,
                    threads=target.threads,
                    matmul_peak_gflops_per_s=peak,
                    label=label,
                ),
                "started_utc": _now_utc(),
            },
            resume=resume,
        )
        peak = run["environment"]["matmul_peak_gflops_per_s"]
        for pattern in unmatched:
            display.note(f"suite pattern {pattern!r} matches no installed backbone: skipped")
        for cell in cells:
            if cell not in pending:
                display.cell_done(cell.weight_s)
        for cell in pending:
            data = _run_cell(cell, suite, target, store, peak, track, display)
            store.write(_cell_path(store, cell), data)
            display.cell_done(cell.weight_s)
        display.stage("", "", "writing the report")
        results = assemble_results(run, store, cells, suite)
        files = write_report(results, out_dir)
    run_id = None
    if track:
        from rfloc_core.bench.tracking import log_bench_results

        run_id = log_bench_results(results, files)
    return BenchRun(results, files, len(cells) - len(pending), run_id)
