"""rfloc plugin: mobilenetv3 backbones, built with timm.

Importing this module imports neither torch nor timm; a network is built only on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version

from rfloc_core import BackboneSpec, InputConstraints, hookimpl
from rfloc_core.timm_backbones import timm_backbone_spec

__version__ = version("rfloc-mobilenetv3")
RFLOC_PLUGIN_API = (1, 2)
"""The rfloc plugin API this plugin is built for (major, minor)."""

FAMILY = "mobilenetv3"
CONSTRAINTS = InputConstraints(min_size=(32, 32))
"""Spectrogram sizes (mel_bins, frames) the backbones accept."""


@hookimpl
def rfloc_backbones() -> Sequence[BackboneSpec]:
    return [
        timm_backbone_spec(
            "mobilenetv3_small_100",
            family=FAMILY,
            feature_dim=1024,
            pretrained_tag="lamb_in1k",
            pretrained_dataset="ImageNet-1k",
            licence="apache-2.0",
            constraints=CONSTRAINTS,
            description="MobileNetV3-Small (Howard et al., 2019), sized for low-power receivers",
        ),
    ]
