"""Independent Gaussian errors east and north: sigma per axis, in metres."""

from __future__ import annotations

import torch

from rfloc_core.heads._base import (
    DEFAULT_POSITION_SCALE_M,
    DEFAULT_SIGMA_FLOOR_M,
    DEFAULT_SIGMA_SCALE,
    LOG_2PI,
    ScaledHead,
)


class GaussianHead(ScaledHead):
    """Predicts ``position_m`` (B, 2) and ``sigma_m`` (B, 2), both in metres."""

    output_names = ("position_m", "sigma_m")

    def __init__(
        self,
        feature_dim: int,
        *,
        position_scale_m: float = DEFAULT_POSITION_SCALE_M,
        sigma_floor_m: float = DEFAULT_SIGMA_FLOOR_M,
        feature_norm: bool = False,
        sigma_scale: float = DEFAULT_SIGMA_SCALE,
    ) -> None:
        super().__init__(
            feature_dim,
            4,
            position_scale_m=position_scale_m,
            sigma_floor_m=sigma_floor_m,
            feature_norm=feature_norm,
            sigma_scale=sigma_scale,
        )

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        raw = self.raw(features)
        return {
            "position_m": raw[:, :2] * self.position_scale_m,
            "sigma_m": self.length_m(raw[:, 2:]),
        }

    @staticmethod
    def nll(outputs: dict[str, torch.Tensor], target_m: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood per sample (B,), of the position density per square metre."""
        sigma = outputs["sigma_m"]
        z = (target_m - outputs["position_m"]) / sigma
        return torch.log(sigma).sum(-1) + 0.5 * z.square().sum(-1) + LOG_2PI
