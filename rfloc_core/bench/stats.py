"""Latency statistics and this machine's matmul peak, the two numbers every row is judged by.

``LatencyStats`` pools the per-call latencies of interleaved rounds: the percentiles and mean
come from every call, and the coefficient of variation (std / mean) says how steady they were.
``matmul_peak_gflops_per_s`` measures the best square-matmul rate of this device in the same
run, so a model's achieved GFLOP/s can be read as a fraction of what the hardware does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from rfloc_core.errors import InvalidInputError


@dataclass(frozen=True)
class LatencyStats:
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    cv: float
    """Standard deviation over mean of the per-call latencies (0: perfectly steady)."""
    iterations: int

    @classmethod
    def from_samples(cls, latencies_ms: Sequence[float]) -> LatencyStats:
        values = np.asarray(latencies_ms, dtype=np.float64)
        if values.size == 0 or not np.isfinite(values).all() or (values < 0).any():
            raise InvalidInputError(
                f"latencies must be one or more finite, non-negative milliseconds, got "
                f"{values.size} values; time at least one call"
            )
        p50, p90, p95, p99 = np.percentile(values, [50, 90, 95, 99])
        mean = float(values.mean())
        return cls(
            p50_ms=float(p50),
            p90_ms=float(p90),
            p95_ms=float(p95),
            p99_ms=float(p99),
            mean_ms=mean,
            cv=float(values.std() / mean) if mean > 0 else 0.0,
            iterations=int(values.size),
        )

    def samples_per_s(self, batch_size: int) -> float:
        """Throughput at the median latency."""
        return batch_size / self.p50_ms * 1e3 if self.p50_ms > 0 else float("inf")

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def achieved_gflops_per_s(gflops_per_sample: float, batch_size: int, p50_ms: float) -> float:
    """Model GFLOPs per second at the median latency (GFLOPs counted per sample)."""
    return gflops_per_sample * batch_size / (p50_ms / 1e3)


def matmul_peak_gflops_per_s(
    device: str | torch.device = "cpu",
    *,
    size: int = 1024,
    dtype: torch.dtype = torch.float32,
    seconds: float = 0.5,
) -> float:
    """The best rate of ``size`` by ``size`` matmuls on ``device`` over about ``seconds``:
    ``2 n³`` floating-point operations per product."""
    target = torch.device(device)
    a = torch.randn(size, size, device=target, dtype=dtype)
    b = torch.randn(size, size, device=target, dtype=dtype)
    flops = 2.0 * size**3
    best_s = float("inf")
    deadline = time.perf_counter() + seconds
    torch.matmul(a, b)  # warm-up: kernels, caches, clocks
    while True:
        if target.type == "cuda":
            torch.cuda.synchronize(target)
        start = time.perf_counter()
        torch.matmul(a, b)
        if target.type == "cuda":
            torch.cuda.synchronize(target)
        best_s = min(best_s, time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return flops / best_s / 1e9
