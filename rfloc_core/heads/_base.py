"""The heads' common base: position scale, positive lengths with a floor, the linear map."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional

LOG_2PI = math.log(2.0 * math.pi)

DEFAULT_POSITION_SCALE_M = 1000.0
"""Raw outputs near 1 map to about a kilometre, the spacing of a regional receiver network."""

DEFAULT_SIGMA_FLOOR_M = 1.0


DEFAULT_SIGMA_SCALE = 1.0
"""No calibration: the lengths are the network's own."""


def positive_length_m(raw: torch.Tensor, scale_m: float, floor_m: float) -> torch.Tensor:
    """A length in metres that is always at least ``floor_m`` and smooth in ``raw``."""
    return functional.softplus(raw) * scale_m + floor_m


def check_head_options(
    position_scale_m: float, sigma_floor_m: float, sigma_scale: float = DEFAULT_SIGMA_SCALE
) -> None:
    from rfloc_core.errors import InvalidInputError

    if not position_scale_m > 0:
        raise InvalidInputError(f"position_scale_m must be > 0 metres, got {position_scale_m}")
    if not sigma_floor_m > 0:
        raise InvalidInputError(f"sigma_floor_m must be > 0 metres, got {sigma_floor_m}")
    if isinstance(sigma_scale, bool) or not (
        isinstance(sigma_scale, int | float) and 0 < sigma_scale < math.inf
    ):
        raise InvalidInputError(
            f"sigma_scale must be a finite number > 0 (the factor on every predicted length of "
            f"the uncertainty; 1 leaves it as trained), got {sigma_scale!r}"
        )


class ScaledHead(nn.Module):
    """A linear map from features to raw outputs, scaled to metres: the heads' common base.

    ``feature_norm=True`` puts a LayerNorm on the pooled features first. Backbones whose
    pooled features are not normalised (EfficientNet, MobileNet) give a few inputs features
    tens of times larger than the rest, and so positions far outside the area; the norm bounds
    them. ``rfloc train`` turns it on where the backbone's ``TrainingRecipe`` asks for it (it is
    recorded in the checkpoint's head options).

    ``sigma_scale`` multiplies every predicted length of the uncertainty (sigmas, the Cholesky
    factor, the components' sigmas) after the floor: ``rfloc train`` fits it on the validation
    set after training (``rfloc_core.heads.calibration``), so the covariance is scaled by its
    square and the positions are unchanged.
    """

    def __init__(
        self,
        feature_dim: int,
        raw_outputs: int,
        *,
        position_scale_m: float = DEFAULT_POSITION_SCALE_M,
        sigma_floor_m: float = DEFAULT_SIGMA_FLOOR_M,
        feature_norm: bool = False,
        sigma_scale: float = DEFAULT_SIGMA_SCALE,
    ) -> None:
        super().__init__()
        check_head_options(position_scale_m, sigma_floor_m, sigma_scale)
        self.position_scale_m = position_scale_m
        self.sigma_floor_m = sigma_floor_m
        self.sigma_scale = float(sigma_scale)
        self.norm: nn.Module = nn.LayerNorm(feature_dim) if feature_norm else nn.Identity()
        self.proj = nn.Linear(feature_dim, raw_outputs)

    def raw(self, features: torch.Tensor) -> torch.Tensor:
        """The unscaled outputs ``(B, raw_outputs)`` for pooled features ``(B, feature_dim)``."""
        out: torch.Tensor = self.proj(self.norm(features))
        return out

    def length_m(self, raw: torch.Tensor) -> torch.Tensor:
        """A predicted length of the uncertainty in metres, calibration included."""
        return positive_length_m(raw, self.position_scale_m, self.sigma_floor_m) * self.sigma_scale
