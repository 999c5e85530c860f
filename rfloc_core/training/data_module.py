"""Training and validation loaders over simulated samples or dataset folders, sharded per DDP
rank."""

from __future__ import annotations

import lightning
import torch
from torch.utils.data import DataLoader, Dataset

from rfloc_core.data.datasets import Item, SyntheticDataset
from rfloc_core.data.disk_dataset import DiskDataset
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.memory_dataset import MemoryDataset, shared_memory_dataset
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.data.splits import Split, split_seed
from rfloc_core.training.config import TrainConfig
from rfloc_core.training.sampling import EpochBatches


class SyntheticDataModule(lightning.LightningDataModule):
    """``config.train_samples`` shuffled each epoch and ``config.val_samples`` in order, each
    from its own seed (``split_seed``), or the first samples of ``train_data`` and ``val_data``
    where given; item ``i`` of either set never changes.

    With ``config.data_in_memory`` both sets are simulated (or read) once, here; simulated sets
    are shared with other runs of this process that ask for the same sets. Otherwise each batch
    is simulated or read when the loader asks for it.
    """

    def __init__(
        self,
        config: TrainConfig,
        scenario: ScenarioConfig,
        features: FeatureConfig,
        *,
        train_data: DiskDataset | None = None,
        val_data: DiskDataset | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.simulated_samples_per_s: float | None = None
        """Simulation rate of the in-memory sets, where this module simulated them."""
        self.train_set = self._dataset(scenario, features, train_data, "train")
        self.val_set = self._dataset(scenario, features, val_data, "validation")
        self.train_batches = EpochBatches(
            len(self.train_set), config.batch_size, seed=config.seed, shuffle=True
        )
        self.val_batches = EpochBatches(
            len(self.val_set), config.batch_size, seed=config.seed, shuffle=False, drop_last=False
        )

    def _dataset(
        self,
        scenario: ScenarioConfig,
        features: FeatureConfig,
        stored: DiskDataset | None,
        split: Split,
    ) -> MemoryDataset | SyntheticDataset | DiskDataset:
        if stored is not None:
            if not self.config.data_in_memory:
                return stored
            return MemoryDataset(stored.batch(range(len(stored))), float("nan"))
        length = self.config.train_samples if split == "train" else self.config.val_samples
        seed = split_seed(self.config.seed, split)
        if not self.config.data_in_memory:
            return SyntheticDataset(scenario, length, seed, features, measure_rss=False)
        dataset, simulated = shared_memory_dataset(scenario, length, seed, features)
        if simulated and split == "train":
            self.simulated_samples_per_s = dataset.simulated_samples_per_s
        return dataset

    def train_mean_position_m(self) -> tuple[float, float]:
        """The training set's mean true position (east, north) in metres: the prior."""
        if isinstance(self.train_set, MemoryDataset | DiskDataset):
            positions = self.train_set.positions_m.to(torch.float64)
        else:
            assert isinstance(self.train_set, SyntheticDataset)
            simulator, seed = self.train_set.simulator, self.train_set.seed
            positions = torch.cat(
                [
                    simulator.positions_m(range(i, min(len(self.train_set), i + 4096)), seed)
                    for i in range(0, len(self.train_set), 4096)
                ]
            )
        east_m, north_m = positions.mean(dim=0).tolist()
        return float(east_m), float(north_m)

    def setup(self, stage: str) -> None:
        rank, world = self.trainer.global_rank, self.trainer.world_size  # type: ignore[union-attr]
        for batches in (self.train_batches, self.val_batches):
            batches.rank, batches.world_size = rank, world

    def _loader(self, dataset: Dataset[Item], batches: EpochBatches) -> DataLoader[object]:
        workers = 0 if self.config.data_in_memory else self.config.num_workers
        return DataLoader(
            dataset,
            batch_sampler=batches,
            num_workers=workers,
            persistent_workers=workers > 0,
        )

    def train_dataloader(self) -> DataLoader[object]:
        return self._loader(self.train_set, self.train_batches)

    def val_dataloader(self) -> DataLoader[object]:
        return self._loader(self.val_set, self.val_batches)
