"""rfloc plugin: ViT backbones (tiny to large, patch 16), built with timm.

Vision Transformer (Dosovitskiy et al., 2021). The position embedding is sized to the input,
so a built model accepts only the size it was built for.
Importing this module imports neither torch nor timm; a network is built only on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from rfloc_core import BackboneSpec, InputConstraints, hookimpl
from rfloc_core.timm_backbones import timm_backbone_spec

__version__ = version("rfloc-vit")
RFLOC_PLUGIN_API = (1, 2)
"""The rfloc plugin API this plugin is built for (major, minor)."""

FAMILY = "vit"
CONSTRAINTS = InputConstraints(min_size=(16, 16), multiple_of=(16, 16), fixed_size=True)


def _spec(name: str, **fields: Any) -> BackboneSpec:
    return timm_backbone_spec(
        name, family=FAMILY, constraints=CONSTRAINTS, sized_input=True, **fields
    )


@hookimpl
def rfloc_backbones() -> Sequence[BackboneSpec]:
    return [
        _spec(
            "vit_tiny_patch16",
            feature_dim=192,
            timm_name="vit_tiny_patch16_224",
            pretrained_tag="augreg_in21k_ft_in1k",
            pretrained_dataset="ImageNet-21k, fine-tuned on ImageNet-1k",
            imagenet_top1=(75.454, 224),
            aliases=("vit_tiny",),
        ),
        _spec(
            "vit_small_patch16",
            feature_dim=384,
            timm_name="vit_small_patch16_224",
            pretrained_tag="augreg_in21k_ft_in1k",
            pretrained_dataset="ImageNet-21k, fine-tuned on ImageNet-1k",
            imagenet_top1=(81.384, 224),
            aliases=("vit_small",),
        ),
        _spec(
            "vit_base_patch16",
            feature_dim=768,
            timm_name="vit_base_patch16_224",
            pretrained_tag="augreg2_in21k_ft_in1k",
            pretrained_dataset="ImageNet-21k, fine-tuned on ImageNet-1k",
            imagenet_top1=(85.096, 224),
            aliases=("vit_base",),
        ),
        _spec(
            "vit_large_patch16",
            feature_dim=1024,
            timm_name="vit_large_patch16_224",
            pretrained_tag="augreg_in21k_ft_in1k",
            pretrained_dataset="ImageNet-21k, fine-tuned on ImageNet-1k",
            imagenet_top1=(85.834, 224),
            aliases=("vit_large",),
        ),
    ]
