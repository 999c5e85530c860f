"""The receiver-set model: one shared encoder per receiver, a set fusion, the core's heads.
Any receiver count, the same outputs for any order, offline receivers ignored, and one-line
errors for inputs that do not fit the contract."""

from __future__ import annotations

import pytest
import torch

from rfloc_core.errors import InvalidInputError, UnknownNameError
from rfloc_core.model import ReceiverSetNet, create_model
from rfloc_core.registry import get_registry

FUSIONS = ("attention", "deepsets")
SIZE = (16, 8)


def _inputs(batch: int, count: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    generator = torch.Generator().manual_seed(seed)
    spectrogram = torch.randn(batch, count, *SIZE, generator=generator)
    receivers_m = 15_000.0 * torch.randn(batch, count, 2, generator=generator)
    online = torch.ones(batch, count, dtype=torch.bool)
    online[0, 1] = False
    return spectrogram, receivers_m, online


def _model(fusion: str, head: str = "gaussian") -> ReceiverSetNet:
    torch.manual_seed(0)
    return create_model("toynet", head=head, input_size=SIZE, fusion=fusion).eval()


def test_the_core_registers_its_fusions():
    registry = get_registry(refresh=True)
    assert [spec.name for spec in registry.fusions()] == list(FUSIONS)
    assert {spec.plugin for spec in registry.fusions()} == {"core"}
    message = r"unknown fusion 'atention' \(did you mean attention\?\)"
    with pytest.raises(UnknownNameError, match=message):
        registry.fusion("atention")


@pytest.mark.parametrize("fusion", FUSIONS)
@pytest.mark.parametrize("head", ["gaussian", "gaussian_full", "mixture"])
def test_any_receiver_count_and_every_head(toy_registry, fusion, head):
    model = _model(fusion, head)
    assert isinstance(model, ReceiverSetNet)
    for count in (1, 3, 7, 12):
        with torch.no_grad():
            outputs = model(*_inputs(2, count) if count > 1 else _ones(2))
        assert tuple(outputs) == model.output_names
        assert outputs["position_m"].shape == (2, 2)
        assert all(bool(torch.isfinite(value).all()) for value in outputs.values())


def _ones(batch: int) -> tuple[torch.Tensor, ...]:
    return torch.randn(batch, 1, *SIZE), torch.zeros(batch, 1, 2), torch.ones(batch, 1).bool()


@pytest.mark.parametrize("fusion", FUSIONS)
def test_shuffling_the_receivers_changes_the_outputs_by_at_most_1e_5(toy_registry, fusion):
    model = _model(fusion)
    spectrogram, receivers_m, online = _inputs(4, 9)
    with torch.no_grad():
        reference = model(spectrogram, receivers_m, online)
        for seed in range(3):
            order = torch.randperm(9, generator=torch.Generator().manual_seed(seed))
            shuffled = model(spectrogram[:, order], receivers_m[:, order], online[:, order])
            for name, value in reference.items():
                scale = float(value.abs().max())
                assert float((shuffled[name] - value).abs().max()) <= 1e-5 * scale, name


@pytest.mark.parametrize("fusion", FUSIONS)
def test_an_offline_receiver_is_ignored_whatever_it_holds(toy_registry, fusion):
    model = _model(fusion)
    spectrogram, receivers_m, online = _inputs(2, 5)
    changed, moved = spectrogram.clone(), receivers_m.clone()
    changed[0, 1], moved[0, 1] = 7.0, 1e6
    with torch.no_grad():
        first = model(spectrogram, receivers_m, online)
        second = model(changed, moved, online)
        dropped = model(
            spectrogram[:1, [0, 2, 3, 4]], receivers_m[:1, [0, 2, 3, 4]], online[:1, [0, 2, 3, 4]]
        )
    for name, value in first.items():
        torch.testing.assert_close(second[name], value)
        torch.testing.assert_close(dropped[name][0], value[0], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("fusion", FUSIONS)
def test_the_receivers_positions_are_information(toy_registry, fusion):
    model = _model(fusion)
    spectrogram, receivers_m, online = _inputs(2, 5)
    moved = receivers_m.clone()
    moved[:, 2] += torch.tensor([6_000.0, -4_000.0])  # one station moves, the others stay
    with torch.no_grad():
        here = model(spectrogram, receivers_m, online)["position_m"]
        there = model(spectrogram, moved, online)["position_m"]
    centroid_shift = (moved - receivers_m)[:, :, :].sum(1) / online.sum(1, keepdim=True)
    assert float((there - here - centroid_shift).abs().max()) > 1e-3


@pytest.mark.parametrize("fusion", FUSIONS)
def test_an_offline_receiver_may_hold_nan(toy_registry, fusion):
    model = _model(fusion)
    spectrogram, receivers_m, online = _inputs(2, 5)
    poisoned, nowhere = spectrogram.clone(), receivers_m.clone()
    poisoned[0, 1], nowhere[0, 1] = float("nan"), float("inf")
    with torch.no_grad():
        clean = model(spectrogram, receivers_m, online)
        dirty = model(poisoned, nowhere, online)
    for name, value in clean.items():
        torch.testing.assert_close(dirty[name], value)
    poisoned[0, 0] = float("nan")  # an online receiver with NaN is refused
    with pytest.raises(InvalidInputError, match="finite log-power values of the online"):
        model(poisoned, receivers_m, online)


def test_gradients_reach_the_encoder_the_fusion_and_the_head(toy_registry):
    model = _model("attention").train()
    spectrogram, receivers_m, online = _inputs(3, 4)
    outputs = model(spectrogram, receivers_m, online)
    model.nll(outputs, torch.zeros(3, 2)).mean().backward()
    for part in (model.backbone, model.fusion, model.head):
        assert any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in part.parameters())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda x, p, o: (x[0], p, o), "expected a 4-D tensor"),
        (lambda x, p, o: (x, p[..., :1], o), r"receivers_m of shape \(B, receivers, 2\)"),
        (lambda x, p, o: (x, p[:, :3], o), r"receivers_m of shape .* = \(2, 5, 2\)"),
        (lambda x, p, o: (x, p, o[:, :4]), r"online of shape \(B, receivers\) = \(2, 5\)"),
        (lambda x, p, o: (x, p, o.float()), "expected online as a bool tensor"),
        (lambda x, p, o: (x, p.long(), o), "floating point metres"),
        (lambda x, p, o: (x, p.index_fill(1, torch.tensor([2]), float("nan")), o), "online"),
        (lambda x, p, o: (x, p, torch.zeros_like(o)), "at least one receiver online"),
        (lambda x, p, o: (x, p.numpy(), o), "takes \\(spectrogram, receivers_m, online\\)"),
    ],
)
def test_bad_inputs_get_one_line_errors(toy_registry, change, message):
    model = _model("deepsets")
    with pytest.raises(InvalidInputError, match=message) as raised:
        model(*change(*_inputs(2, 5)))
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"width": 0}, "width must be an int >= 1"),
        ({"width": 30, "heads": 4}, r"width \(30\) must be a multiple of heads \(4\)"),
        ({"layers": "two"}, "attention' option layers must be an integer, got 'two'"),
        ({"mlp_ratio": -1}, "mlp_ratio must be a number > 0"),
    ],
)
def test_bad_fusion_options_are_refused(toy_registry, options, message):
    with pytest.raises(InvalidInputError, match=message):
        create_model("toynet", input_size=SIZE, fusion="attention", fusion_options=options)


