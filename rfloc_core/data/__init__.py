"""The data side of rfloc: scenarios, simulation, features, datasets, SigMF, estimators, metrics.

``import rfloc_core.data`` is light (no pydantic, no torch); the config models, and the names
that need torch, h5py or sigmf, load on first use. ``import rfloc_core`` never imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rfloc_core.data.errors import (
    ChecksumError,
    ConfigError,
    DatasetError,
    FeatureMismatchError,
    RecordingError,
)
from rfloc_core.data.presets import DEFAULT_PRESET, preset_names
from rfloc_core.lazy import lazy_getattr

if TYPE_CHECKING:
    from rfloc_core.data.datasets import SyntheticDataset
    from rfloc_core.data.disk_dataset import DiskDataset
    from rfloc_core.data.feature_config import FeatureConfig
    from rfloc_core.data.features import log_mel_features
    from rfloc_core.data.scenario import (
        SIGNAL_TYPES,
        ScenarioConfig,
        SignalType,
        load_preset,
        load_scenario,
    )
    from rfloc_core.data.sigmf_io import (
        read_sigmf_recordings,
        sigmf_to_model_input,
        write_sigmf_recordings,
    )
    from rfloc_core.data.simulator import SimulatedBatch, Simulator
    from rfloc_core.data.storage import simulate_to_disk

_LAZY = {
    "FeatureConfig": "rfloc_core.data.feature_config",
    "SIGNAL_TYPES": "rfloc_core.data.scenario",
    "ScenarioConfig": "rfloc_core.data.scenario",
    "SignalType": "rfloc_core.data.scenario",
    "load_preset": "rfloc_core.data.scenario",
    "load_scenario": "rfloc_core.data.scenario",
    "DiskDataset": "rfloc_core.data.disk_dataset",
    "SimulatedBatch": "rfloc_core.data.simulator",
    "Simulator": "rfloc_core.data.simulator",
    "SyntheticDataset": "rfloc_core.data.datasets",
    "log_mel_features": "rfloc_core.data.features",
    "read_sigmf_recordings": "rfloc_core.data.sigmf_io",
    "sigmf_to_model_input": "rfloc_core.data.sigmf_io",
    "simulate_to_disk": "rfloc_core.data.storage",
    "write_sigmf_recordings": "rfloc_core.data.sigmf_io",
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "DEFAULT_PRESET",
    "SIGNAL_TYPES",
    "ChecksumError",
    "ConfigError",
    "DatasetError",
    "DiskDataset",
    "FeatureConfig",
    "FeatureMismatchError",
    "RecordingError",
    "ScenarioConfig",
    "SignalType",
    "SimulatedBatch",
    "Simulator",
    "SyntheticDataset",
    "load_preset",
    "load_scenario",
    "log_mel_features",
    "preset_names",
    "read_sigmf_recordings",
    "sigmf_to_model_input",
    "simulate_to_disk",
    "write_sigmf_recordings",
]
