"""How many CPUs other processes kept busy while a block ran.

A latency measured on a busy machine is not this machine's speed, and it is not even slow by
the same factor for every backend (thread pools that spin suffer most), so the report flags
such cells instead of letting them pass. Other processes' share is the whole system's busy
CPU time (``/proc/stat``, hypervisor steal included) less this process's own, over the wall
time of the block. It is None where ``/proc/stat`` is absent.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

BUSY_OTHER_CPUS = 0.5
"""Other processes' average CPU use, in CPUs, from which a latency cell is flagged as busy."""

# user, nice, system, idle, iowait, irq, softirq, steal: all but idle and iowait are busy.
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


def system_busy_cpu_s() -> float | None:
    """CPU seconds every process on this machine has used since boot, or None."""
    try:
        first_line = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0]
        ticks = [int(field) for field in first_line.split()[1:9]]
        ticks_per_s = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    if not first_line.startswith("cpu ") or len(ticks) < 8:
        return None
    return sum(ticks[index] for index in _BUSY_FIELDS) / ticks_per_s


def own_cpu_s() -> float:
    """CPU seconds this process's threads have used, user and system."""
    times = os.times()
    return times.user + times.system


class OtherProcessesMeter:
    """``with OtherProcessesMeter() as meter: ...`` sets ``meter.other_cpus``: the CPUs other
    processes kept busy on average while the block ran (None where it cannot be known)."""

    def __init__(self) -> None:
        self.other_cpus: float | None = None

    def __enter__(self) -> OtherProcessesMeter:
        self._start = (system_busy_cpu_s(), own_cpu_s(), time.perf_counter())
        return self

    def __exit__(self, *exc: object) -> None:
        system_end, own_end, wall_end = system_busy_cpu_s(), own_cpu_s(), time.perf_counter()
        system_start, own_start, wall_start = self._start
        wall_s = wall_end - wall_start
        if system_start is None or system_end is None or wall_s <= 0:
            return
        others_s = (system_end - system_start) - (own_end - own_start)
        self.other_cpus = max(0.0, others_s / wall_s)
