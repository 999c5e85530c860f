"""The learning-rate factor: linear warm-up from zero, then cosine decay to zero."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class WarmupCosine:
    """``factor(step)`` multiplies the peak learning rate at optimizer step ``step`` (0-based).

    Steps ``0 .. warmup_steps - 1`` rise linearly to 1 (step ``k`` gives ``(k + 1) /
    warmup_steps``); the remaining steps follow ``0.5 (1 + cos(pi t))`` with ``t`` going from 0
    at the first step after warm-up to 1 at ``total_steps``. A plain dataclass of ints, so
    a scheduler's state stays loadable without unpickling code.
    """

    total_steps: int
    warmup_steps: int

    def __post_init__(self) -> None:
        if self.total_steps < 1 or not 0 <= self.warmup_steps <= self.total_steps:
            raise ValueError(
                f"need total_steps >= 1 and 0 <= warmup_steps <= total_steps, got "
                f"{self.total_steps} and {self.warmup_steps}"
            )

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        decay_steps = self.total_steps - self.warmup_steps
        if decay_steps <= 0:
            return 1.0
        progress = min(1.0, (step - self.warmup_steps) / decay_steps)
        return 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_steps_for(total_steps: int, warmup_fraction: float) -> int:
    """Warm-up length in optimizer steps for a fraction of all steps (rounded)."""
    return min(total_steps, round(total_steps * warmup_fraction))
