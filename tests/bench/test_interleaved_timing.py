"""Interleaved timing: the calls take turns, each at least the minimum count, and each median
is of that call's own latencies."""

from __future__ import annotations

import time

from rfloc_core.bench.timing import (
    INTERLEAVED_MIN_CALLS,
    INTERLEAVED_WARMUP_CALLS,
    interleaved_medians_ms,
)


def test_calls_take_turns_and_each_median_is_its_own() -> None:
    order: list[str] = []

    def slow() -> None:
        order.append("slow")
        time.sleep(0.002)

    def fast() -> None:
        order.append("fast")

    medians_ms = interleaved_medians_ms({"slow": slow, "fast": fast}, seconds=0.0)
    assert order.count("slow") == order.count("fast")
    assert order.count("slow") >= INTERLEAVED_WARMUP_CALLS + INTERLEAVED_MIN_CALLS
    assert all(a != b for a, b in zip(order[::2], order[1::2], strict=True))
    assert medians_ms["slow"] >= 2.0 > medians_ms["fast"] >= 0.0
