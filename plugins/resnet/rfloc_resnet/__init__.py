"""rfloc plugin: ResNet backbones (18 to 152), built with timm.

ResNet (He et al., 2016), timm's ResNet strikes back weights.
Importing this module imports neither torch nor timm; a network is built only on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from rfloc_core import BackboneSpec, InputConstraints, hookimpl
from rfloc_core.timm_backbones import timm_backbone_spec

__version__ = version("rfloc-resnet")
RFLOC_PLUGIN_API = (1, 2)
"""The rfloc plugin API this plugin is built for (major, minor)."""

FAMILY = "resnet"
CONSTRAINTS = InputConstraints(min_size=(32, 32))


def _spec(name: str, **fields: Any) -> BackboneSpec:
    return timm_backbone_spec(name, family=FAMILY, constraints=CONSTRAINTS, **fields)


@hookimpl
def rfloc_backbones() -> Sequence[BackboneSpec]:
    return [
        _spec(
            "resnet18",
            feature_dim=512,
            pretrained_tag="a1_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(73.158, 288),
        ),
        _spec(
            "resnet34",
            feature_dim=512,
            pretrained_tag="a1_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(77.918, 288),
        ),
        _spec(
            "resnet50",
            feature_dim=2048,
            pretrained_tag="a1_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(81.214, 288),
        ),
        _spec(
            "resnet101",
            feature_dim=2048,
            pretrained_tag="a1h_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(82.778, 288),
        ),
        _spec(
            "resnet152",
            feature_dim=2048,
            pretrained_tag="a1h_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(83.45, 288),
        ),
    ]
