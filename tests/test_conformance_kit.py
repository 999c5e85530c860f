"""The conformance kit passes a correct backbone and catches each kind of broken one."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from rfloc_core.model import LocalizationNet
from rfloc_core.registry import get_registry
from rfloc_core.testing import checks


@pytest.fixture
def toy_spec(toy_registry):
    return get_registry().backbone("toynet")


def compose(spec, network: nn.Module) -> LocalizationNet:
    head_spec = get_registry().head("gaussian")
    return LocalizationNet(
        network,
        head_spec.build(spec.feature_dim),
        backbone_spec=spec,
        head_spec=head_spec,
        receivers=7,
        input_size=(128, 32),
    )


class AlwaysDropout(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.dropout(self.inner(x), p=0.5, training=True)


class DetachedInput(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x).detach() * 1.0


class UnusedLayer(nn.Module):
    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.unused = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)


def toy_network(spec) -> nn.Module:
    return spec.build(in_chans=7, input_size=(128, 32), pretrained=False)


def test_a_correct_backbone_passes_every_check(toy_spec, tmp_path):
    model = checks.build_for_checks(toy_spec)
    checks.check_meta_build(toy_spec)
    checks.check_receiver_counts(toy_spec)
    checks.check_forward(model)
    checks.check_gradients_flow(model)
    checks.check_deterministic_eval(model)
    checks.check_rejects_invalid_input(model)
    checks.check_parameter_count(toy_spec, model)
    worst = checks.check_onnx_export(model, tmp_path)
    assert set(worst) == {"position_m", "sigma_m"}
    assert max(worst.values()) < 0.05  # metres; outputs are of order 1e3 m


def test_a_wrong_feature_dim_is_caught(toy_spec):
    with pytest.raises(AssertionError, match=r"declares feature_dim=32 .* outputs 16"):
        checks.check_meta_build(dataclasses.replace(toy_spec, feature_dim=32))


def test_randomness_in_eval_mode_is_caught(toy_spec):
    model = compose(toy_spec, AlwaysDropout(toy_network(toy_spec)))
    with pytest.raises(AssertionError, match="differs between two eval-mode passes"):
        checks.check_deterministic_eval(model)


def test_a_backbone_the_gradient_cannot_cross_is_caught(toy_spec):
    model = compose(toy_spec, DetachedInput(toy_network(toy_spec)))
    with pytest.raises(AssertionError, match="no gradient reaches"):
        checks.check_gradients_flow(model)


def test_parameters_outside_the_graph_are_caught(toy_spec):
    model = compose(toy_spec, UnusedLayer(toy_network(toy_spec)))
    with pytest.raises(AssertionError, match=r"backbone\.unused"):
        checks.check_gradients_flow(model)


def test_a_model_that_skips_input_validation_is_caught(toy_spec):
    model = compose(toy_spec, toy_network(toy_spec))
    model.forward = lambda x: model.head(model.backbone(x))
    with pytest.raises(AssertionError, match=r"expected InvalidInputError|was accepted"):
        checks.check_rejects_invalid_input(model)


def test_a_parameter_count_that_differs_from_the_build_is_caught(toy_spec):
    model = compose(toy_spec, UnusedLayer(toy_network(toy_spec)))
    with pytest.raises(AssertionError, match=r"measured .* parameters"):
        checks.check_parameter_count(toy_spec, model)
