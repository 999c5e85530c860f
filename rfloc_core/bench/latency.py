"""The latency harness: one model on every requested backend, at every batch size.

The model is built at random init (seed 0), saved as a checkpoint and exported in a temporary
folder. At each batch size every backend that got ready is warmed up (peak memory is taken
then), and the timed rounds interleave the backends, each timed once per round, so drift in
the machine's speed hits all of them alike. A backend that cannot run here, or fails, gives
rows with its reason; the others go on.
"""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch

from rfloc_core.bench.backends import (
    TORCH_BACKENDS,
    Call,
    MakeCall,
    Target,
    backend_precision,
    prepare_backend,
    random_input,
    unavailable_reason,
)
from rfloc_core.bench.config import LatencyProtocol
from rfloc_core.bench.contention import OtherProcessesMeter
from rfloc_core.bench.results import LatencyRow, Status
from rfloc_core.bench.stats import LatencyStats, achieved_gflops_per_s
from rfloc_core.bench.timing import (
    call_timer,
    round_share,
    synchronise,
    time_calls,
    warm_up_with_peak_memory,
)
from rfloc_core.checkpoint import save_checkpoint
from rfloc_core.model import LocalizationNet, create_model

OnStage = Callable[[str, str], None]
"""Told (backend, stage) as the harness moves on, for a progress display."""


@dataclass(frozen=True)
class ModelFigures:
    family: str
    params_m: float
    gflops: float
    """Per sample, a multiply-add counted as two FLOPs, measured at batch 1."""


def describe_error(error: BaseException) -> str:
    """The error's type and first line, short enough for a report cell."""
    first_line = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first_line[:300]}"


def model_figures(model: LocalizationNet, family: str) -> ModelFigures:
    """Parameters and FLOPs counted on the model itself."""
    from torch.utils.flop_counter import FlopCounterMode

    example = random_input(model, 1)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(example)
    params = sum(parameter.numel() for parameter in model.parameters())
    return ModelFigures(family, params / 1e6, counter.get_total_flops() / 1e9)


def _row(
    model_name: str,
    figures: ModelFigures | None,
    backend: str,
    batch: int,
    target: Target,
    status: Status,
    reason: str | None = None,
) -> LatencyRow:
    return {
        "model": model_name,
        "family": figures.family if figures else "",
        "backend": backend,
        "device": target.device.type,
        "precision": backend_precision(backend, target.precision),
        "batch_size": batch,
        "threads": target.threads,
        "status": status,
        "reason": reason,
        "p50_ms": None,
        "p90_ms": None,
        "p95_ms": None,
        "p99_ms": None,
        "mean_ms": None,
        "cv": None,
        "iterations": None,
        "samples_per_s": None,
        "peak_memory_mb": None,
        "params_m": figures.params_m if figures else None,
        "gflops": figures.gflops if figures else None,
        "achieved_gflops_per_s": None,
        "fraction_of_peak": None,
    }


def _measured(
    row: LatencyRow, latencies_ms: list[float], peak_memory_mb: float, peak_gflops: float | None
) -> LatencyRow:
    stats = LatencyStats.from_samples(latencies_ms)
    measured: LatencyRow = {**row, **stats.as_dict()}  # type: ignore[typeddict-item]
    measured["status"] = "ok"
    measured["samples_per_s"] = stats.samples_per_s(row["batch_size"])
    measured["peak_memory_mb"] = peak_memory_mb
    if row["gflops"] is not None and stats.p50_ms > 0:
        achieved = achieved_gflops_per_s(row["gflops"], row["batch_size"], stats.p50_ms)
        measured["achieved_gflops_per_s"] = achieved
        measured["fraction_of_peak"] = achieved / peak_gflops if peak_gflops else None
    return measured


class BatchTimings(NamedTuple):
    latencies_ms: dict[str, list[float]]
    peaks_mb: dict[str, float]
    errors: dict[str, str]
    """The error of each backend that failed."""
    other_cpus_busy: float | None
    """CPUs other processes kept busy on average during the timed rounds."""


