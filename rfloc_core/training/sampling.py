"""Which samples each optimizer step sees: a function of (seed, epoch, step, rank) alone.

``EpochBatches`` shuffles ``range(samples)`` with a generator seeded from ``(seed, epoch)``,
cuts it into full batches and deals them round-robin to the ranks, so every process of a
DDP run sees a disjoint shard with the same batch count. ``skip_batches`` restarts an epoch
part-way through, which is how a run killed mid-epoch resumes on exactly the next batch.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler

from rfloc_core.data.rng import sample_seed

SHUFFLE_STREAM = 2
"""Stream id of the per-epoch shuffle in ``sample_seed`` (0 and 1 belong to the simulator)."""


class EpochBatches(Sampler[list[int]]):
    """Batches of sample indices for one rank; ``shuffle=False`` keeps index order."""

    def __init__(
        self,
        samples: int,
        batch_size: int,
        *,
        seed: int,
        shuffle: bool = True,
        drop_last: bool = True,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in 0..{world_size - 1}, got {rank}")
        self.samples = samples
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.skip_batches = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning before each epoch; a new epoch starts from its first batch."""
        if epoch != self.epoch:
            self.skip_batches = 0
        self.epoch = epoch

    def _all_batches(self) -> list[list[int]]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(
                sample_seed(self.seed, self.epoch, SHUFFLE_STREAM)
            )
            order = torch.randperm(self.samples, generator=generator).tolist()
        else:
            order = list(range(self.samples))
        full = self.samples // self.batch_size
        batches = [order[i * self.batch_size : (i + 1) * self.batch_size] for i in range(full)]
        if not self.drop_last and self.samples % self.batch_size:
            batches.append(order[full * self.batch_size :])
        usable = len(batches) // self.world_size * self.world_size
        return batches[:usable] if self.drop_last or self.world_size > 1 else batches

    def __len__(self) -> int:
        return len(self._all_batches()) // self.world_size

    def __iter__(self) -> Iterator[list[int]]:
        mine = self._all_batches()[self.rank :: self.world_size]
        yield from mine[self.skip_batches :]
