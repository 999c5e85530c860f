from __future__ import annotations

import math

import pytest
import torch

from rfloc_core.errors import InvalidInputError
from rfloc_core.evaluation.ellipse import Ellipse, ellipse_outline_m, uncertainty_ellipse


def _rotated(angle_deg: float, major_var_m2: float, minor_var_m2: float) -> torch.Tensor:
    angle_rad = math.radians(angle_deg)
    rotation = torch.tensor(
        [[math.cos(angle_rad), -math.sin(angle_rad)], [math.sin(angle_rad), math.cos(angle_rad)]],
        dtype=torch.float64,
    )
    diagonal = torch.diag(torch.tensor([major_var_m2, minor_var_m2], dtype=torch.float64))
    return rotation @ diagonal @ rotation.T


def _assert_ellipse(ellipse: Ellipse, major_m: float, minor_m: float, orientation_deg: float):
    assert ellipse.semi_major_m.item() == pytest.approx(major_m, abs=1e-12)
    assert ellipse.semi_minor_m.item() == pytest.approx(minor_m, abs=1e-12)
    assert ellipse.orientation_deg.item() == pytest.approx(orientation_deg, abs=1e-9)


def test_diagonal_covariance_along_east():
    ellipse = uncertainty_ellipse(torch.diag(torch.tensor([9.0, 4.0]))[None])
    _assert_ellipse(ellipse, 3.0, 2.0, 0.0)


def test_diagonal_covariance_along_north():
    ellipse = uncertainty_ellipse(torch.diag(torch.tensor([4.0, 9.0]))[None])
    _assert_ellipse(ellipse, 3.0, 2.0, 90.0)


@pytest.mark.parametrize("angle_deg", [30.0, 210.0, -150.0])
def test_rotated_covariance_wraps_orientation_into_half_turn(angle_deg):
    ellipse = uncertainty_ellipse(_rotated(angle_deg, 16.0, 1.0)[None])
    _assert_ellipse(ellipse, 4.0, 1.0, 30.0)


def test_batch_keeps_order_and_orientation_stays_in_range():
    angles_deg = [0.0, 45.0, 90.0, 135.0, 179.0]
    covariance = torch.stack([_rotated(angle, 25.0, 4.0) for angle in angles_deg])
    ellipse = uncertainty_ellipse(covariance)
    assert ellipse.semi_major_m.shape == (5,)
    assert ellipse.orientation_deg.tolist() == pytest.approx(angles_deg, abs=1e-9)
    assert bool(((ellipse.orientation_deg >= 0) & (ellipse.orientation_deg < 180)).all())


def test_circle_reports_zero_orientation():
    ellipse = uncertainty_ellipse(4.0 * torch.eye(2)[None])
    _assert_ellipse(ellipse, 2.0, 2.0, 0.0)


def test_sigma_level_scales_the_axes():
    covariance = _rotated(30.0, 16.0, 1.0)[None]
    ellipse = uncertainty_ellipse(covariance, sigma_level=2.0)
    _assert_ellipse(ellipse, 8.0, 2.0, 30.0)


def test_degenerate_covariance_has_zero_minor_axis():
    ellipse = uncertainty_ellipse(_rotated(60.0, 9.0, 0.0)[None])
    _assert_ellipse(ellipse, 3.0, 0.0, 60.0)


@pytest.mark.parametrize("sigma_level", [1.0, 2.0, 3.0])
def test_outline_lies_on_the_mahalanobis_contour(sigma_level):
    covariance = torch.stack(
        [
            _rotated(30.0, 16.0, 1.0),
            _rotated(120.0, 400.0, 25.0),
            torch.diag(torch.tensor([9.0, 4.0], dtype=torch.float64)),
        ]
    )
    center_m = torch.tensor([[0.0, 0.0], [1500.0, -250.0], [-10.0, 7.5]], dtype=torch.float64)
    outline_m = ellipse_outline_m(center_m, uncertainty_ellipse(covariance, sigma_level), points=37)
    assert outline_m.shape == (3, 37, 2)
    offset_m = outline_m - center_m[:, None, :]
    solved = torch.linalg.solve(covariance[:, None], offset_m[..., None])[..., 0]
    distance2 = (offset_m * solved).sum(dim=-1)
    # torch.testing.assert_close would import torch.distributed (seconds) on first use.
    assert float((distance2 - sigma_level**2).abs().max()) <= 1e-9


@pytest.mark.parametrize(
    "covariance",
    [
        torch.eye(2),
        torch.eye(3)[None],
        torch.ones(2, 2, 2, 2),
        torch.tensor([[[1.0, float("nan")], [float("nan"), 1.0]]]),
        torch.tensor([[[float("inf"), 0.0], [0.0, 1.0]]]),
        torch.tensor([[[1.0, 0.5], [0.0, 1.0]]]),
        torch.tensor([[[1.0, 0.0], [0.0, -1.0]]]),
    ],
    ids=["unbatched", "3x3", "4-D", "nan", "inf", "asymmetric", "negative"],
)
def test_invalid_covariance_raises(covariance):
    with pytest.raises(InvalidInputError):
        uncertainty_ellipse(covariance)


@pytest.mark.parametrize("sigma_level", [0.0, -1.0, float("nan")])
def test_invalid_sigma_level_raises(sigma_level):
    with pytest.raises(InvalidInputError):
        uncertainty_ellipse(torch.eye(2)[None], sigma_level=sigma_level)


def test_outline_rejects_mismatched_centres_and_too_few_points():
    ellipse = uncertainty_ellipse(torch.eye(2).expand(3, 2, 2))
    with pytest.raises(InvalidInputError):
        ellipse_outline_m(torch.zeros(2, 2), ellipse)
    with pytest.raises(InvalidInputError):
        ellipse_outline_m(torch.zeros(3, 2), ellipse, points=2)


def test_float32_rounding_is_tolerated():
    factor = torch.randn(64, 2, 2, generator=torch.Generator().manual_seed(0)) * 300.0
    covariance = factor @ factor.transpose(-1, -2)
    covariance[:, 0, 0] += 1.0
    ellipse = uncertainty_ellipse(covariance)
    assert bool((ellipse.semi_major_m >= ellipse.semi_minor_m).all())
