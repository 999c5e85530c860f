"""TimmBackboneConformance: the contract plus the checks for backbones built by timm.

class TestResnetConformance(TimmBackboneConformance):
    plugin = "resnet"
    variants = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from rfloc_core.testing.conformance import BackboneConformance, builds_weights


class TimmBackboneConformance(BackboneConformance):
    variants: ClassVar[Sequence[str]] = ()
    """Every backbone name the plugin registers, in its declaration order."""

    def test_registers_exactly_the_documented_variants(self) -> None:
        from rfloc_core.registry import get_registry

        names = [
            s.name
            for s in get_registry().backbones(self.backbones)
            if self.plugin is None or s.plugin == self.plugin
        ]
        assert names == list(self.variants)

    def test_pretrained_source_is_what_timm_publishes(self, backbone_spec: Any) -> None:
        from rfloc_core.testing.timm_checks import check_pretrained_source

        check_pretrained_source(backbone_spec)

    @builds_weights
    def test_local_pretrained_file_is_loaded_with_the_first_conv_adapted(
        self, backbone_spec: Any, tmp_path: Path
    ) -> None:
        from rfloc_core.testing.timm_checks import check_local_pretrained

        check_local_pretrained(backbone_spec, tmp_path)
