from __future__ import annotations

import numpy as np
import pytest

from rfloc_core.bench.stats import (
    LatencyStats,
    achieved_gflops_per_s,
    matmul_peak_gflops_per_s,
)
from rfloc_core.errors import InvalidInputError


def test_percentiles_mean_and_cv_of_a_known_sample() -> None:
    samples = list(range(1, 101))  # 1..100 ms
    stats = LatencyStats.from_samples(samples)
    assert stats.p50_ms == pytest.approx(50.5)
    assert stats.p90_ms == pytest.approx(90.1)
    assert stats.p95_ms == pytest.approx(95.05)
    assert stats.p99_ms == pytest.approx(99.01)
    assert stats.mean_ms == pytest.approx(50.5)
    assert stats.cv == pytest.approx(np.std(samples) / 50.5)
    assert stats.iterations == 100
    assert stats.samples_per_s(8) == pytest.approx(8 / 0.0505)


def test_a_steady_sample_has_zero_cv_and_bad_samples_are_refused() -> None:
    assert LatencyStats.from_samples([2.0, 2.0, 2.0]).cv == 0.0
    for bad in ([], [1.0, float("nan")], [-1.0]):
        with pytest.raises(InvalidInputError, match="finite, non-negative milliseconds"):
            LatencyStats.from_samples(bad)


def test_achieved_rate_and_a_measured_matmul_peak() -> None:
    assert achieved_gflops_per_s(2.0, batch_size=4, p50_ms=10.0) == pytest.approx(800.0)
    peak = matmul_peak_gflops_per_s("cpu", size=256, seconds=0.2)
    assert 0.1 < peak < 1e5  # a CPU does between 0.1 GFLOP/s and 100 TFLOP/s
