"""Timing one call at a time, and the peak memory of a backend while it runs.

Each call is timed alone: with CUDA events on a GPU, with ``perf_counter`` on the CPU. Peak
memory is measured in the untimed warm-up, so the sampler thread never competes with a timed
call: the process's resident set on the CPU, on the GPU torch's peak allocation for torch
backends and the device's used memory for the others (which allocate outside torch).
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from rfloc_core.bench.backends import Call

TimeCall = Callable[[Call], float]
_PAGE_BYTES = 4096
_MB = 1024.0 * 1024.0


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def call_timer(device: torch.device) -> TimeCall:
    """A function that runs one call and returns its latency in ms."""
    if device.type == "cuda":
        start = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
        end = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]

        def time_cuda_ms(call: Call) -> float:
            start.record()
            call()
            end.record()
            end.synchronize()
            return float(start.elapsed_time(end))

        return time_cuda_ms

    def time_cpu_ms(call: Call) -> float:
        begin = time.perf_counter()
        call()
        return (time.perf_counter() - begin) * 1e3

    return time_cpu_ms


def time_calls(
    call: Call, time_ms: TimeCall, *, min_iterations: int, min_seconds: float
) -> list[float]:
    """Per-call latencies (ms): at least ``min_iterations`` calls and ``min_seconds`` seconds."""
    latencies_ms: list[float] = []
    start_s = time.perf_counter()
    while len(latencies_ms) < min_iterations or time.perf_counter() - start_s < min_seconds:
        latencies_ms.append(time_ms(call))
    return latencies_ms


def round_share(total: int | float, rounds: int) -> int:
    """Each of ``rounds`` rounds' share of ``total`` calls, rounded up."""
    return max(1, math.ceil(total / rounds))


def resident_mb() -> float:
    """This process's resident set size now, MB (``/proc/self/statm``; 0 where absent)."""
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * _PAGE_BYTES / _MB


class _RssSampler:
    """Samples the resident set every ``interval_s`` in a thread while the block runs."""

    def __init__(self, interval_s: float = 0.002) -> None:
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, resident_mb())
            self._stop.wait(self.interval_s)

    def __enter__(self) -> _RssSampler:
        self.peak_mb = resident_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, resident_mb())


def warm_up_with_peak_memory(
    call: Call, iterations: int, device: torch.device, *, torch_allocated: bool
) -> float:
    """Run ``iterations`` untimed calls (at least one) and return the peak memory in MB."""
    count = max(1, iterations)
    if device.type == "cuda":
        synchronise(device)
        torch.cuda.reset_peak_memory_stats(device)
        free_b, total_b = torch.cuda.mem_get_info(device)
        peak_used_b = total_b - free_b
        for _ in range(count):
            call()
            synchronise(device)
            free_b, total_b = torch.cuda.mem_get_info(device)
            peak_used_b = max(peak_used_b, total_b - free_b)
        if torch_allocated:
            return torch.cuda.max_memory_allocated(device) / _MB
        return peak_used_b / _MB
    with _RssSampler() as sampler:
        for _ in range(count):
            call()
    return sampler.peak_mb


INTERLEAVED_WARMUP_CALLS = 20
INTERLEAVED_MIN_CALLS = 50


def interleaved_medians_ms(calls: Mapping[str, Call], seconds: float) -> dict[str, float]:
    """Each CPU call's median latency (ms), the calls taking turns one at a time for
    ``seconds`` and at least ``INTERLEAVED_MIN_CALLS`` each, so drift in the machine's speed
    hits them all alike."""
    time_ms = call_timer(torch.device("cpu"))
    for _ in range(INTERLEAVED_WARMUP_CALLS):
        for call in calls.values():
            call()
    latencies_ms: dict[str, list[float]] = {name: [] for name in calls}
    start_s = time.perf_counter()
    while (
        time.perf_counter() - start_s < seconds
        or min(map(len, latencies_ms.values())) < INTERLEAVED_MIN_CALLS
    ):
        for name, call in calls.items():
            latencies_ms[name].append(time_ms(call))
    return {name: statistics.median(values) for name, values in latencies_ms.items()}
