"""TimmBackboneConformance: the contract plus timm's registry checks.

class TestResnetConformance(TimmBackboneConformance):
    plugin = "resnet"
    variants = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
"""

from __future__ import annotations

from typing import Any

from rfloc_core.testing.conformance import BackboneConformance


class TimmBackboneConformance(BackboneConformance):
    def test_built_from_timms_registry(self, backbone_spec: Any) -> None:
        from rfloc_core.testing.timm_checks import check_timm_registry

        check_timm_registry(backbone_spec)
