"""The core's set fusions, declared as specs; the modules import torch on build.

A fusion joins the receiver tokens of a receiver-set model (each receiver's encoding, joined
with its position and online flag) into the head's input, whatever the receivers' order and
count, ignoring the receivers that are offline.
"""

from __future__ import annotations

from rfloc_core.lazy import LazyClass
from rfloc_core.specs import FusionSpec

CORE_FUSIONS = (
    FusionSpec(
        name="attention",
        build=LazyClass("rfloc_core.fusions.attention", "AttentionFusion"),
        description="a small transformer encoder over the receivers, read out through a "
        "learned summary token (options: width, layers, heads, mlp_ratio)",
    ),
    FusionSpec(
        name="deepsets",
        build=LazyClass("rfloc_core.fusions.deepsets", "DeepSetsFusion"),
        description="a shared MLP per receiver, masked mean and max over receivers, then an "
        "MLP (options: width, layers)",
    ),
)
