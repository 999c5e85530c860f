"""Training's memory need is estimated before it is allocated and refused in one line where
the machine cannot hold it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rfloc_core.data import FeatureConfig
from rfloc_core.training import memory_check, train
from rfloc_core.training.config import load_train_config
from rfloc_core.training.memory_check import (
    TrainingMemoryError,
    activation_bytes_per_sample,
    available_memory_bytes,
    training_memory_bytes,
)
from tests.training.toy_run import write_toy_config

pytestmark = pytest.mark.usefixtures("toy_registry")


def test_activation_bytes_count_every_module_output() -> None:
    network = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU())
    # conv and relu each give 4 x 8 x 8 float32 for one sample
    assert activation_bytes_per_sample(network, 2, (8, 8)) == 2 * 4 * 8 * 8 * 4


def test_the_estimate_in_closed_form(tmp_path: Path) -> None:
    config = load_train_config(write_toy_config(tmp_path), ["batch_size=10", "data_in_memory=true"])
    features = FeatureConfig(mel_bins=16, frames=8)
    sample = 3 * 16 * 8 * 4
    needed = training_memory_bytes(config, features, 3, activation_bytes=1000, copies_per_sample=2)
    in_memory = (config.train_samples + config.val_samples) * sample
    assert needed == in_memory + 10 * (sample + 2 * 2 * 1000)


def test_available_memory_is_what_the_kernel_reports() -> None:
    available = available_memory_bytes()
    if not Path("/proc/meminfo").exists():
        assert available is None
        return
    assert available is not None and 0 < available <= _total_memory_bytes()


def _total_memory_bytes() -> int:
    line = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemT"))
    return int(line.split()[1]) * 1024


def test_a_batch_the_machine_cannot_hold_is_refused_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory_check, "available_memory_bytes", lambda: 64 * 2**20)
    config = write_toy_config(tmp_path, train_samples=1024)
    with pytest.raises(TrainingMemoryError, match=r"batch_size 1024\), but this machine has 0\.1"):
        train(config, ["batch_size=1024"], run_dir=tmp_path / "run", progress=False, tracking=False)
    assert train(
        config, ["batch_size=16", "max_steps=1"], run_dir=tmp_path / "run", progress=False,
        tracking=False,
    )  # fmt: skip
