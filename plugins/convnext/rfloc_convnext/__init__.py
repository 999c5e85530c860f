"""rfloc plugin: ConvNeXt backbones (atto to xlarge), built with timm.

ConvNeXt (Liu et al., 2022).
Importing this module imports neither torch nor timm; a network is built only on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from rfloc_core import BackboneSpec, InputConstraints, hookimpl
from rfloc_core.timm_backbones import timm_backbone_spec

__version__ = version("rfloc-convnext")
RFLOC_PLUGIN_API = (1, 2)
"""The rfloc plugin API this plugin is built for (major, minor)."""

FAMILY = "convnext"
CONSTRAINTS = InputConstraints(min_size=(32, 32))


def _spec(name: str, **fields: Any) -> BackboneSpec:
    return timm_backbone_spec(name, family=FAMILY, constraints=CONSTRAINTS, **fields)


@hookimpl
def rfloc_backbones() -> Sequence[BackboneSpec]:
    return [
        _spec(
            "convnext_atto",
            feature_dim=320,
            pretrained_tag="d2_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(77.008, 288),
        ),
        _spec(
            "convnext_femto",
            feature_dim=384,
            pretrained_tag="d1_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(78.716, 288),
        ),
        _spec(
            "convnext_pico",
            feature_dim=512,
            pretrained_tag="d1_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(80.414, 288),
        ),
        _spec(
            "convnext_nano",
            feature_dim=640,
            pretrained_tag="in12k_ft_in1k",
            pretrained_dataset="ImageNet-12k, fine-tuned on ImageNet-1k",
            imagenet_top1=(82.862, 288),
        ),
        _spec(
            "convnext_tiny",
            feature_dim=768,
            pretrained_tag="in12k_ft_in1k",
            pretrained_dataset="ImageNet-12k, fine-tuned on ImageNet-1k",
            imagenet_top1=(84.45, 288),
        ),
        _spec(
            "convnext_small",
            feature_dim=768,
            pretrained_tag="in12k_ft_in1k",
            pretrained_dataset="ImageNet-12k, fine-tuned on ImageNet-1k",
            imagenet_top1=(85.33, 288),
        ),
        _spec(
            "convnext_base",
            feature_dim=1024,
            pretrained_tag="fb_in22k_ft_in1k",
            pretrained_dataset="ImageNet-22k, fine-tuned on ImageNet-1k",
            imagenet_top1=(86.274, 288),
            aliases=("convnext_medium",),
        ),
        _spec(
            "convnext_large",
            feature_dim=1536,
            pretrained_tag="fb_in22k_ft_in1k",
            pretrained_dataset="ImageNet-22k, fine-tuned on ImageNet-1k",
            imagenet_top1=(87.026, 288),
        ),
        _spec(
            "convnext_xlarge",
            feature_dim=2048,
            pretrained_tag="fb_in22k_ft_in1k",
            pretrained_dataset="ImageNet-22k, fine-tuned on ImageNet-1k",
            imagenet_top1=(87.33, 288),
        ),
    ]
