"""Training and validation loaders over simulated samples, sharded per DDP rank."""

from __future__ import annotations

import lightning
import torch
from torch.utils.data import DataLoader, Dataset

from rfloc_core.data.datasets import Item, SyntheticDataset
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.memory_dataset import MemoryDataset, shared_memory_dataset
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.data.splits import Split, split_seed
from rfloc_core.training.config import TrainConfig
from rfloc_core.training.sampling import EpochBatches


class SyntheticDataModule(lightning.LightningDataModule):
    """``config.train_samples`` shuffled each epoch and ``config.val_samples`` in order, each
    from its own seed (``split_seed``); item ``i`` of either set never changes.

    With ``config.data_in_memory`` both sets are simulated once, here, and shared with other
    runs of this process that ask for the same sets; otherwise each batch is simulated when
    the loader asks for it.
    """

    def __init__(
        self, config: TrainConfig, scenario: ScenarioConfig, features: FeatureConfig
    ) -> None:
        super().__init__()
        self.config = config
        self.simulated_samples_per_s: float | None = None
        """Simulation rate of the in-memory sets, where this module simulated them."""
        self.train_set = self._dataset(scenario, features, config.train_samples, "train")
        self.val_set = self._dataset(scenario, features, config.val_samples, "validation")
        self.train_batches = EpochBatches(
            config.train_samples, config.batch_size, seed=config.seed, shuffle=True
        )
        self.val_batches = EpochBatches(
            config.val_samples, config.batch_size, seed=config.seed, shuffle=False, drop_last=False
        )

    def _dataset(
        self, scenario: ScenarioConfig, features: FeatureConfig, length: int, split: Split
    ) -> Dataset[Item]:
        seed = split_seed(self.config.seed, split)
        if not self.config.data_in_memory:
            return SyntheticDataset(scenario, length, seed, features)
        dataset, simulated = shared_memory_dataset(scenario, length, seed, features)
        if simulated and split == "train":
            self.simulated_samples_per_s = dataset.simulated_samples_per_s
        return dataset

    def train_mean_position_m(self) -> tuple[float, float]:
        """The training set's mean true position (east, north) in metres: the prior."""
        if isinstance(self.train_set, MemoryDataset):
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
