"""Shared pieces of the heads: the position scale and positive lengths with a floor."""

from __future__ import annotations

import math

import torch
from torch.nn import functional

LOG_2PI = math.log(2.0 * math.pi)

DEFAULT_POSITION_SCALE_M = 1000.0
"""Raw outputs near 1 map to about a kilometre, the spacing of a regional receiver network."""

DEFAULT_SIGMA_FLOOR_M = 1.0


def positive_length_m(raw: torch.Tensor, scale_m: float, floor_m: float) -> torch.Tensor:
    """A length in metres that is always at least ``floor_m`` and smooth in ``raw``."""
    return functional.softplus(raw) * scale_m + floor_m


def check_head_options(position_scale_m: float, sigma_floor_m: float) -> None:
    from rfloc_core.errors import InvalidInputError

    if not position_scale_m > 0:
        raise InvalidInputError(f"position_scale_m must be > 0 metres, got {position_scale_m}")
    if not sigma_floor_m > 0:
        raise InvalidInputError(f"sigma_floor_m must be > 0 metres, got {sigma_floor_m}")
