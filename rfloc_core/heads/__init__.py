"""The core's probabilistic heads, declared as specs; the modules import torch on build."""

from __future__ import annotations

from typing import Any

from rfloc_core.specs import HeadSpec


def _build_gaussian(feature_dim: int, **options: Any) -> Any:
    from rfloc_core.heads.gaussian import GaussianHead

    return GaussianHead(feature_dim, **options)


def _build_gaussian_full(feature_dim: int, **options: Any) -> Any:
    from rfloc_core.heads.gaussian_full import FullGaussianHead

    return FullGaussianHead(feature_dim, **options)


def _build_mixture(feature_dim: int, **options: Any) -> Any:
    from rfloc_core.heads.mixture import MixtureHead

    return MixtureHead(feature_dim, **options)


CORE_HEADS = (
    HeadSpec(
        name="gaussian",
        build=_build_gaussian,
        output_names=("position_m", "sigma_m"),
        description="independent Gaussian east/north errors: sigma (B, 2) in metres",
    ),
    HeadSpec(
        name="gaussian_full",
        build=_build_gaussian_full,
        output_names=("position_m", "scale_tril_m"),
        description="correlated 2-D Gaussian: Cholesky factor (B, 2, 2) of the covariance, metres",
    ),
    HeadSpec(
        name="mixture",
        build=_build_mixture,
        output_names=("position_m", "weights", "means_m", "sigmas_m"),
        description="K weighted diagonal Gaussians (default K=3), for multimodal beliefs",
    ),
)
