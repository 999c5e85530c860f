"""The convnext plugin: its variants, their weights, and the rfloc conformance kit."""

from __future__ import annotations

from rfloc_core.registry import get_registry
from rfloc_core.testing import TimmBackboneConformance

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


class TestConvnextConformance(TimmBackboneConformance):
    plugin = "convnext"
    variants = VARIANTS


def test_convnext_medium_is_really_convnext_base():
    registry = get_registry()
    assert registry.backbone("convnext_medium") is registry.backbone("convnext_base")
