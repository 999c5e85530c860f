"""A fine-tuning parent that is saved again between the run's reading of it and the loading of
its weights is refused: the run would record one checkpoint and start from another."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rfloc_core import create_model
from rfloc_core.checkpoint import read_checkpoint_config, save_checkpoint
from rfloc_core.data.errors import ConfigError
from rfloc_core.training.fine_tune import ParentCheckpoint, load_parent_weights

pytestmark = pytest.mark.usefixtures("toy_registry")


def _model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return create_model("toynet", head="gaussian").eval()


def test_a_parent_saved_again_while_read_is_refused(tmp_path: Path) -> None:
    folder = save_checkpoint(_model(0), tmp_path / "parent")
    config = read_checkpoint_config(folder)
    parent = ParentCheckpoint(folder, config, "recorded-hash", None)
    child = _model(2)
    load_parent_weights(child, parent)
    for name, tensor in _model(0).state_dict().items():
        assert torch.equal(child.state_dict()[name], tensor), name
    save_checkpoint(_model(1), folder)
    with pytest.raises(ConfigError, match="was saved again while this run read it"):
        load_parent_weights(_model(2), parent)
