"""rfloc_core.weights: reading a state dict without running pickled code, dropping a
classifier, and the first-convolution rule, against closed forms."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from rfloc_core.errors import WeightsError
from rfloc_core.weights import (
    adapt_first_conv,
    drop_classifier,
    read_state_dict,
    replace_first_conv,
)


class Tiny(nn.Module):
    """An ImageNet-shaped network: 3-channel stem, classifier ``head``."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.stem(x)).flatten(1))


@pytest.mark.parametrize("receivers", range(1, 13))
def test_first_conv_response_to_a_uniform_input_is_unchanged_for_any_receiver_count(
    receivers: int,
) -> None:
    torch.manual_seed(receivers)
    network = Tiny()
    conv = network.stem[0]
    level = torch.randn(1, 1, 9, 9)
    expected = conv(level.expand(1, 3, 9, 9))
    replace_first_conv(network, "stem.0", receivers)
    adapted = network.stem[0]
    assert adapted.weight.shape == (8, receivers, 3, 3)
    torch.testing.assert_close(adapted(level.expand(1, receivers, 9, 9)), expected)
    for channel in range(receivers):  # every receiver starts alike
        torch.testing.assert_close(adapted.weight[:, channel], adapted.weight[:, 0])


def test_adapt_first_conv_is_the_channel_sum_over_the_receiver_count() -> None:
    weight = torch.arange(2 * 3 * 1 * 1, dtype=torch.float32).reshape(2, 3, 1, 1)
    adapted = adapt_first_conv(weight, 4)
    assert adapted.tolist() == [[[[0.75]]] * 4, [[[3.0]]] * 4]  # (0+1+2)/4, (3+4+5)/4


def test_adapt_first_conv_refuses_a_weight_that_is_not_a_convolutions() -> None:
    with pytest.raises(WeightsError, match="4 dimensions"):
        adapt_first_conv(torch.zeros(3, 3), 2)
    with pytest.raises(WeightsError, match="receivers must be an int >= 1"):
        adapt_first_conv(torch.zeros(1, 3, 1, 1), 0)


def test_replace_first_conv_names_what_is_wrong() -> None:
    with pytest.raises(WeightsError, match=r"no module named 'stem\.9'"):
        replace_first_conv(Tiny(), "stem.9", 2)
    with pytest.raises(WeightsError, match="'head' is a Linear, not an ungrouped Conv2d"):
        replace_first_conv(Tiny(), "head", 2)


def test_without_keep_weights_the_new_convolution_is_freshly_initialised() -> None:
    network = Tiny()
    bias = network.stem[0].bias.detach().clone()
    replace_first_conv(network, "stem.0", 5, keep_weights=False)
    assert network.stem[0].weight.shape == (8, 5, 3, 3)
    assert not torch.equal(network.stem[0].bias, bias)


def test_drop_classifier_removes_the_module_and_nothing_with_a_shared_prefix() -> None:
    state = {"head.weight": 1, "head.bias": 2, "header.weight": 3, "stem.0.weight": 4}
    assert drop_classifier(state, "head") == {"header.weight": 3, "stem.0.weight": 4}  # type: ignore[arg-type]


def test_reads_safetensors_and_weights_only_pth_and_unwraps_a_nested_state_dict(
    tmp_path: Path,
) -> None:
    state = {k: v.contiguous() for k, v in Tiny().state_dict().items()}
    save_file(state, str(tmp_path / "w.safetensors"))
    torch.save(state, tmp_path / "w.pth")
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "nested.pth")
    for name in ("w.safetensors", "w.pth", "nested.pth"):
        loaded = read_state_dict(tmp_path / name)
        assert loaded.keys() == state.keys()
        assert all(torch.equal(loaded[k], state[k]) for k in state)


class Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("pickled code ran",))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("code.pth", "pickle", "could not read weights"),
        ("renamed.safetensors", "pickle", "could not read weights"),
        ("empty.pth", "nothing", "could not read weights"),
        ("list.pth", "list", "holds no state dict"),
        ("mixed.pth", "mixed", "entries that are not tensors"),
        ("missing.pth", None, "does not exist"),
    ],
)
def test_bad_weights_files_are_one_line_errors_and_run_no_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content == "pickle":
        path.write_bytes(pickle.dumps({"w": Payload()}))
    elif content == "nothing":
        path.write_bytes(b"")
    elif content == "list":
        torch.save([torch.zeros(1)], path)
    elif content == "mixed":
        torch.save({"w": torch.zeros(1), "note": "text"}, path)
    with pytest.raises(WeightsError, match=message) as raised:
        read_state_dict(path)
    assert "\n" not in str(raised.value) and str(path) in str(raised.value)
    assert "pickled code ran" not in capsys.readouterr().out
