"""The vit plugin: its variants, their weights, and the rfloc conformance kit."""

from __future__ import annotations

import pytest
import torch

from rfloc_core import create_model
from rfloc_core.errors import InvalidInputError
from rfloc_core.registry import get_registry
from rfloc_core.testing import TimmBackboneConformance

VARIANTS = ["vit_tiny_patch16", "vit_small_patch16", "vit_base_patch16", "vit_large_patch16"]


class TestVitConformance(TimmBackboneConformance):
    plugin = "vit"
    variants = VARIANTS


def test_position_embedding_is_sized_to_the_input():
    model = create_model("vit_tiny_patch16", input_size=(64, 16))
    patches = (64 // 16) * (16 // 16)
    assert model.backbone.pos_embed.shape[1] == patches + model.backbone.num_prefix_tokens
    assert model(torch.randn(2, 7, 64, 16))["position_m"].shape == (2, 2)
    with pytest.raises(InvalidInputError, match="built for exactly 64x16"):
        model(torch.randn(2, 7, 128, 32))


def test_sizes_that_are_not_multiples_of_the_patch_are_refused():
    with pytest.raises(InvalidInputError, match="multiple of 16"):
        create_model("vit_tiny", input_size=(120, 32))


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("vit_tiny", "vit_tiny_patch16"),
        ("vit_small", "vit_small_patch16"),
        ("vit_base", "vit_base_patch16"),
        ("vit_large", "vit_large_patch16"),
    ],
)
def test_short_names_are_aliases(alias, name):
    assert get_registry().backbone(alias).name == name
