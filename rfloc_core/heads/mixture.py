"""A mixture of K Gaussians with diagonal covariance, for multimodal position beliefs."""

from __future__ import annotations

import torch

from rfloc_core.heads._base import (
    DEFAULT_POSITION_SCALE_M,
    DEFAULT_SIGMA_FLOOR_M,
    DEFAULT_SIGMA_SCALE,
    LOG_2PI,
    ScaledHead,
)

DEFAULT_COMPONENTS = 3


class MixtureHead(ScaledHead):
    """Predicts ``weights`` (B, K) summing to one, ``means_m`` (B, K, 2), ``sigmas_m`` (B, K, 2),
    and ``position_m`` (B, 2), the mixture's mean, all lengths in metres."""

    output_names = ("position_m", "weights", "means_m", "sigmas_m")

    def __init__(
        self,
        feature_dim: int,
        *,
        components: int = DEFAULT_COMPONENTS,
        position_scale_m: float = DEFAULT_POSITION_SCALE_M,
        sigma_floor_m: float = DEFAULT_SIGMA_FLOOR_M,
        feature_norm: bool = False,
        sigma_scale: float = DEFAULT_SIGMA_SCALE,
    ) -> None:
        if not isinstance(components, int) or components < 1:
            from rfloc_core.errors import InvalidInputError

            raise InvalidInputError(f"components must be an int >= 1, got {components!r}")
        super().__init__(
            feature_dim,
            components * 5,
            position_scale_m=position_scale_m,
            sigma_floor_m=sigma_floor_m,
            feature_norm=feature_norm,
            sigma_scale=sigma_scale,
        )
        self.components = components

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        raw = self.raw(features).reshape(features.shape[0], self.components, 5)
        weights = torch.softmax(raw[..., 0], dim=-1)
        means = raw[..., 1:3] * self.position_scale_m
        sigmas = self.length_m(raw[..., 3:5])
        return {
            "position_m": (weights.unsqueeze(-1) * means).sum(-2),
            "weights": weights,
            "means_m": means,
            "sigmas_m": sigmas,
        }

    @staticmethod
    def nll(outputs: dict[str, torch.Tensor], target_m: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood per sample (B,), of the position density per square metre."""
        sigmas = outputs["sigmas_m"]
        z = (target_m.unsqueeze(-2) - outputs["means_m"]) / sigmas
        log_component = -torch.log(sigmas).sum(-1) - 0.5 * z.square().sum(-1) - LOG_2PI
        log_weights = torch.log(outputs["weights"].clamp_min(torch.finfo(sigmas.dtype).tiny))
        return -torch.logsumexp(log_weights + log_component, dim=-1)
