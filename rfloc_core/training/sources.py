"""Where a run's samples come from: simulated on the fly from its scenario, or read from the
dataset folders ``data``, ``val_data`` and ``test_data`` (``rfloc simulate`` wrote them).

With ``data``, the training scenario and features are the dataset's own: the checkpoint records
them, so the model is exported and evaluated with the front end it was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rfloc_core.data.dataset_folder import MANIFEST_HASH_KEY
from rfloc_core.data.disk_dataset import DiskDataset
from rfloc_core.data.errors import ConfigError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import ScenarioConfig, load_scenario
from rfloc_core.errors import RflocError
from rfloc_core.training.config import TrainConfig


@dataclass(frozen=True)
class TrainingSources:
    scenario: ScenarioConfig
    """The training samples' scenario, which the checkpoint records."""
    features: FeatureConfig
    train: DiskDataset | None
    """None: simulated from ``scenario`` under the run's seed."""
    validation: DiskDataset | None
    test: DiskDataset | None

    def provenance(self) -> dict[str, Any]:
        """Each dataset folder read, with its manifest hash and the samples used."""
        folders = {"data": self.train, "val_data": self.validation, "test_data": self.test}
        return {
            field: {
                "path": str(dataset.root),
                "manifest_sha256": dataset.manifest.get(MANIFEST_HASH_KEY),
                "samples": len(dataset),
            }
            for field, dataset in folders.items()
            if dataset is not None
        }


def _open(
    folder: str, field: str, features: FeatureConfig | None, count: int | None
) -> DiskDataset:
    """The dataset in ``folder``; with ``features`` None, whatever features it was made with."""
    try:
        return DiskDataset(folder, features, count=count, any_features=features is None)
    except RflocError as error:
        raise ConfigError(f"field {field}: {error}") from None


def training_sources(config: TrainConfig) -> TrainingSources:
    """The run's scenario, features and dataset folders, each checked against the model."""
    input_size = config.model.input_size.as_tuple()
    train = None
    if config.data is None:
        scenario = load_scenario(config.scenario)
        features = FeatureConfig(mel_bins=input_size[0], frames=input_size[1])
    else:
        train = _open(config.data, "data", None, config.train_samples)
        scenario, features = train.scenario, train.feature_config
        if (features.mel_bins, features.frames) != input_size:
            raise ConfigError(
                f"field data: dataset {config.data} holds {features.mel_bins}x{features.frames} "
                f"spectrograms but model.input_size is {input_size[0]}x{input_size[1]}; set "
                "model.input_size to the dataset's or simulate the dataset at the model's"
            )
        if len(train) < config.batch_size:
            raise ConfigError(
                f"field data: dataset {config.data} holds {len(train)} samples, fewer than "
                f"batch_size ({config.batch_size}); lower batch_size or give a larger dataset"
            )
    validation = (
        _open(config.val_data, "val_data", features, config.val_samples)
        if config.val_data
        else None
    )
    test = _open(config.test_data, "test_data", features, None) if config.test_data else None
    return TrainingSources(scenario, features, train, validation, test)
