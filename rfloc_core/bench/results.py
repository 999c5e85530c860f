"""The benchmark results format, ``rfloc-bench-results`` version 1: its types, and loading
with validation (merging is in ``results_merge``, what the reports read in ``results_views``).

A run on one machine has an ``environment``; merged results have ``environments`` instead and
every latency row names its ``machine`` (the environment's label). Numbers are null where a
cell was not measured (status ``unavailable`` or ``error``, with a ``reason``).
"""

from __future__ import annotations

import json
import os
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

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
    plugin: str
    """Provenance of the backbone (absent in results written before it was recorded): the
    plugin, its version and the distribution that installed it."""
    plugin_version: str
    distribution: str


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


class TrainingProtocol(TypedDict):
    """How a model row was trained: the same for every seed of the row."""

    steps: int
    """Optimizer steps run, the mean over seeds where early stopping ended runs apart."""
    max_steps: int
    batch_size: int
    train_samples: int
    learning_rate: float
    loss: str
    train_seconds: float
    """Wall time of training, summed over seeds."""
    train_samples_per_s: float | None
    """Samples per second of the training steps alone, the mean over seeds."""
    simulated_samples_per_s: float | None
    """Samples per second the shared training set was simulated at (once per seed)."""
    sigma_scale: float | None
    """The σ-scaling factor fitted on the validation set after training, the mean over seeds
    (None: not fitted; absent from results written before σ-scaling)."""
    bare_train_samples_per_s: NotRequired[float | None]
    """Samples per second of a bare PyTorch loop (forward, loss, backward, AdamW step on
    batches in memory) on the same model and batch size, measured after the first seed's
    training (None: not measured, as for receiver-set models; absent from results written
    before it was measured)."""


class LearningCurve(TypedDict):
    seed: int
    steps: list[int]
    val_error_median_m: list[float]
    """Validation median error after each of ``steps`` optimizer steps."""


class _AccuracyRowFields(TypedDict):
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


class AccuracyRow(_AccuracyRowFields, total=False):
    protocol: TrainingProtocol | None
    """Model rows: how it was trained (absent in results written before it was recorded)."""
    learning_curves: list[LearningCurve] | None
    """Model rows: one validation curve per seed."""
    fusion: str | None
    """Receiver-set model rows: the fusion (the row's name is ``backbone+fusion``)."""
    plugin: str
    """Model rows: the backbone's plugin, its version and distribution (absent in results
    written before they were recorded)."""
    plugin_version: str
    distribution: str
    exported: dict[str, dict[str, Any]]
    """Model rows: per backend whose numbers differ from PyTorch's (``onnxruntime-int8``),
    the first seed's model run through that backend's file: ``error_median_m``,
    ``error_p95_m``, ``error_rmse_m``, ``ratio_to_crb``, ``inside_1sigma`` and
    ``validation_passed``, and ``reference``, the same seed's PyTorch figures; or ``error``
    alone where the file could not be written or run (absent where no such backend was
    timed)."""
    held_out: dict[str, Any] | None
    """Receiver-set model rows: on a network no training sample drew, ``network``,
    ``stations``, ``error_median_m``, ``error_rmse_m``, ``rss_mle_rmse_m``, ``crb_rmse_m``,
    ``ratio_to_crb`` and ``ratio_to_rss_mle``."""


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
    _require_keys(mapping, required_keys(BenchResults), "the top level", source)
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
    _check_rows(mapping, "latency", required_keys(LatencyRow), source)
    _check_rows(mapping, "accuracy", required_keys(AccuracyRow), source)
    return mapping


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


def required_keys(typed_dict: type) -> tuple[str, ...]:
    required: frozenset[str] = getattr(typed_dict, "__required_keys__", frozenset())
    return tuple(key for key in typed_dict.__annotations__ if key in required)


_ENVIRONMENT_KEYS = required_keys(Environment)
_ROW_HINTS: dict[str, dict[str, Any]] = {
    "latency": typing.get_type_hints(MachineLatencyRow),
    "accuracy": typing.get_type_hints(AccuracyRow),
}


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
        _check_scalar_types(row, _ROW_HINTS[key], where, source)


def _scalar_kinds(hint: Any) -> tuple[type, ...] | None:
    """The JSON types a scalar hint allows (``float | None`` -> int, float, None), or None for
    hints that are not plain scalars (lists, objects, literals), which are not checked here."""
    arguments = (
        typing.get_args(hint)
        if typing.get_origin(hint) in (types.UnionType, typing.Union)
        else (hint,)
    )
    kinds: list[type] = []
    for argument in arguments:
        if argument is type(None):
            kinds.append(type(None))
        elif argument is float:
            kinds += [int, float]
        elif argument in (int, str, bool):
            kinds.append(argument)
        else:
            return None
    return tuple(kinds)


def _check_scalar_types(
    row: Mapping[str, Any], hints: Mapping[str, Any], where: str, source: str
) -> None:
    for key, value in row.items():
        kinds = _scalar_kinds(hints[key]) if key in hints else None
        if kinds is None:
            continue
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if wrong_bool or not isinstance(value, kinds):
            expected = " or ".join(
                "null" if kind is type(None) else kind.__name__ for kind in kinds
            )
            raise BenchResultsError(
                f"expected {expected} for {key!r} in {where} of {source}, got {value!r}; rerun "
                "the benchmark to rewrite it"
            )
