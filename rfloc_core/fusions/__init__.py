"""The core's set fusions, declared as specs; the modules import torch on build.

A fusion joins the receiver tokens of a receiver-set model (each receiver's encoding, joined
with its position and online flag) into the head's input, whatever the receivers' order and
count, ignoring the receivers that are offline.
"""

from __future__ import annotations

from typing import Any

from rfloc_core.specs import FusionSpec


def _build_attention(token_dim: int, **options: Any) -> Any:
    from rfloc_core.fusions.attention import AttentionFusion

    return AttentionFusion(token_dim, **options)


def _build_deepsets(token_dim: int, **options: Any) -> Any:
    from rfloc_core.fusions.deepsets import DeepSetsFusion

    return DeepSetsFusion(token_dim, **options)


CORE_FUSIONS = (
    FusionSpec(
        name="attention",
        build=_build_attention,
        description="a small transformer encoder over the receivers, read out through a "
        "learned summary token (options: width, layers, heads, mlp_ratio)",
    ),
    FusionSpec(
        name="deepsets",
        build=_build_deepsets,
        description="a shared MLP per receiver, masked mean and max over receivers, then an "
        "MLP (options: width, layers)",
    ),
)
