"""BackboneConformance: subclass it in a plugin's tests to run the contract on its backbones.

    from rfloc_core.testing import BackboneConformance

    class TestResnetConformance(BackboneConformance):
        plugin = "resnet"            # or: backbones = "resnet*"
        variants = ("resnet18", "resnet34")   # optional: exactly what the plugin registers

The rfloc pytest plugin parametrizes ``backbone_spec`` over the matching installed backbones.
Checks that build real weights are marked ``slow`` for backbones above
``slow_above_params_m`` million parameters; the meta-device build always runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])


def builds_weights(test: F) -> F:
    """Marks a conformance test that allocates real weights (slow for big backbones)."""
    test.rfloc_builds_weights = True  # type: ignore[attr-defined]
    return test


class BackboneConformance:
    plugin: ClassVar[str | None] = None
    backbones: ClassVar[str | Sequence[str]] = "*"
    slow_above_params_m: ClassVar[float] = 15.0
    receiver_counts: ClassVar[Sequence[int]] = (1, 3, 7)
    variants: ClassVar[Sequence[str]] = ()
    """Every backbone name the plugin registers, in its declaration order (empty: unchecked)."""

    def test_registers_exactly_the_documented_variants(self) -> None:
        from rfloc_core.registry import get_registry
        from rfloc_core.testing.weights_checks import check_variants

        if not self.variants:
            pytest.skip("the test class declares no variants")
        specs = [
            s
            for s in get_registry().backbones(self.backbones)
            if self.plugin is None or s.plugin == self.plugin
        ]
        check_variants(specs, self.variants)

    def test_declared_weights_are_published(self, backbone_spec: Any) -> None:
        from rfloc_core.testing.weights_checks import check_declared_weights

        check_declared_weights(backbone_spec)

    @builds_weights
    def test_local_pretrained_file_is_loaded_with_the_first_conv_adapted(
        self, backbone_spec: Any, tmp_path: Path
    ) -> None:
        from rfloc_core.testing.weights_checks import check_local_pretrained

        if backbone_spec.imagenet_layout is None:
            pytest.skip(f"{backbone_spec.name} declares no imagenet_layout")
        check_local_pretrained(backbone_spec, tmp_path)

    def test_builds_on_meta_device(self, backbone_spec: Any) -> None:
        from rfloc_core.testing.checks import check_meta_build

        check_meta_build(backbone_spec)

    def test_builds_for_several_receiver_counts(self, backbone_spec: Any) -> None:
        from rfloc_core.testing.checks import check_receiver_counts

        check_receiver_counts(backbone_spec, self.receiver_counts)

    @builds_weights
    def test_forward_output_shapes(self, rfloc_model: Any) -> None:
        from rfloc_core.testing.checks import check_forward

        check_forward(rfloc_model)

    @builds_weights
    def test_gradients_flow(self, rfloc_model: Any) -> None:
        from rfloc_core.testing.checks import check_gradients_flow

        check_gradients_flow(rfloc_model)

    @builds_weights
    def test_deterministic_in_eval_mode(self, rfloc_model: Any) -> None:
        from rfloc_core.testing.checks import check_deterministic_eval

        check_deterministic_eval(rfloc_model)

    @builds_weights
    def test_rejects_invalid_input(self, rfloc_model: Any) -> None:
        from rfloc_core.testing.checks import check_rejects_invalid_input

        check_rejects_invalid_input(rfloc_model)

    @builds_weights
    def test_parameter_count_matches(self, backbone_spec: Any, rfloc_model: Any) -> None:
        from rfloc_core.testing.checks import check_parameter_count

        check_parameter_count(backbone_spec, rfloc_model)

    @builds_weights
    def test_exports_to_onnx(self, rfloc_model: Any, tmp_path: Any) -> None:
        from rfloc_core.testing.checks import check_onnx_export

        check_onnx_export(rfloc_model, tmp_path)
