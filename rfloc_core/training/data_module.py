"""Training and validation loaders over simulated samples, sharded per DDP rank."""

from __future__ import annotations

import lightning
from torch.utils.data import DataLoader

from rfloc_core.data.datasets import SyntheticDataset
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.data.splits import split_seed
from rfloc_core.training.config import TrainConfig
from rfloc_core.training.sampling import EpochBatches


class SyntheticDataModule(lightning.LightningDataModule):
    """``config.train_samples`` shuffled each epoch and ``config.val_samples`` in order, each
    from its own seed (``split_seed``); item ``i`` of either set never changes."""

    def __init__(
        self, config: TrainConfig, scenario: ScenarioConfig, features: FeatureConfig
    ) -> None:
        super().__init__()
        self.config = config
        self.train_set = SyntheticDataset(
            scenario, config.train_samples, split_seed(config.seed, "train"), features
        )
        self.val_set = SyntheticDataset(
            scenario, config.val_samples, split_seed(config.seed, "validation"), features
        )
        self.train_batches = EpochBatches(
            config.train_samples, config.batch_size, seed=config.seed, shuffle=True
        )
        self.val_batches = EpochBatches(
            config.val_samples, config.batch_size, seed=config.seed, shuffle=False, drop_last=False
        )

    def setup(self, stage: str) -> None:
        rank, world = self.trainer.global_rank, self.trainer.world_size  # type: ignore[union-attr]
        for batches in (self.train_batches, self.val_batches):
            batches.rank, batches.world_size = rank, world

    def _loader(self, dataset: SyntheticDataset, batches: EpochBatches) -> DataLoader[object]:
        workers = self.config.num_workers
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
