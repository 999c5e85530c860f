"""The efficientnet plugin: its variants, their weights, and the rfloc conformance kit."""

from __future__ import annotations

import pytest
import torch

from rfloc_core import create_model
from rfloc_core.errors import WeightsError
from rfloc_core.testing import TimmBackboneConformance

VARIANTS = [
    "efficientnet_b0",
    "efficientnet_b1",
    "efficientnet_b2",
    "efficientnet_b3",
    "efficientnet_b4",
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
]


class TestEfficientNetConformance(TimmBackboneConformance):
    plugin = "efficientnet"
    variants = VARIANTS


def test_activations_are_export_friendly():
    backbone = create_model("efficientnet_b0").backbone
    activations = {
        type(m).__name__
        for m in backbone.modules()
        if "swish" in type(m).__name__.lower() or "silu" in type(m).__name__.lower()
    }
    assert activations == {"SiLU"}, activations
    assert not any(isinstance(m, torch.autograd.Function) for m in backbone.modules())


@pytest.mark.parametrize("name", ["efficientnet_b6", "efficientnet_b7"])
def test_variants_without_published_weights_say_so(name):
    with pytest.raises(WeightsError, match="no published pretrained weights"):
        create_model(name, pretrained=True)
