"""Pretrained weights for any model library: read a state dict safely, drop a classifier, and
adapt an ImageNet first convolution to any receiver count.

The first-convolution rule: every receiver's input channel gets the mean of the source
channels' filters, scaled by ``source channels / receivers``. Then the filters over all
receivers sum to the source filters' sum, so the first layer's response to an input that is
the same on every channel is unchanged for any receiver count, and the receivers start out
alike, as receivers (unlike colours) should. Timm's own rule (channels repeated cyclically,
scaled by 3/receivers) keeps that response only when the count is a multiple of 3.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from rfloc_core.errors import WeightsError, first_line

if TYPE_CHECKING:
    import torch

WRAPPER_KEYS = ("state_dict", "model", "model_state_dict")
"""Keys under which training scripts commonly nest the state dict in a saved file."""


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The tensors of a ``.safetensors`` file, or of a ``.pth``/``.pt``/``.bin`` file read with
    ``torch.load(weights_only=True)``, so no pickled code ever runs. A file that nests its state
    dict under one of ``WRAPPER_KEYS`` is unwrapped."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsError(
            f"weights file {path} does not exist or is not a file; give the path of a "
            ".safetensors or weights-only .pth file"
        )
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            loaded: object = load_file(str(path), device="cpu")
        else:
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # each reader has its own error types for a bad file
        raise WeightsError(
            f"could not read weights from {path} ({first_line(error)}); expected a "
            ".safetensors file or a .pth file of tensors only (torch.save(model.state_dict(), ...))"
        ) from error
    return _tensors(loaded, path)


def _tensors(loaded: object, path: Path) -> dict[str, torch.Tensor]:
    import torch

    if isinstance(loaded, Mapping):
        for key in WRAPPER_KEYS:
            if isinstance(loaded.get(key), Mapping):
                loaded = loaded[key]
                break
    if not isinstance(loaded, Mapping) or not loaded:
        raise WeightsError(
            f"{path} holds no state dict (a mapping of names to tensors); save one with "
            "torch.save(model.state_dict(), path)"
        )
    tensors = {str(k): v for k, v in loaded.items() if isinstance(v, torch.Tensor)}
    if len(tensors) != len(loaded):
        raise WeightsError(
            f"{path} holds entries that are not tensors; save a state dict of tensors only"
        )
    return tensors


def drop_classifier(
    state_dict: Mapping[str, torch.Tensor], classifier: str
) -> dict[str, torch.Tensor]:
    """``state_dict`` without the module ``classifier`` (a dotted name such as ``fc`` or
    ``head.fc``) and everything under it."""
    prefix = classifier + "."
    return {k: v for k, v in state_dict.items() if k != classifier and not k.startswith(prefix)}


def adapt_first_conv(weight: torch.Tensor, receivers: int) -> torch.Tensor:
    """A first-convolution weight ``(out, in, kh, kw)`` for ``receivers`` input channels: each
    channel the sum over ``in`` divided by ``receivers`` (the module docstring's rule)."""
    if weight.ndim != 4:
        raise WeightsError(
            f"a first convolution's weight has 4 dimensions (out, in, kh, kw), got shape "
            f"{tuple(weight.shape)}; name the network's first Conv2d"
        )
    if not isinstance(receivers, int) or receivers < 1:
        raise WeightsError(f"receivers must be an int >= 1, got {receivers!r}")
    summed = weight.sum(dim=1, keepdim=True)
    return (summed / receivers).expand(-1, receivers, -1, -1).contiguous()


def submodule(network: torch.nn.Module, name: str) -> tuple[torch.nn.Module, str]:
    """The parent of the submodule at the dotted ``name``, and the child's own name."""
    parent_name, _, child = name.rpartition(".")
    try:
        parent = network.get_submodule(parent_name) if parent_name else network
        parent.get_submodule(child)
    except AttributeError as error:
        raise WeightsError(
            f"the network has no module named {name!r}; give the dotted name that "
            "network.named_modules() lists"
        ) from error
    return parent, child


def set_module(network: torch.nn.Module, name: str, module: torch.nn.Module) -> None:
    """Replace the submodule at the dotted ``name`` by ``module``."""
    parent, child = submodule(network, name)
    setattr(parent, child, module)


def replace_first_conv(
    network: torch.nn.Module, first_conv: str, receivers: int, *, keep_weights: bool = True
) -> None:
    """Swap ``network``'s Conv2d at the dotted name ``first_conv`` for one taking
    ``receivers`` channels: its weight adapted by ``adapt_first_conv`` (or, without
    ``keep_weights``, freshly initialised); everything else about the convolution is kept."""
    import torch
    from torch import nn

    parent, child = submodule(network, first_conv)
    conv = parent.get_submodule(child)
    if not isinstance(conv, nn.Conv2d) or conv.groups != 1:
        raise WeightsError(
            f"{first_conv!r} is a {type(conv).__name__}, not an ungrouped Conv2d; name the "
            "network's first convolution"
        )
    adapted = nn.Conv2d(
        receivers,
        conv.out_channels,
        conv.kernel_size,  # type: ignore[arg-type]
        stride=conv.stride,  # type: ignore[arg-type]
        padding=conv.padding,  # type: ignore[arg-type]
        dilation=conv.dilation,  # type: ignore[arg-type]
        bias=conv.bias is not None,
        padding_mode=conv.padding_mode,
        device=conv.weight.device,
        dtype=conv.weight.dtype,
    )
    if keep_weights:
        with torch.no_grad():
            adapted.weight.copy_(adapt_first_conv(conv.weight, receivers))
            if conv.bias is not None and adapted.bias is not None:
                adapted.bias.copy_(conv.bias)
    setattr(parent, child, adapted)
