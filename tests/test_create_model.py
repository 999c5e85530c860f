"""create_model composes a registered backbone with a head; forward enforces the contract."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import save_file

from rfloc_core import create_model
from rfloc_core.errors import InvalidInputError, UnknownNameError, WeightsError
from rfloc_core.measure import measure_backbone

pytestmark = pytest.mark.usefixtures("toy_registry")


@pytest.mark.parametrize(
    ("head", "shapes"),
    [
        ("gaussian", {"position_m": (2, 2), "sigma_m": (2, 2)}),
        ("gaussian_full", {"position_m": (2, 2), "scale_tril_m": (2, 2, 2)}),
        (
            "mixture",
            {"position_m": (2, 2), "weights": (2, 3), "means_m": (2, 3, 2), "sigmas_m": (2, 3, 2)},
        ),
    ],
)
def test_forward_returns_the_heads_outputs(head, shapes):
    model = create_model("toynet", head=head).eval()
    out = model(torch.randn(2, 7, 128, 32))
    assert {k: tuple(v.shape) for k, v in out.items()} == shapes
    assert model.output_names == tuple(shapes)
    loss = model.nll(out, torch.zeros(2, 2))
    assert loss.shape == (2,) and torch.isfinite(loss).all()


def test_head_options_reach_the_head():
    model = create_model("toynet", head="mixture", head_options={"components": 5})
    assert model(torch.randn(1, 7, 128, 32))["weights"].shape == (1, 5)


def test_receiver_count_and_input_size_are_configurable():
    model = create_model("toynet", receivers=3, input_size=(64, 16))
    assert model(torch.randn(4, 3, 64, 16))["position_m"].shape == (4, 2)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (torch.zeros(7, 128, 32), "4-D tensor"),
        (torch.zeros(1, 5, 128, 32), "expected 7 receivers"),
        (torch.zeros(1, 7, 128, 32, dtype=torch.float64), "expected dtype torch.float32"),
        (torch.zeros(1, 7, 4, 32), "mel_bins must be at least 8, got 4"),
        (torch.zeros(1, 7, 128, 30), "frames must be a multiple of 4, got 30"),
        (torch.full((1, 7, 128, 32), math.nan), "NaN or infinite"),
        (torch.full((1, 7, 128, 32), math.inf), "NaN or infinite"),
        ([[1.0]], "expected a torch.Tensor"),
    ],
)
def test_forward_rejects_input_that_breaks_the_contract(x, message):
    model = create_model("toynet")
    with pytest.raises(InvalidInputError, match=message):
        model(x)


def test_a_single_bad_value_is_found_and_large_finite_values_pass():
    model = create_model("toynet")
    x = torch.zeros(2, 7, 128, 32)
    x[1, 3, 100, 7] = -math.inf
    with pytest.raises(InvalidInputError, match="got 1 NaN or infinite"):
        model(x)
    # Their sum overflows float32, but every value is finite: the input is accepted.
    assert model(torch.full((2, 7, 128, 32), 3e38))["position_m"].shape == (2, 2)


def test_the_dtype_check_follows_conversions_after_the_first_call():
    model = create_model("toynet")
    model(torch.zeros(1, 7, 128, 32))
    model.double()
    assert model(torch.zeros(1, 7, 128, 32, dtype=torch.float64))["position_m"].dtype == (
        torch.float64
    )
    with pytest.raises(InvalidInputError, match=r"expected dtype torch\.float64"):
        model(torch.zeros(1, 7, 128, 32))
    as_float = {name: value.float() for name, value in model.state_dict().items()}
    model.load_state_dict(as_float, assign=True)
    with pytest.raises(InvalidInputError, match=r"expected dtype torch\.float32"):
        model(torch.zeros(1, 7, 128, 32, dtype=torch.float64))
    # A conversion of the parts, and a wrapper's load, are seen too.
    model.backbone.double()
    model.head.double()
    assert model(torch.zeros(1, 7, 128, 32, dtype=torch.float64))["position_m"].dtype == (
        torch.float64
    )
    wrapper = torch.nn.ModuleDict({"net": model})
    as_float = {name: value.float() for name, value in wrapper.state_dict().items()}
    wrapper.load_state_dict(as_float, assign=True)
    assert model(torch.zeros(1, 7, 128, 32))["position_m"].dtype == torch.float32


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"receivers": 0}, InvalidInputError, "receivers must be an int >= 1"),
        ({"input_size": (128,)}, InvalidInputError, "input_size must be"),
        ({"input_size": (130, 32)}, InvalidInputError, "multiple of 4"),
        ({"head": "nope"}, UnknownNameError, "unknown head 'nope'"),
        ({"pretrained": True}, WeightsError, "no published pretrained weights"),
        ({"pretrained": "/no/such/file.safetensors"}, WeightsError, "does not exist"),
    ],
)
def test_create_model_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        create_model("toynet", **kwargs)


def test_local_pretrained_file_is_loaded(tmp_path):
    source = create_model("toynet").backbone
    torch.nn.init.normal_(source[0].weight)
    path = tmp_path / "toynet.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    loaded = create_model("toynet", pretrained=path).backbone
    for name, tensor in source.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], tensor, rtol=0, atol=0)


def test_weights_that_do_not_fit_give_a_weights_error(tmp_path):
    path = tmp_path / "wrong.safetensors"
    save_file({"unrelated": torch.zeros(3)}, str(path))
    with pytest.raises(WeightsError, match="could not load pretrained weights"):
        create_model("toynet", pretrained=path)


def test_measurement_matches_a_hand_count_of_the_toy_network():
    spec = create_model("toynet").backbone_spec
    measured = measure_backbone(spec, receivers=7, input_size=(128, 32))
    conv1_params = 8 * 7 * 3 * 3 + 8
    bn_params = 2 * 8
    conv2_params = 16 * 8 * 3 * 3 + 16
    assert measured.params == conv1_params + bn_params + conv2_params
    # A multiply-add is two FLOPs: output elements x kernel volume x 2, per convolution.
    conv1_flops = (8 * 64 * 16) * (7 * 3 * 3) * 2
    conv2_flops = (16 * 32 * 8) * (8 * 3 * 3) * 2
    assert measured.flops == conv1_flops + conv2_flops
    assert measured.feature_dim == 16
    assert measured.device == "meta"
