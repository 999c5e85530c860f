"""Checkpoints: a safetensors weights file plus config.json, replaced as one, never unpickled."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import safetensors.torch
import torch

from rfloc_core import create_model
from rfloc_core.checkpoint import (
    CONFIG_NAME,
    CheckpointConfigError,
    CheckpointMismatchError,
    CheckpointMissingError,
    CheckpointPluginError,
    CheckpointWeightsError,
    PluginVersionWarning,
    load_checkpoint,
    read_checkpoint_config,
    save_checkpoint,
)
from rfloc_core.checkpoint_config import weights_file_name
from rfloc_core.data import FeatureConfig, load_preset
from rfloc_core.errors import RflocError
from rfloc_core.registry import get_registry
from tests.checkpoint_models import trained_model, write_config

pytestmark = pytest.mark.usefixtures("toy_registry")

HEADS = [("gaussian", None), ("gaussian_full", None), ("mixture", {"components": 4})]


def _edit_config(folder: Path, **changes: object) -> None:
    config = json.loads((folder / CONFIG_NAME).read_text())
    write_config(folder, config | changes)


def _weights(folder: Path) -> Path:
    return folder / read_checkpoint_config(folder).weights_file


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return save_checkpoint(trained_model(), tmp_path / "ckpt")


@pytest.mark.parametrize(("head", "options"), HEADS)
def test_round_trip_gives_bit_identical_outputs(tmp_path, head, options):
    model = trained_model(head, options)
    x = torch.randn(3, 7, 128, 32)
    loaded, config = load_checkpoint(save_checkpoint(model, tmp_path / "ckpt"))
    assert config.head == head
    expected, got = model(x), loaded.eval()(x)
    assert got.keys() == expected.keys()
    for name in expected:
        assert torch.equal(got[name], expected[name]), name
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name


def test_config_records_model_plugins_and_run_context(tmp_path):
    model = trained_model("mixture", {"components": 4}, receivers=3, input_size=(64, 16))
    scenario, features = load_preset("vhf-rural"), FeatureConfig(mel_bins=64, frames=16)
    folder = save_checkpoint(
        model, tmp_path / "ckpt", scenario=scenario, features=features, extra={"epoch": 7}
    )
    config = read_checkpoint_config(folder)
    assert sorted(os.listdir(folder)) == [CONFIG_NAME, config.weights_file]
    assert config.weights_file == weights_file_name(config.weights_sha256)
    assert (config.format, config.format_version) == ("rfloc-checkpoint", 1)
    assert (config.backbone, config.backbone_family, config.head) == ("toynet", "toy", "mixture")
    assert (config.backbone_plugin, config.backbone_plugin_version) == ("toy", "0.0.1")
    assert config.backbone_distribution == "rfloc-toy"
    assert (config.head_plugin, config.head_distribution) == ("core", "rfloc-core")
    assert config.head_options["components"] == 4
    assert (config.receivers, config.input_size, config.dtype) == (3, (64, 16), "float32")
    assert config.scenario == scenario.model_dump(mode="json")
    assert config.features == features.model_dump(mode="json")
    assert config.extra == {"epoch": 7}
    on_disk = json.loads((folder / CONFIG_NAME).read_text())
    assert on_disk["input_size"] == {"mel_bins": 64, "frames": 16}
    assert on_disk["rfloc_core_version"] == config.rfloc_core_version


def test_reading_the_config_does_not_import_torch(saved):
    code = (
        "import sys; from rfloc_core.checkpoint import read_checkpoint_config; "
        f"read_checkpoint_config({str(saved)!r}); assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_extra_that_is_not_json_fails_before_writing(tmp_path):
    with pytest.raises(CheckpointConfigError, match="JSON-serialisable"):
        save_checkpoint(trained_model(), tmp_path / "ckpt", extra={"loss": torch.tensor(1.0)})
    assert not list((tmp_path / "ckpt").glob("*"))


@pytest.mark.parametrize("weights_file", ["../weights.safetensors", "/etc/passwd", "model.pt"])
def test_a_weights_file_outside_the_naming_scheme_is_refused(saved, weights_file):
    _edit_config(saved, weights_file=weights_file)
    with pytest.raises(CheckpointConfigError, match="weights_file"):
        read_checkpoint_config(saved)


@pytest.mark.parametrize("which", ["config", "weights"])
def test_missing_file(saved, which):
    name = CONFIG_NAME if which == "config" else read_checkpoint_config(saved).weights_file
    (saved / name).unlink()
    with pytest.raises(CheckpointMissingError, match=f"{name} does not exist"):
        load_checkpoint(saved)


def test_missing_folder(tmp_path):
    with pytest.raises(CheckpointMissingError, match="is not a folder"):
        read_checkpoint_config(tmp_path / "nowhere")


def test_an_edited_config_is_refused_by_the_checkpoint_hash(saved):
    """The edit that would shrink every prediction 20,000x is caught: one hash covers the
    config and (through weights_sha256) the weights."""
    config = json.loads((saved / CONFIG_NAME).read_text())
    config["head_options"]["position_scale_m"] = 1.0
    (saved / CONFIG_NAME).write_text(json.dumps(config))
    with pytest.raises(CheckpointConfigError, match="changed after it was saved"):
        load_checkpoint(saved)
    write_config(saved, config)
    assert load_checkpoint(saved)[0].head_options["position_scale_m"] == 1.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "rfloc-checkpoint", ', "not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        (
            '{"format": "rfloc-checkpoint", "format_version": 3}',
            "version 1 or 2, got 'rfloc-checkpoint' version 3",
        ),
        ('{"format": "rfloc-checkpoint", "format_version": 1}', "lacks or mistypes key"),
    ],
)
def test_corrupt_config(saved, text, message):
    (saved / CONFIG_NAME).write_text(text)
    with pytest.raises(CheckpointConfigError, match=message):
        load_checkpoint(saved)


@pytest.mark.parametrize(
    ("changes", "keys"),
    [
        ({"receivers": "7"}, "receivers"),
        ({"input_size": [128, 32]}, "input_size"),
        ({"input_size": {"mel_bins": 128}}, "input_size"),
        ({"dtype": "complex"}, "dtype"),
        ({"extra": None, "head": 3}, "extra, head"),
        ({"receivers": None}, "receivers"),
        ({"receiver_set": {"fusion": "attention"}}, "format_version, receiver_set, receivers"),
    ],
)
def test_config_with_mistyped_keys(saved, changes, keys):
    _edit_config(saved, **changes)
    with pytest.raises(CheckpointConfigError, match=f"key\\(s\\) {keys};"):
        read_checkpoint_config(saved)


def test_truncated_weights_fail_the_checksum(saved):
    weights = _weights(saved)
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(CheckpointWeightsError, match="SHA-256"):
        load_checkpoint(saved)


def test_tampered_checksum(saved):
    _edit_config(saved, weights_sha256="0" * 64)
    with pytest.raises(CheckpointWeightsError, match="partial or was replaced"):
        load_checkpoint(saved)


def test_unparseable_weights_with_a_matching_checksum(saved):
    _weights(saved).write_bytes(b"\xff" * 64)
    _edit_config(saved, weights_sha256=_sha256(_weights(saved)))
    with pytest.raises(CheckpointWeightsError, match="not a readable safetensors file"):
        load_checkpoint(saved)


def test_missing_builtin_family_names_its_package(saved, monkeypatch):
    monkeypatch.setenv("RFLOC_PLUGINS", "toy")
    get_registry(refresh=True)
    _edit_config(
        saved,
        backbone="convnext_tiny",
        backbone_family="convnext",
        backbone_plugin="convnext",
        backbone_distribution="convnext",  # as recorded when saved from an uninstalled checkout
    )
    with pytest.raises(CheckpointPluginError, match="pip install rfloc-convnext"):
        load_checkpoint(saved)


def test_missing_third_party_plugin_names_its_distribution(saved):
    _edit_config(
        saved,
        backbone="acme_net",
        backbone_family="acme",
        backbone_plugin="acme",
        backbone_distribution="acme-rfloc-models",
    )
    with pytest.raises(CheckpointPluginError, match="which is not installed; install it with "):
        load_checkpoint(saved)
    with pytest.raises(RflocError, match="pip install acme-rfloc-models"):
        load_checkpoint(saved)


def test_other_plugin_version_loads_with_a_warning(saved):
    _edit_config(saved, backbone_plugin_version="0.0.0")
    with pytest.warns(PluginVersionWarning, match=r"'toy' 0\.0\.0 .* 'toy' 0\.0\.1"):
        model, _ = load_checkpoint(saved)
    assert model.backbone_spec.plugin_version == "0.0.1"


def test_same_plugin_version_loads_without_warnings(saved):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_checkpoint(saved)


@pytest.mark.parametrize(
    ("changes", "mismatched"),
    [
        ({"receivers": 3}, "backbone.0.weight is (8, 7, 3, 3) but the model has (8, 3, 3, 3)"),
        ({"head_options": {"components": 2}}, "head.proj.weight is (20, 16)"),
    ],
)
def test_weights_that_do_not_fit_name_the_keys(tmp_path, changes, mismatched):
    folder = save_checkpoint(trained_model("mixture", {"components": 4}), tmp_path / "ckpt")
    _edit_config(folder, **changes)
    with pytest.raises(CheckpointMismatchError, match=re.escape(mismatched)):
        load_checkpoint(folder)


def test_missing_and_unexpected_keys_are_named(saved):
    state = safetensors.torch.load_file(_weights(saved))
    state["head.extra_bias"] = state.pop("head.proj.bias")
    safetensors.torch.save_file(state, _weights(saved))
    _edit_config(saved, weights_sha256=_sha256(_weights(saved)))
    with pytest.raises(CheckpointMismatchError) as raised:
        load_checkpoint(saved)
    assert "head.extra_bias is not in the model" in str(raised.value)
    assert "head.proj.bias is missing" in str(raised.value)


def _set_model(fusion: str):
    torch.manual_seed(0)
    model = create_model(
        "toynet",
        fusion=fusion,
        fusion_options={"width": 32, "layers": 1} if fusion == "deepsets" else {"width": 32},
        receiver_scale_m=5_000.0,
    )
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    return model.eval()


@pytest.mark.parametrize("fusion", ["attention", "deepsets"])
def test_a_receiver_set_model_round_trips_with_its_fusion(tmp_path, fusion):
    model = _set_model(fusion)
    inputs = (torch.randn(2, 5, 128, 32), 4e3 * torch.randn(2, 5, 2), torch.ones(2, 5).bool())
    loaded, config = load_checkpoint(save_checkpoint(model, tmp_path / "ckpt"))
    assert config.receivers is None
    assert config.format_version == 2  # an older rfloc-core refuses it by its version
    assert config.receiver_set is not None
    assert config.receiver_set["fusion"] == fusion
    assert config.receiver_set["fusion_plugin"] == "core"
    assert config.receiver_set["receiver_scale_m"] == 5_000.0
    assert loaded.receiver_scale_m == 5_000.0
    assert loaded.fusion_options == model.fusion_options
    expected, got = model(*inputs), loaded.eval()(*inputs)
    for name in expected:
        assert torch.equal(got[name], expected[name]), name


def test_a_checkpoint_without_receiver_set_reads_as_a_fixed_network_model(saved):
    config = json.loads((saved / CONFIG_NAME).read_text())
    assert config["receiver_set"] is None
    del config["receiver_set"]  # as written before receiver-set models
    write_config(saved, config)
    assert read_checkpoint_config(saved).receiver_set is None
    loaded, _ = load_checkpoint(saved)
    assert loaded.receivers == 7


def test_a_receiver_set_checkpoint_whose_fusion_is_missing_names_its_plugin(tmp_path):
    folder = save_checkpoint(_set_model("attention"), tmp_path / "ckpt")
    config = json.loads((folder / CONFIG_NAME).read_text())
    config["receiver_set"] |= {"fusion": "acme_sum", "fusion_plugin": "acme"}
    config["receiver_set"]["fusion_distribution"] = "acme-fusions"
    write_config(folder, config)
    with pytest.raises(CheckpointPluginError, match="needs fusion 'acme_sum' from plugin 'acme'"):
        load_checkpoint(folder)


def test_the_documented_config_has_the_keys_save_checkpoint_writes(saved):
    text = (Path(__file__).parents[1] / "docs" / "checkpoints.md").read_text()
    documented = json.loads(re.search(r"```json\n(\{.*?\})\n```", text, re.DOTALL).group(1))
    written = json.loads((saved / CONFIG_NAME).read_text())
    assert list(documented) == list(written)