def test_a_bad_receiver_scale_is_refused(toy_registry):
    with pytest.raises(InvalidInputError, match="receiver_scale_m"):
        create_model("toynet", input_size=SIZE, fusion="deepsets", receiver_scale_m=0.0)


def test_the_encoder_sees_one_receiver_at_a_time(toy_registry):
    model = _model("attention")
    first_conv = next(m for m in model.backbone.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.in_channels == 1


@pytest.mark.parametrize("head", ["gaussian", "gaussian_full", "mixture"])
def test_moving_every_receiver_moves_the_prediction_by_as_much(toy_registry, head):
    model = _model("attention", head)
    spectrogram, receivers_m, online = _inputs(3, 6)
    offset_m = torch.tensor([[2_500.0, -7_000.0], [0.0, 300.0], [-40_000.0, 12_000.0]])
    with torch.no_grad():
        here = model(spectrogram, receivers_m, online)
        moved = model(spectrogram, receivers_m + offset_m[:, None, :], online)
    for name, value in here.items():
        if name == "position_m":
            expected = value + offset_m
        elif name == "means_m":
            expected = value + offset_m[:, None, :]
        else:
            expected = value
        torch.testing.assert_close(moved[name], expected, rtol=1e-5, atol=2e-2)


def test_an_option_the_fusion_does_not_take_is_named(toy_registry):
    with pytest.raises(
        InvalidInputError, match="fusion 'attention' has no option 'widht'; its options are heads"
    ):
        create_model("toynet", input_size=SIZE, fusion="attention", fusion_options={"widht": 8})


def test_a_training_config_checks_the_fusion_and_its_options_at_load(toy_registry, tmp_path):
    from rfloc_core.training import ConfigError, load_train_config
    from tests.training.toy_run import write_toy_config

    path = write_toy_config(tmp_path)
    with pytest.raises(ConfigError, match=r"field model\.fusion: unknown fusion 'atention'"):
        load_train_config(path, ["model.fusion=atention"])
    with pytest.raises(ConfigError, match="fusion 'deepsets' has no option 'layer'"):
        load_train_config(path, ["model.fusion=deepsets", "model.fusion_options.layer=2"])
    with pytest.raises(ConfigError, match="only a receiver-set model can take"):
        load_train_config(path, ["scenario=rss-random-networks"])
