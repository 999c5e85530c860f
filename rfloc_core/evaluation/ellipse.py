"""Uncertainty ellipses of 2-D Gaussian position estimates: semi-axes and orientation from an
east/north covariance (m²), and polygon outlines for drawing them; torch only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rfloc_core.errors import InvalidInputError

# Below this relative eigenvalue gap the ellipse is a circle and eigh's axis is arbitrary.
_CIRCLE_RELATIVE_GAP = 1e-12
# Float32 covariances from a network are symmetric and PSD only up to rounding, relative to
# their largest entry; beyond this the input is wrong.
_PSD_RELATIVE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Ellipse:
    """``N`` ellipses, 1-sigma unless scaled with ``sigma_level``; float64 tensors of shape (N,).

    ``orientation_deg`` is the angle of the major axis counter-clockwise from east (the x axis)
    in [0, 180); circles report 0.
    """

    semi_major_m: torch.Tensor
    semi_minor_m: torch.Tensor
    orientation_deg: torch.Tensor


def uncertainty_ellipse(covariance_m2: torch.Tensor, sigma_level: float = 1.0) -> Ellipse:
    """Ellipses of the ``(N, 2, 2)`` symmetric positive semidefinite covariances, semi-axes
    scaled to ``sigma_level`` standard deviations."""
    covariance = _checked_covariance_m2(covariance_m2)
    _check_sigma_level(sigma_level)
    eigenvalues_m2, eigenvectors = torch.linalg.eigh(covariance)
    largest_m2 = eigenvalues_m2.abs().amax(dim=1)
    if bool((eigenvalues_m2[:, 0] < -_PSD_RELATIVE_TOLERANCE * largest_m2).any()):
        raise InvalidInputError(
            "expected positive semidefinite covariances, got a negative eigenvalue; "
            "build them as L @ L.T or clamp the variances to >= 0"
        )
    eigenvalues_m2 = eigenvalues_m2.clamp(min=0.0)
    major_axis = eigenvectors[:, :, 1]
    orientation_deg = _orientation_deg(major_axis[:, 0], major_axis[:, 1])
    is_circle = eigenvalues_m2[:, 1] - eigenvalues_m2[:, 0] <= _CIRCLE_RELATIVE_GAP * largest_m2
    return Ellipse(
        semi_major_m=sigma_level * eigenvalues_m2[:, 1].sqrt(),
        semi_minor_m=sigma_level * eigenvalues_m2[:, 0].sqrt(),
        orientation_deg=torch.where(is_circle, torch.zeros_like(orientation_deg), orientation_deg),
    )


def ellipse_outline_m(center_m: torch.Tensor, ellipse: Ellipse, points: int = 64) -> torch.Tensor:
    """``(N, points, 2)`` float64 polygon vertices of each ellipse around its ``(N, 2)`` centre,
    metres; the polygon is open (the first vertex is not repeated)."""
    if not isinstance(points, int) or points < 3:
        raise InvalidInputError(
            f"expected points to be an int >= 3, got {points!r}; pass e.g. points=64"
        )
    center = torch.as_tensor(center_m, dtype=torch.float64)
    count = ellipse.semi_major_m.shape[0]
    if center.shape != (count, 2):
        raise InvalidInputError(
            f"expected centres of shape ({count}, 2) to match {count} ellipses, got "
            f"{tuple(center.shape)}; pass one east/north centre per ellipse"
        )
    angle_rad = torch.linspace(0.0, 2.0 * math.pi, points + 1, dtype=torch.float64)[:-1]
    angle_rad = angle_rad.to(center.device)
    along_major_m = ellipse.semi_major_m.to(center)[:, None] * torch.cos(angle_rad)
    along_minor_m = ellipse.semi_minor_m.to(center)[:, None] * torch.sin(angle_rad)
    orientation_rad = torch.deg2rad(ellipse.orientation_deg.to(center))[:, None]
    cos_o, sin_o = torch.cos(orientation_rad), torch.sin(orientation_rad)
    east_m = center[:, 0:1] + along_major_m * cos_o - along_minor_m * sin_o
    north_m = center[:, 1:2] + along_major_m * sin_o + along_minor_m * cos_o
    return torch.stack((east_m, north_m), dim=-1)


def _checked_covariance_m2(covariance_m2: torch.Tensor) -> torch.Tensor:
    covariance = torch.as_tensor(covariance_m2, dtype=torch.float64)
    if covariance.ndim != 3 or covariance.shape[1:] != (2, 2):
        raise InvalidInputError(
            f"expected covariances of shape (N, 2, 2) in m², got {tuple(covariance.shape)}; "
            "add a batch dimension with cov.unsqueeze(0) for a single covariance"
        )
    if not bool(torch.isfinite(covariance).all()):
        raise InvalidInputError(
            "expected finite covariances, got NaN or inf entries; "
            "drop or repair the samples whose covariance is not finite"
        )
    scale_m2 = covariance.abs().amax(dim=(1, 2))
    asymmetry_m2 = (covariance[:, 0, 1] - covariance[:, 1, 0]).abs()
    if bool((asymmetry_m2 > _PSD_RELATIVE_TOLERANCE * scale_m2).any()):
        raise InvalidInputError(
            "expected symmetric covariances, got cov[0, 1] != cov[1, 0]; "
            "symmetrise them with 0.5 * (cov + cov.transpose(-1, -2))"
        )
    return 0.5 * (covariance + covariance.transpose(-1, -2))


def _check_sigma_level(sigma_level: float) -> None:
    if not math.isfinite(sigma_level) or sigma_level <= 0.0:
        raise InvalidInputError(
            f"expected sigma_level to be a finite number > 0, got {sigma_level!r}; "
            "pass e.g. 1.0 for the 1-sigma ellipse"
        )


def _orientation_deg(east: torch.Tensor, north: torch.Tensor) -> torch.Tensor:
    angle_deg = torch.remainder(torch.rad2deg(torch.atan2(north, east)), 180.0)
    # remainder of a tiny negative angle rounds to exactly 180.
    return torch.where(angle_deg >= 180.0, torch.zeros_like(angle_deg), angle_deg)
