"""Map-style torch datasets of simulated samples; item ``i`` is always the same sample.

Every item, from memory or from disk, is a dict with the keys of ``ITEM_DTYPES``:
``features`` (receivers, mel_bins, frames) float32 model input, ``position_m`` (2,) east and
north in metres, ``tx_power_dbm`` (), ``received_power_dbm`` (receivers,), ``online``
(receivers,) bool, ``signal_type`` () index into ``SIGNAL_TYPES``, ``index`` () the sample index,
``receivers_m`` (receivers, 2) each receiver's east and north in metres (the scenario's network,
or the sample's own with ``random_network``), ``measured_rss_dbm`` (receivers,) the signal power
each receiver measured from its IQ in dBm, what the classical estimators see (NaN from a
``SyntheticDataset`` made with ``measure_rss=False``, as training's are: measuring costs a fifth
of the simulation and training never reads it).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset

from rfloc_core.data.errors import ConfigError
from rfloc_core.data.estimators import measure_rss_dbm
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.features import log_mel_features
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.data.simulator import SimulatedBatch, Simulator

Item = dict[str, torch.Tensor]

ITEM_DTYPES: dict[str, torch.dtype] = {
    "features": torch.float32,
    "position_m": torch.float32,
    "tx_power_dbm": torch.float32,
    "received_power_dbm": torch.float32,
    "online": torch.bool,
    "signal_type": torch.int64,
    "index": torch.int64,
    "receivers_m": torch.float32,
    "measured_rss_dbm": torch.float32,
}


def batch_to_items(
    batch: SimulatedBatch, simulator: Simulator, *, measure_rss: bool = True
) -> Item:
    """Batched item tensors ``(B, ...)`` (features computed on the batch's device)."""
    feature_config = simulator.feature_config
    features = log_mel_features(batch.iq, feature_config, batch.online)
    if measure_rss:
        measured_rss_dbm = measure_rss_dbm(
            batch.iq,
            feature_config.sample_rate_hz,
            simulator.scenario.receiver_hardware.bandwidth_hz,
            simulator.noise_density_dbm_per_hz,
        )
    else:
        measured_rss_dbm = torch.full(batch.online.shape, float("nan"), device=batch.online.device)
    values = {
        "features": features,
        "position_m": batch.position_m,
        "tx_power_dbm": batch.tx_power_dbm,
        "received_power_dbm": batch.received_power_dbm,
        "online": batch.online,
        "signal_type": batch.signal_type,
        "index": batch.index,
        "receivers_m": batch.receivers_enu_m[..., :2],
        "measured_rss_dbm": measured_rss_dbm,
    }
    return {key: values[key].to(ITEM_DTYPES[key]) for key in ITEM_DTYPES}


def split_items(batched: Item) -> list[Item]:
    count = batched["index"].shape[0]
    return [{key: value[row] for key, value in batched.items()} for row in range(count)]


class SyntheticDataset(Dataset[Item]):
    """Samples ``0 .. length - 1`` of ``scenario`` under ``seed``, simulated on the fly.

    Single items and batches (``__getitems__``, used by ``DataLoader``) give identical values,
    since each sample is a function of ``(seed, index)`` alone. Items stay on ``device``.
    ``measure_rss=False`` leaves ``measured_rss_dbm`` NaN.
    """

    def __init__(
        self,
        scenario: ScenarioConfig,
        length: int,
        seed: int = 0,
        feature_config: FeatureConfig | None = None,
        device: str | torch.device = "cpu",
        *,
        measure_rss: bool = True,
    ) -> None:
        if length < 0:
            raise ConfigError(f"dataset length must be >= 0 samples, got {length}")
        self.scenario = scenario
        self.length = length
        self.seed = seed
        self.measure_rss = measure_rss
        self.feature_config = feature_config or FeatureConfig()
        self.simulator = Simulator(scenario, self.feature_config, device)

    def __len__(self) -> int:
        return self.length

    def _check(self, indices: Sequence[int]) -> list[int]:
        checked = [int(i) for i in indices]
        for index in checked:
            if not 0 <= index < self.length:
                raise IndexError(f"sample index {index} outside 0..{self.length - 1}")
        return checked

    def batch(self, indices: Sequence[int]) -> Item:
        """Batched items ``(len(indices), ...)``, the vectorised path."""
        simulated = self.simulator.simulate(self._check(indices), self.seed)
        return batch_to_items(simulated, self.simulator, measure_rss=self.measure_rss)

    def __getitem__(self, index: int) -> Item:
        return split_items(self.batch([index]))[0]

    def __getitems__(self, indices: Sequence[int]) -> list[Item]:
        return split_items(self.batch(indices))
