"""A simulated dataset held in memory: simulated once, then read as often as training wants.

``MemoryDataset.simulate`` materialises ``SyntheticDataset(scenario, n, seed, features)``
batch by batch; item ``i`` is the same tensor the synthetic set gives for ``i``, so training
on it is the same run as simulating on the fly, only without simulating every epoch again.
``shared_memory_dataset`` keeps the last few sets of this process, so runs that ask for the
same (scenario, features, seed, count) share one copy, as a benchmark's backbones do.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
from torch.utils.data import Dataset

from rfloc_core.data.datasets import ITEM_DTYPES, Item, SyntheticDataset, split_items
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import ScenarioConfig

SIMULATION_BATCH = 256
SHARED_SETS = 4
"""Sets kept by ``shared_memory_dataset``: a run's training and validation sets for two runs."""


class MemoryDataset(Dataset[Item]):
    """Items of a simulated dataset, all in memory, with the rate they were simulated at."""

    def __init__(self, items: Item, simulated_samples_per_s: float) -> None:
        self.items = items
        self.simulated_samples_per_s = simulated_samples_per_s

    @classmethod
    def simulate(
        cls, source: SyntheticDataset, on_batch: Callable[[int], None] | None = None
    ) -> MemoryDataset:
        """Every item of ``source``; ``on_batch(n)`` after each batch of ``n`` samples."""
        length = len(source)
        started_s = time.perf_counter()
        parts: list[Item] = []
        for first in range(0, length, SIMULATION_BATCH):
            parts.append(source.batch(range(first, min(length, first + SIMULATION_BATCH))))
            if on_batch is not None:
                on_batch(min(SIMULATION_BATCH, length - first))
        if parts:
            items = {key: torch.cat([part[key] for part in parts]) for key in ITEM_DTYPES}
        else:
            items = {key: torch.empty(0, dtype=dtype) for key, dtype in ITEM_DTYPES.items()}
        elapsed_s = max(time.perf_counter() - started_s, 1e-9)
        return cls(items, length / elapsed_s)

    def __len__(self) -> int:
        return int(self.items["index"].shape[0])

    @property
    def positions_m(self) -> torch.Tensor:
        """``(N, 2)`` float32 true east, north of every sample, metres."""
        return self.items["position_m"]

    def batch(self, indices: Sequence[int]) -> Item:
        rows = torch.as_tensor(list(indices), dtype=torch.int64)
        return {key: value[rows] for key, value in self.items.items()}

    def __getitem__(self, index: int) -> Item:
        return {key: value[index] for key, value in self.items.items()}

    def __getitems__(self, indices: Sequence[int]) -> list[Item]:
        return split_items(self.batch(indices))


_shared: OrderedDict[tuple[str, str, int, int], MemoryDataset] = OrderedDict()


def shared_memory_dataset(
    scenario: ScenarioConfig,
    length: int,
    seed: int,
    features: FeatureConfig,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[MemoryDataset, bool]:
    """The in-memory training set of (scenario, length, seed, features), without measured RSS,
    and whether it was simulated now (False: an earlier run of this process had simulated it)."""
    key = (scenario.model_dump_json(), features.model_dump_json(), seed, length)
    found = _shared.get(key)
    if found is not None:
        _shared.move_to_end(key)
        return found, False
    source = SyntheticDataset(scenario, length, seed, features, measure_rss=False)
    dataset = MemoryDataset.simulate(source, on_batch)
    _shared[key] = dataset
    while len(_shared) > SHARED_SETS:
        _shared.popitem(last=False)
    return dataset, True
