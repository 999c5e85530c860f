"""Class 1a: what a checkpoint stores (config.json, the weights) is checked where it is read,
and each failure is one line naming the file and the field."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from rfloc_core.checkpoint import CONFIG_NAME, read_checkpoint_config
from rfloc_core.hashing import sha256_file
from tests.bad_inputs.conftest import Case, edit_checkpoint_config, run_case


def _scenario_field(workspace: Path, checkpoint: Path) -> list[str]:
    edit_checkpoint_config(
        checkpoint, lambda config: config["scenario"]["propagation"].update(path_loss_exponent=-3)
    )
    return ["evaluate", str(checkpoint), "--n", "4", "--out", str(workspace / "eval")]


def _features_field(workspace: Path, checkpoint: Path) -> list[str]:
    edit_checkpoint_config(checkpoint, lambda config: config["features"].update(mel_bins="many"))
    return ["predict", str(checkpoint), "--simulate", "1"]


def _unknown_head_option(workspace: Path, checkpoint: Path) -> list[str]:
    edit_checkpoint_config(checkpoint, lambda config: config["head_options"].update(wings=2))
    return ["predict", str(checkpoint), "--simulate", "1"]


def _head_option_of_wrong_type(workspace: Path, checkpoint: Path) -> list[str]:
    edit_checkpoint_config(
        checkpoint, lambda config: config["head_options"].update(position_scale_m="far")
    )
    return ["export", str(checkpoint), "--out", str(workspace / "model.onnx")]


def _infinite_head_option(workspace: Path, checkpoint: Path) -> list[str]:
    edit_checkpoint_config(
        checkpoint, lambda config: config["head_options"].update(position_scale_m=float("inf"))
    )
    return ["predict", str(checkpoint), "--simulate", "1"]


def _pickle_as_safetensors(workspace: Path, checkpoint: Path) -> list[str]:
    weights = checkpoint / read_checkpoint_config(checkpoint).weights_file
    weights.write_bytes(pickle.dumps({"weight": [1.0, 2.0]}))
    edit_checkpoint_config(
        checkpoint, lambda config: config.update(weights_sha256=sha256_file(weights))
    )
    return ["predict", str(checkpoint), "--simulate", "1"]


def _binary_config(workspace: Path, checkpoint: Path) -> list[str]:
    (checkpoint / CONFIG_NAME).write_bytes(bytes(range(256)))
    return ["predict", str(checkpoint), "--simulate", "1"]


def _hand_edited_config(workspace: Path, checkpoint: Path) -> list[str]:
    text = (checkpoint / CONFIG_NAME).read_text()
    (checkpoint / CONFIG_NAME).write_text(text.replace('"dtype": "float32"', '"dtype": "float64"'))
    return ["predict", str(checkpoint), "--simulate", "1"]


CASES = [
    Case("scenario field out of range", _scenario_field, ("config.json", "path_loss_exponent")),
    Case("features field of the wrong type", _features_field, ("config.json", "mel_bins")),
    Case("head option the head does not take", _unknown_head_option, ("head_options", "wings")),
    Case("head option of the wrong type", _head_option_of_wrong_type, ("position_scale_m",)),
    Case("head option that is not finite", _infinite_head_option, ("position_scale_m",)),
    Case("a pickle renamed to safetensors", _pickle_as_safetensors, ("weights-", ".safetensors")),
    Case("config.json that is not text", _binary_config, (CONFIG_NAME,)),
    Case("config.json edited by hand", _hand_edited_config, (CONFIG_NAME, "changed")),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_stored_configs(case: Case, checkpoint: Path, toy_site: Path, tmp_path: Path) -> None:
    run_case(case, checkpoint, toy_site, tmp_path)
