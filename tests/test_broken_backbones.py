"""A plugin's broken backbone gets one line naming the plugin and the spec, everywhere it can
surface (the kit, `rfloc models`, `create_model`), and never hides the other backbones."""

from __future__ import annotations

import json
import os
import textwrap
import time

import numpy as np
import pytest
import torch

from rfloc_core import create_model
from rfloc_core.errors import PluginError
from rfloc_core.export.validation import ValidationReport, compare
from rfloc_core.registry import get_registry
from rfloc_core.testing import checks
from rfloc_core.testing.pytest_plugin import backbone_params
from rfloc_core.testing.weights_checks import check_variants
from tests.cli_runner import run_rfloc

BROKEN = textwrap.dedent(
    """
    from rfloc_core import BackboneSpec, hookimpl

    RFLOC_PLUGIN_API = (1, 2)
    WIDTH = 16


    def _network(in_chans, width, scale=1.0):
        from torch import nn

        class Scaled(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(
                    nn.Conv2d(in_chans, width, 3, stride=2, padding=1),
                    nn.AdaptiveAvgPool2d(1),
                    nn.Flatten(),
                )

            def forward(self, x):
                return self.body(x) * scale

        return Scaled()


    def build_fails_at_seven(*, in_chans, input_size, pretrained):
        if in_chans == 7:
            raise RuntimeError("stem cannot take 7 channels")
        return _network(in_chans, 16)


    def build_wide(*, in_chans, input_size, pretrained):
        return _network(in_chans, WIDTH)


    def build_nan(*, in_chans, input_size, pretrained):
        return _network(in_chans, 16, scale=float("nan"))


    @hookimpl
    def rfloc_backbones():
        return [
            BackboneSpec(name="fails_at_seven", family="broken", feature_dim=16,
                         build=build_fails_at_seven),
            BackboneSpec(name="wrong_dim", family="broken", feature_dim=32, build=build_wide),
            BackboneSpec(name="nan_out", family="broken", feature_dim=16, build=build_nan),
        ]
    """
)


@pytest.fixture
def broken_site(plugin_site):
    plugin_site.install_toy()
    plugin_site.install("rfloc-broken", {"broken": "rfloc_broken"}, {"rfloc_broken": BROKEN})
    get_registry(refresh=True)
    return plugin_site


def one_line(text: str) -> bool:
    return "\n" not in text.strip() and "Traceback" not in text


def test_a_build_that_raises_is_one_plugin_error_from_create_model(broken_site):
    with pytest.raises(PluginError) as raised:
        create_model("fails_at_seven")
    message = str(raised.value)
    assert one_line(message)
    assert "backbone fails_at_seven from plugin 'broken' failed to build for 7" in message
    assert "RuntimeError: stem cannot take 7 channels" in message
    assert create_model("toynet") is not None


def test_the_kit_collects_a_backbone_whose_build_raises_and_its_checks_name_it(broken_site):
    params = backbone_params("broken", "*", slow_above_params_m=15.0)
    assert [p.id for p in params] == ["fails_at_seven", "wrong_dim", "nan_out"]
    spec = get_registry().backbone("fails_at_seven")
    with pytest.raises(AssertionError) as raised:
        checks.check_meta_build(spec)
    assert one_line(str(raised.value)) and "plugin 'broken'" in str(raised.value)
    with pytest.raises(AssertionError, match="failed to build for 7 receivers"):
        checks.check_receiver_counts(spec, (1, 3, 7))


def test_rfloc_models_lists_every_row_and_names_each_broken_one(broken_site):
    patterns = ("toy*", "fails_at_seven", "wrong_dim", "nan_out")
    result = run_rfloc("models", *patterns, "--format", "json", site=broken_site.path)
    assert result.returncode == 1
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["toynet"]["status"] == "ok" and rows["toynet"]["feature_dim"] == 16
    assert rows["nan_out"]["status"] == "ok"
    assert rows["fails_at_seven"]["status"] == "error (below)"
    assert rows["fails_at_seven"]["params_m"] is None
    assert "declares feature_dim=32 but its network outputs 16" in rows["wrong_dim"]["problem"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert any("fails_at_seven from plugin 'broken'" in line for line in errors)
    assert "Traceback" not in result.stderr

    table = run_rfloc("models", *patterns, site=broken_site.path)
    assert table.returncode == 1 and "toynet" in table.stdout
    assert table.stdout.count("error (below)") == 2


def test_a_wrong_feature_dim_is_a_plugin_error_on_forward_not_a_shape_error(broken_site):
    model = create_model("wrong_dim").eval()
    with pytest.raises(PluginError) as raised, torch.no_grad():
        model(torch.zeros(1, 7, 128, 32))
    message = str(raised.value)
    assert one_line(message)
    assert "wrong_dim from plugin 'broken' declares feature_dim=32" in message
    assert "features of shape (1, 16)" in message


def test_nan_outputs_are_reported_as_nan_not_as_randomness(broken_site):
    model = create_model("nan_out")
    with pytest.raises(AssertionError, match="NaN or infinite values on a finite input"):
        checks.check_deterministic_eval(model)


def test_an_export_comparison_with_nan_says_so_instead_of_max_abs_zero():
    report = ValidationReport("onnxruntime", 1e-4, 1e-4, (1,), ("spectrogram",))
    expected = {"position_m": np.array([[np.nan, 1.0]])}
    compare(expected, {"position_m": np.array([[np.nan, 1.0]])}, report, "batch 1")
    assert not report.passed
    assert "NaN or infinite values: 1 in PyTorch's output and 1 in the export's" in (
        report.summary()
    )


def test_a_variant_list_mismatch_says_what_differs(toy_registry):
    spec = get_registry().backbone("toynet")
    with pytest.raises(AssertionError, match=r"missing: \['toynet_large'\]"):
        check_variants([spec], ["toynet", "toynet_large"])


def test_editing_an_installed_plugin_invalidates_its_cached_measurement(broken_site):
    first = run_rfloc("models", "wrong_dim", "--format", "json", site=broken_site.path)
    assert json.loads(first.stdout)[0]["feature_dim"] == 16
    module = broken_site.path / "rfloc_broken.py"
    module.write_text(module.read_text().replace("WIDTH = 16", "WIDTH = 32"))
    later = time.time() + 5
    os.utime(module, (later, later))
    second = run_rfloc("models", "wrong_dim", "--format", "json", site=broken_site.path)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)[0]["feature_dim"] == 32
