"""Checks of a backbone's declared weights and its ImageNet layout, for any model library.

Each uses what the spec declares (``BackboneSpec.pretrained`` and ``imagenet_layout``) and
raises AssertionError saying what was expected and what the backbone did instead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from rfloc_core.contract import DEFAULT_RECEIVERS
from rfloc_core.model import create_model
from rfloc_core.specs import BackboneSpec, ImageNetLayout
from rfloc_core.weights import adapt_first_conv


def check_variants(specs: Sequence[BackboneSpec], variants: Sequence[str]) -> None:
    """The plugin registers exactly ``variants``, in that order."""
    names = [spec.name for spec in specs]
    missing = [name for name in variants if name not in names]
    extra = [name for name in names if name not in variants]
    assert names == list(variants), (
        f"the plugin registers {names} but the test declares variants {list(variants)}"
        + (f"; missing: {missing}" if missing else "")
        + (f"; not declared: {extra}" if extra else "")
        + ("; same names in another order" if not missing and not extra else "")
    )


def _layout(spec: BackboneSpec) -> ImageNetLayout:
    assert spec.imagenet_layout is not None, (
        f"{spec.name} declares no imagenet_layout, so its weights cannot be checked; set "
        "BackboneSpec(imagenet_layout=...) (TimmBuild, TorchvisionBuild or ModuleLayout)"
    )
    return spec.imagenet_layout


def _check_timm_source(spec: BackboneSpec, tagged: str) -> None:
    import timm
    from timm.models import get_pretrained_cfg

    assert timm.list_pretrained(tagged), f"timm publishes no weights named {tagged}"
    config = get_pretrained_cfg(tagged)
    assert config is not None and spec.pretrained is not None
    assert config.license == spec.pretrained.licence, (
        f"{tagged}: timm says licence {config.license!r}, the spec says {spec.pretrained.licence!r}"
    )


def _check_torchvision_source(spec: BackboneSpec, tagged: str) -> None:
    from torchvision.models import get_model_weights

    model_name, _, tag = tagged.rpartition(".")
    try:
        weights = get_model_weights(model_name)
    except (KeyError, ValueError) as error:
        raise AssertionError(f"torchvision has no model named {model_name!r}") from error
    names = [w.name for w in weights]
    assert tag in names, f"torchvision publishes {names} for {model_name}, not {tag!r}"


SOURCE_CHECKS: dict[str, Callable[[BackboneSpec, str], None]] = {
    "timm": _check_timm_source,
    "torchvision": _check_torchvision_source,
}
"""How a ``PretrainedWeights.source`` of the form ``library:name`` is checked, by library."""


def check_declared_weights(spec: BackboneSpec) -> None:
    """Declared weights name a library and weights that library really publishes (for timm
    and torchvision, asked of the library's own registry), and come with a layout."""
    if spec.pretrained is None:
        return
    library, separator, tagged = spec.pretrained.source.partition(":")
    assert separator and library and tagged, (
        f"{spec.name}: PretrainedWeights.source must read 'library:weights', such as "
        f"'timm:resnet18.a1_in1k', got {spec.pretrained.source!r}"
    )
    assert spec.pretrained.licence, f"{spec.name}: the declared weights name no licence"
    _layout(spec)
    check = SOURCE_CHECKS.get(library)
    if check is not None:
        check(spec, tagged)


def imagenet_state_dict(layout: ImageNetLayout, seed: int = 0) -> dict[str, torch.Tensor]:
    """A random-init state dict with the layout of the backbone's ImageNet weights file."""
    torch.manual_seed(seed)
    network = layout.reference_network()
    return {k: v.detach().contiguous() for k, v in network.state_dict().items()}


def check_local_pretrained(
    spec: BackboneSpec, folder: Path, receivers: int = DEFAULT_RECEIVERS
) -> None:
    """An ImageNet-shaped local file (3 channels, classifier included) loads through
    ``create_model(pretrained=path)``: the first convolution is adapted by
    ``rfloc_core.weights.adapt_first_conv``, every other tensor of the same name and shape is
    copied exactly, and the classifier is dropped."""
    from safetensors.torch import save_file

    layout = _layout(spec)
    saved = imagenet_state_dict(layout)
    first = f"{layout.first_conv}.weight"
    assert first in saved, (
        f"{spec.name}: imagenet_layout.first_conv is {layout.first_conv!r} but the reference "
        f"network has no {first!r}"
    )
    path = folder / f"{spec.name}-imagenet.safetensors"
    save_file(saved, str(path))
    loaded = create_model(spec.name, receivers=receivers, pretrained=path).backbone.state_dict()
    assert first in loaded, f"{spec.name}: the built backbone has no {first!r}"
    expected = adapt_first_conv(saved[first], receivers)
    assert loaded[first].shape == expected.shape, (
        f"{spec.name}: first convolution {first} has shape {tuple(loaded[first].shape)} for "
        f"{receivers} receivers, expected {tuple(expected.shape)}"
    )
    torch.testing.assert_close(loaded[first], expected, msg=f"{spec.name}: {first} not adapted")
    classifier = layout.classifier
    kept = [k for k in loaded if classifier and (k == classifier or k.startswith(classifier + "."))]
    assert not kept, f"{spec.name}: the classifier was not dropped: {kept}"
    copied = [k for k in loaded if k != first and k in saved and loaded[k].shape == saved[k].shape]
    assert len(copied) >= len(loaded) - 2, (
        f"{spec.name}: only {len(copied)} of {len(loaded)} tensors have their name and shape "
        "in the ImageNet file"
    )
    for key in copied:
        assert torch.equal(loaded[key], saved[key]), f"{spec.name}: {key} was not loaded"
