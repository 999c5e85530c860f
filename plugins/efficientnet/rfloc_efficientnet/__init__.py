"""rfloc plugin: EfficientNet backbones (b0 to b7), built with timm.

EfficientNet (Tan and Le, 2019) in timm's PyTorch-native form: symmetric padding and plain
SiLU, both export-friendly.
Importing this module imports neither torch nor timm; a network is built only on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from rfloc_core import BackboneSpec, InputConstraints, TrainingRecipe, hookimpl
from rfloc_core.timm_backbones import timm_backbone_spec

__version__ = version("rfloc-efficientnet")
RFLOC_PLUGIN_API = (1, 2)
"""The rfloc plugin API this plugin is built for (major, minor)."""

FAMILY = "efficientnet"
CONSTRAINTS = InputConstraints(min_size=(32, 32))
RECIPE = TrainingRecipe(
    feature_norm=True,
    source="rfloc docs/training.md, recipe experiments: EfficientNet's pooled features are not "
    "normalised, and a few inputs gave positions tens of km outside the area without the norm",
)


def _spec(name: str, **fields: Any) -> BackboneSpec:
    return timm_backbone_spec(
        name, family=FAMILY, constraints=CONSTRAINTS, training=RECIPE, **fields
    )


@hookimpl
def rfloc_backbones() -> Sequence[BackboneSpec]:
    return [
        _spec(
            "efficientnet_b0",
            feature_dim=1280,
            pretrained_tag="ra_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(77.694, 224),
        ),
        _spec(
            "efficientnet_b1",
            feature_dim=1280,
            pretrained_tag="ra4_e3600_r240_in1k",
            pretrained_dataset="ImageNet-1k",
        ),
        _spec(
            "efficientnet_b2",
            feature_dim=1408,
            pretrained_tag="ra_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(80.61, 288),
        ),
        _spec(
            "efficientnet_b3",
            feature_dim=1536,
            pretrained_tag="ra2_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(82.242, 320),
        ),
        _spec(
            "efficientnet_b4",
            feature_dim=1792,
            pretrained_tag="ra2_in1k",
            pretrained_dataset="ImageNet-1k",
            imagenet_top1=(83.414, 384),
        ),
        _spec(
            "efficientnet_b5",
            feature_dim=2048,
            pretrained_tag="sw_in12k_ft_in1k",
            pretrained_dataset="ImageNet-12k, fine-tuned on ImageNet-1k",
            imagenet_top1=(85.892, 448),
        ),
        _spec("efficientnet_b6", feature_dim=2304),
        _spec("efficientnet_b7", feature_dim=2560),
    ]
