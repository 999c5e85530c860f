"""A full 2x2 covariance in metres, through its lower Cholesky factor."""

from __future__ import annotations

import torch

from rfloc_core.heads._base import (
    DEFAULT_POSITION_SCALE_M,
    DEFAULT_SIGMA_FLOOR_M,
    DEFAULT_SIGMA_SCALE,
    LOG_2PI,
    ScaledHead,
)


class FullGaussianHead(ScaledHead):
    """Predicts ``position_m`` (B, 2) and ``scale_tril_m`` (B, 2, 2): the lower-triangular L
    with covariance L Lᵀ in m², its diagonal at least the floor."""

    output_names = ("position_m", "scale_tril_m")

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
            5,
            position_scale_m=position_scale_m,
            sigma_floor_m=sigma_floor_m,
            feature_norm=feature_norm,
            sigma_scale=sigma_scale,
        )

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        raw = self.raw(features)
        diagonal = self.length_m(raw[:, 2:4])
        off_diagonal = raw[:, 4] * (self.position_scale_m * self.sigma_scale)
        zero = torch.zeros_like(off_diagonal)
        scale_tril = torch.stack(
            (
                torch.stack((diagonal[:, 0], zero), -1),
                torch.stack((off_diagonal, diagonal[:, 1]), -1),
            ),
            dim=-2,
        )
        return {"position_m": raw[:, :2] * self.position_scale_m, "scale_tril_m": scale_tril}

    @staticmethod
    def nll(outputs: dict[str, torch.Tensor], target_m: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood per sample (B,), of the position density per square metre."""
        tril = outputs["scale_tril_m"]
        d = target_m - outputs["position_m"]
        a, c, b = tril[:, 0, 0], tril[:, 1, 0], tril[:, 1, 1]
        z_east = d[:, 0] / a
        z_north = (d[:, 1] - c * z_east) / b
        return torch.log(a) + torch.log(b) + 0.5 * (z_east.square() + z_north.square()) + LOG_2PI
