"""Extra checks for backbones built with ``rfloc_core.timm_backbones`` (needs timm)."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from rfloc_core.contract import DEFAULT_RECEIVERS
from rfloc_core.model import create_model
from rfloc_core.specs import BackboneSpec
from rfloc_core.timm_backbones import TimmBuild

IMAGENET_CHANNELS = 3


def _timm_build(spec: BackboneSpec) -> TimmBuild:
    assert isinstance(spec.build, TimmBuild), f"{spec.name} is not built by TimmBuild"
    return spec.build


def check_pretrained_source(spec: BackboneSpec) -> None:
    """Declared weights are a tag timm really publishes, under the declared licence; a spec
    that declares none is for a model timm publishes no weights for."""
    import timm
    from timm.models import get_pretrained_cfg

    build = _timm_build(spec)
    if spec.pretrained is None:
        published = timm.list_pretrained(f"{build.model_name}.*")
        assert not published, f"{spec.name} declares no weights but timm publishes {published}"
        return
    tagged = f"{build.model_name}.{build.pretrained_tag}"
    assert spec.pretrained.source == f"timm:{tagged}"
    assert timm.list_pretrained(tagged), f"timm publishes no weights named {tagged}"
    config = get_pretrained_cfg(tagged)
    assert config is not None and config.license == spec.pretrained.licence, (
        f"{tagged}: timm says licence {getattr(config, 'license', None)!r}, "
        f"the spec says {spec.pretrained.licence!r}"
    )


def check_local_pretrained(spec: BackboneSpec, folder: Path) -> None:
    """An ImageNet-shaped (3-channel, classifier included) local file loads through
    ``create_model(pretrained=path)``: the first convolution is adapted to the receivers the
    way timm documents (channels repeated, scaled by 3/receivers), every other matching
    tensor is copied exactly, and the classifier is dropped."""
    import timm
    from safetensors.torch import save_file

    build = _timm_build(spec)
    torch.manual_seed(0)
    source = timm.create_model(build.model_name, pretrained=False, in_chans=IMAGENET_CHANNELS)
    saved = {k: v.detach().contiguous() for k, v in source.state_dict().items()}
    path = folder / f"{spec.name}-imagenet.safetensors"
    save_file(saved, str(path))
    loaded = create_model(spec.name, pretrained=path).backbone.state_dict()
    first = next(k for k, v in loaded.items() if v.ndim == 4)
    repeats = math.ceil(DEFAULT_RECEIVERS / IMAGENET_CHANNELS)
    expected = saved[first].repeat(1, repeats, 1, 1)[:, :DEFAULT_RECEIVERS]
    expected = expected * (IMAGENET_CHANNELS / DEFAULT_RECEIVERS)
    torch.testing.assert_close(loaded[first], expected)
    copied = [k for k in loaded if k != first and k in saved and loaded[k].shape == saved[k].shape]
    assert len(copied) >= len(loaded) - 2, f"only {len(copied)} of {len(loaded)} tensors loaded"
    for key in copied:
        assert torch.equal(loaded[key], saved[key]), f"{key} was not loaded from the file"
