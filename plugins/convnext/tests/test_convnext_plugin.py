"""The convnext plugin: its variants, their weights, and the rfloc conformance kit."""

from __future__ import annotations

import pytest

from rfloc_core.registry import get_registry
from rfloc_core.testing import BackboneConformance, backbone_params, timm_checks

VARIANTS = [
    "convnext_atto",
    "convnext_femto",
    "convnext_pico",
    "convnext_nano",
    "convnext_tiny",
    "convnext_small",
    "convnext_base",
    "convnext_large",
    "convnext_xlarge",
]


class TestConvnextConformance(BackboneConformance):
    plugin = "convnext"


def test_registers_exactly_the_documented_variants():
    assert [s.name for s in get_registry().backbones() if s.plugin == "convnext"] == VARIANTS


@pytest.mark.parametrize(
    "spec", [p for p in backbone_params("convnext") if p.values[0].pretrained is not None]
)
def test_pretrained_source_is_a_real_timm_tag(spec):
    timm_checks.check_pretrained_source(spec)


@pytest.mark.parametrize("spec", backbone_params("convnext", slow_above_params_m=15))
def test_local_pretrained_file_is_loaded_with_the_first_conv_adapted(spec, tmp_path):
    timm_checks.check_local_pretrained(spec, tmp_path)


def test_convnext_medium_is_really_convnext_base():
    registry = get_registry()
    assert registry.backbone("convnext_medium") is registry.backbone("convnext_base")
