"""The core's probabilistic heads, declared as specs; the modules import torch on build."""

from __future__ import annotations

from rfloc_core.lazy import LazyClass
from rfloc_core.specs import HeadSpec

CORE_HEADS = (
    HeadSpec(
        name="gaussian",
        build=LazyClass("rfloc_core.heads.gaussian", "GaussianHead"),
        output_names=("position_m", "sigma_m"),
        description="independent Gaussian east/north errors: sigma (B, 2) in metres",
    ),
    HeadSpec(
        name="gaussian_full",
        build=LazyClass("rfloc_core.heads.gaussian_full", "FullGaussianHead"),
        output_names=("position_m", "scale_tril_m"),
        description="correlated 2-D Gaussian: Cholesky factor (B, 2, 2) of the covariance, metres",
    ),
    HeadSpec(
        name="mixture",
        build=LazyClass("rfloc_core.heads.mixture", "MixtureHead"),
        output_names=("position_m", "weights", "means_m", "sigmas_m"),
        description="K weighted diagonal Gaussians (default K=3), for multimodal beliefs",
    ),
)
