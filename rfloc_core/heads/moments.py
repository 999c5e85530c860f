"""The mean and covariance (m²) of a head's predicted position distribution, from its outputs.

Works on output names, so any head that uses the core's names gets calibration metrics and
uncertainty ellipses: ``sigma_m`` (diagonal Gaussian), ``scale_tril_m`` (full Gaussian), or
``weights`` / ``means_m`` / ``sigmas_m`` (a mixture, moment-matched to one Gaussian).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch


def predictive_covariance_m2(outputs: Mapping[str, torch.Tensor]) -> torch.Tensor | None:
    """``(B, 2, 2)`` float64 covariance in m², or None for outputs of an unknown form."""
    if "sigma_m" in outputs:
        return torch.diag_embed(outputs["sigma_m"].to(torch.float64).square())
    if "scale_tril_m" in outputs:
        factor = outputs["scale_tril_m"].to(torch.float64)
        return factor @ factor.transpose(-1, -2)
    if {"weights", "means_m", "sigmas_m"} <= outputs.keys():
        weights = outputs["weights"].to(torch.float64)[..., None]
        means = outputs["means_m"].to(torch.float64)
        mean = (weights * means).sum(-2, keepdim=True)
        within = torch.diag_embed(
            (weights * outputs["sigmas_m"].to(torch.float64).square()).sum(-2)
        )
        spread = means - mean
        between = (weights[..., None] * spread[..., :, None] * spread[..., None, :]).sum(-3)
        return within + between
    return None