def time_batch(
    loaded: dict[str, MakeCall],
    batch: int,
    protocol: LatencyProtocol,
    target: Target,
    on_stage: OnStage,
) -> BatchTimings:
    """Latencies (ms) per backend at ``batch``, backends interleaved round by round."""
    calls: dict[str, Call] = {}
    peaks_mb: dict[str, float] = {}
    errors: dict[str, str] = {}
    for backend, make in loaded.items():
        on_stage(backend, f"batch {batch}: warm-up")
        try:
            call = make(batch)
            peaks_mb[backend] = warm_up_with_peak_memory(
                call,
                protocol.warmup_iterations,
                target.device,
                torch_allocated=backend in TORCH_BACKENDS,
            )
            calls[backend] = call
        except Exception as error:
            errors[backend] = describe_error(error)
    time_ms = call_timer(target.device)
    latencies_ms: dict[str, list[float]] = {backend: [] for backend in calls}
    per_round_calls = round_share(protocol.min_iterations, protocol.rounds)
    per_round_s = protocol.min_seconds / protocol.rounds
    with OtherProcessesMeter() as others:
        for round_index in range(protocol.rounds):
            for backend, call in list(calls.items()):
                on_stage(backend, f"batch {batch}: round {round_index + 1}/{protocol.rounds}")
                try:
                    call()  # one untimed call: caches after the previous backend's round
                    synchronise(target.device)
                    latencies_ms[backend] += time_calls(
                        call, time_ms, min_iterations=per_round_calls, min_seconds=per_round_s
                    )
                except Exception as error:
                    errors[backend] = describe_error(error)
                    del calls[backend]
                    del latencies_ms[backend]
    return BatchTimings(latencies_ms, peaks_mb, errors, others.other_cpus)


def measure_latency(
    model_name: str,
    family: str,
    backends: Sequence[str],
    protocol: LatencyProtocol,
    target: Target,
    *,
    peak_gflops_per_s: float | None,
    on_stage: OnStage | None = None,
) -> list[LatencyRow]:
    """One row per (batch size, backend) for ``model_name``, in that order."""
    tell = on_stage or (lambda backend, stage: None)
    rows: list[LatencyRow] = []
    with tempfile.TemporaryDirectory(prefix="rfloc-bench-") as tmp:
        folder = Path(tmp)
        tell("", "building the model")
        try:
            torch.manual_seed(0)
            model = create_model(model_name).eval()
            figures = model_figures(model, family)
            checkpoint = save_checkpoint(model, folder / "checkpoint")
        except Exception as error:
            reason = f"cannot build or save the model: {describe_error(error)}"
            return [
                _row(model_name, None, backend, batch, target, "error", reason)
                for batch in target.batch_sizes
                for backend in backends
            ]
        loaded: dict[str, MakeCall] = {}
        not_ready: dict[str, tuple[Status, str]] = {}
        for backend in backends:
            missing = unavailable_reason(backend, target)
            if missing is not None:
                not_ready[backend] = ("unavailable", missing)
                continue
            tell(backend, "export and load")
            try:
                loaded[backend] = prepare_backend(backend, model, folder, checkpoint, target)
            except Exception as error:
                not_ready[backend] = ("error", describe_error(error))
        for batch in target.batch_sizes:
            timings = time_batch(loaded, batch, protocol, target, tell)
            for backend in backends:
                row = _row(model_name, figures, backend, batch, target, "error")
                if backend in not_ready:
                    row["status"], row["reason"] = not_ready[backend]
                elif backend in timings.errors:
                    row["reason"] = timings.errors[backend]
                else:
                    row = _measured(
                        row,
                        timings.latencies_ms[backend],
                        timings.peaks_mb[backend],
                        peak_gflops_per_s,
                    )
                    row["other_cpus_busy"] = timings.other_cpus_busy
                rows.append(row)
        del loaded, model
    gc.collect()
    if target.device.type == "cuda":
        torch.cuda.empty_cache()
    return rows
