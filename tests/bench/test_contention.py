from __future__ import annotations

import subprocess
import sys
import time

import pytest

from rfloc_core.bench.contention import OtherProcessesMeter, system_busy_cpu_s

SPIN_S = 3.0
SPIN = f"import time\nt = time.perf_counter()\nwhile time.perf_counter() - t < {SPIN_S}: pass"

pytestmark = [
    pytest.mark.skipif(system_busy_cpu_s() is None, reason="needs Linux /proc/stat"),
    pytest.mark.quiet,
]


def test_a_process_spinning_beside_us_counts_as_one_busy_cpu() -> None:
    spinner = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        time.sleep(0.5)  # let it start
        with OtherProcessesMeter() as meter:
            time.sleep(1.5)
    finally:
        spinner.wait(timeout=30)
    assert meter.other_cpus is not None
    assert meter.other_cpus == pytest.approx(1.0, abs=0.35)


def test_this_process_spinning_does_not_count() -> None:
    with OtherProcessesMeter() as meter:
        start_s = time.perf_counter()
        while time.perf_counter() - start_s < 1.5:
            pass
    assert meter.other_cpus is not None
    assert meter.other_cpus < 0.35
