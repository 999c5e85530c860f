"""A torchvision model as an rfloc backbone: built through a real plugin installed from its
own package, its published weights checked against torchvision's registry, and a local
ImageNet-shaped file loaded with the first convolution adapted for 1 to 12 receivers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rfloc_core import create_model
from rfloc_core.errors import WeightsError
from rfloc_core.registry import get_registry
from rfloc_core.testing.weights_checks import (
    check_declared_weights,
    check_local_pretrained,
    imagenet_state_dict,
)

pytest.importorskip("torchvision")

PLUGIN = """
from rfloc_core import hookimpl
from rfloc_core.torchvision_backbones import torchvision_backbone_spec

RFLOC_PLUGIN_API = (1, 2)


@hookimpl
def rfloc_backbones():
    return [
        torchvision_backbone_spec(
            "tv_shufflenet",
            family="shufflenet",
            feature_dim=1024,
            first_conv="conv1.0",
            classifier="fc",
            torchvision_name="shufflenet_v2_x0_5",
            weights_tag="IMAGENET1K_V1",
            imagenet_top1=60.552,
        ),
        torchvision_backbone_spec(
            "tv_badweights",
            family="shufflenet",
            feature_dim=1024,
            first_conv="conv1.0",
            classifier="fc",
            torchvision_name="shufflenet_v2_x0_5",
            weights_tag="IMAGENET9K_V9",
        ),
    ]
"""


@pytest.fixture
def registry(plugin_site):
    plugin_site.install("rfloc-tvtoy", {"tvtoy": "rfloc_tvtoy"}, {"rfloc_tvtoy": PLUGIN})
    return get_registry(refresh=True)


def test_a_local_imagenet_file_loads_with_the_first_conv_adapted_for_1_to_12_receivers(
    registry, tmp_path: Path
) -> None:
    spec = registry.backbone("tv_shufflenet")
    for receivers in range(1, 13):
        check_local_pretrained(spec, tmp_path, receivers=receivers)


def test_first_layer_response_to_a_uniform_input_matches_the_imagenet_network(
    registry, tmp_path: Path
) -> None:
    from safetensors.torch import save_file

    spec = registry.backbone("tv_shufflenet")
    saved = imagenet_state_dict(spec.imagenet_layout)
    save_file(saved, str(tmp_path / "w.safetensors"))
    reference = spec.imagenet_layout.reference_network()
    reference.load_state_dict(saved)
    level = torch.randn(1, 1, 32, 32)
    expected = reference.conv1[0](level.expand(1, 3, 32, 32))
    for receivers in (1, 2, 4, 7, 12):
        model = create_model(
            "tv_shufflenet", receivers=receivers, pretrained=tmp_path / "w.safetensors"
        )
        got = model.backbone.conv1[0](level.expand(1, receivers, 32, 32))
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_declared_weights_are_checked_against_torchvisions_registry(registry) -> None:
    check_declared_weights(registry.backbone("tv_shufflenet"))
    with pytest.raises(AssertionError, match="not 'IMAGENET9K_V9'"):
        check_declared_weights(registry.backbone("tv_badweights"))


def test_a_file_of_another_network_is_a_one_line_weights_error(registry, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    save_file({"conv.weight": torch.zeros(2, 3, 1, 1)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(WeightsError, match=r"do not fit this network: .* missing") as raised:
        create_model("tv_shufflenet", pretrained=tmp_path / "other.safetensors")
    assert "\n" not in str(raised.value)


def test_rfloc_models_shows_its_top1_and_source(registry) -> None:
    spec = registry.backbone("tv_shufflenet")
    assert spec.pretrained.source == "torchvision:shufflenet_v2_x0_5.IMAGENET1K_V1"
    assert spec.reference("imagenet_top1_percent").value == 60.552
