"""A checkpoint replaced by a new save: as one, whatever the moment a save fails or is killed,
and read whole by a load that runs while another process saves."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest
import safetensors.torch
import torch

from rfloc_core.checkpoint import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    CheckpointMissingError,
    load_checkpoint,
    read_checkpoint_config,
    save_checkpoint,
)
from tests.checkpoint_models import trained_model, write_config

pytestmark = pytest.mark.usefixtures("toy_registry")


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return save_checkpoint(trained_model(), tmp_path / "ckpt")


def test_failed_save_leaves_the_previous_checkpoint(saved, monkeypatch):
    names = sorted(os.listdir(saved))
    before = {name: (saved / name).read_bytes() for name in names}

    def crash_mid_write(model, filename, metadata=None):
        Path(filename).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_model", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(trained_model("gaussian_full"), saved)
    assert sorted(os.listdir(saved)) == names  # no temporary files
    assert {name: (saved / name).read_bytes() for name in before} == before
    assert load_checkpoint(saved)[1].head == "gaussian"


def test_a_save_over_a_checkpoint_replaces_its_weights_and_leaves_no_other(saved):
    old = read_checkpoint_config(saved)
    model = trained_model("gaussian_full")
    save_checkpoint(model, saved)
    new = read_checkpoint_config(saved)
    assert new.weights_file != old.weights_file
    assert sorted(os.listdir(saved)) == [CONFIG_NAME, new.weights_file]
    loaded, config = load_checkpoint(saved)
    assert config.head == "gaussian_full"
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name


def test_a_load_follows_a_save_that_commits_while_it_reads(saved, monkeypatch):
    """A real save commits between the load's reading of config.json and of the weights it
    named, which that save removes: the load reads the new checkpoint whole."""
    import rfloc_core.checkpoint as checkpoint_module

    newer = trained_model("gaussian_full")
    named_first: list[str] = []
    find_file = checkpoint_module.existing_file

    def save_commits_first(folder: Path, name: str) -> Path:
        if not named_first:
            named_first.append(name)
            save_checkpoint(newer, folder)
        return find_file(folder, name)

    monkeypatch.setattr(checkpoint_module, "existing_file", save_commits_first)
    loaded, config = load_checkpoint(saved)
    assert not (saved / named_first[0]).exists()
    assert config.head == "gaussian_full" and config.weights_file != named_first[0]
    for name, tensor in newer.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name


def test_a_load_gives_up_after_following_three_saves(saved, monkeypatch):
    """A save commits before every read of the weights: after following three, the load
    stops with the missing-file error rather than chase saves for ever."""
    import rfloc_core.checkpoint as checkpoint_module

    find_file = checkpoint_module.existing_file
    named: list[str] = []

    def save_commits_first(folder: Path, name: str) -> Path:
        named.append(name)
        save_checkpoint(trained_model("gaussian_full" if len(named) % 2 else "gaussian"), folder)
        return find_file(folder, name)

    monkeypatch.setattr(checkpoint_module, "existing_file", save_commits_first)
    with pytest.raises(CheckpointMissingError, match="does not exist"):
        load_checkpoint(saved)
    assert len(named) == 1 + checkpoint_module.SAVES_FOLLOWED
    assert all(before != after for before, after in itertools.pairwise(named))


def test_a_save_interrupted_before_its_commit_leaves_the_old_checkpoint(saved, monkeypatch):
    """Killed between writing the new weights and config.json: the old checkpoint still loads,
    and the next save removes the weights that were never committed."""
    import rfloc_core.checkpoint as checkpoint

    old = read_checkpoint_config(saved)

    def killed(target, text):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(checkpoint, "write_text_atomic", killed)
        save_checkpoint(trained_model("gaussian_full"), saved)
    assert len(os.listdir(saved)) == 3  # the uncommitted weights beside the old pair
    assert load_checkpoint(saved)[1] == old
    (saved / "weights-0123456789abcdef.safetensors").write_bytes(b"a user's file, kept")
    save_checkpoint(trained_model("mixture", {"components": 2}), saved)
    new = read_checkpoint_config(saved)
    assert sorted(os.listdir(saved)) == sorted(
        [CONFIG_NAME, new.weights_file, "weights-0123456789abcdef.safetensors"]
    )


def test_a_checkpoint_from_before_weights_file_loads_and_is_replaced_cleanly(saved):
    config = json.loads((saved / CONFIG_NAME).read_text())
    (saved / config.pop("weights_file")).rename(saved / WEIGHTS_NAME)
    write_config(saved, config)
    assert read_checkpoint_config(saved).weights_file == WEIGHTS_NAME
    assert load_checkpoint(saved)[1].head == "gaussian"
    save_checkpoint(trained_model("gaussian_full"), saved)
    assert WEIGHTS_NAME not in os.listdir(saved)
    assert load_checkpoint(saved)[1].head == "gaussian_full"
