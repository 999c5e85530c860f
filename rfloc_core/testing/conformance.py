"""BackboneConformance: subclass it in a plugin's tests to run the contract on its backbones.

    from rfloc_core.testing import BackboneConformance

    class TestResnetConformance(BackboneConformance):
        plugin = "resnet"            # or: backbones = "resnet*"

The rfloc pytest plugin parametrizes ``backbone_spec`` over the matching installed backbones.
Checks that build real weights are marked ``slow`` for backbones above
``slow_above_params_m`` million parameters; the meta-device build always runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

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
