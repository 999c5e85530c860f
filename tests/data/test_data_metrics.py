"""Error summaries, ratio to the bound, and Gaussian calibration against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rfloc_core.data import metrics
from rfloc_core.errors import InvalidInputError


def test_error_summary_against_numpy() -> None:
    generator = np.random.default_rng(0)
    truth = generator.normal(size=(500, 2)) * 1000
    predicted = truth + generator.normal(size=(500, 2)) * 50
    errors = metrics.position_errors_m(torch.tensor(predicted), torch.tensor(truth)).numpy()
    np.testing.assert_allclose(errors, np.hypot(*(predicted - truth).T))
    summary = metrics.summarize_errors(torch.tensor(errors))
    assert summary.count == 500
    assert summary.mean_m == pytest.approx(errors.mean())
    assert summary.median_m == pytest.approx(np.median(errors))
    assert summary.p68_m == pytest.approx(np.percentile(errors, 68))
    assert summary.p95_m == pytest.approx(np.percentile(errors, 95))
    assert summary.rmse_m == pytest.approx(math.sqrt((errors**2).mean()))
    assert metrics.ratio_to_bound(summary.rmse_m, summary.rmse_m / 2) == pytest.approx(2.0)


def test_small_hand_checked_summary() -> None:
    summary = metrics.summarize_errors(torch.tensor([3.0, 4.0]))
    assert (summary.mean_m, summary.median_m) == (3.5, 3.5)
    assert summary.rmse_m == pytest.approx(math.sqrt(12.5))


def _gaussian_draws(count: int, scale: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Truths drawn from N(predicted, covariance); the covariance is reported times ``scale``²."""
    generator = torch.Generator().manual_seed(1)
    predicted = torch.randn(count, 2, generator=generator, dtype=torch.float64) * 1000
    raw = torch.randn(count, 2, 2, generator=generator, dtype=torch.float64) * 30
    covariance = raw @ raw.transpose(1, 2) + torch.eye(2, dtype=torch.float64) * 100
    factor = torch.linalg.cholesky(covariance)
    noise = torch.randn(count, 2, 1, generator=generator, dtype=torch.float64)
    truth = predicted + (factor @ noise)[..., 0]
    return predicted, truth, covariance * scale**2


def test_calibrated_gaussians_cover_39_and_86_percent() -> None:
    predicted, truth, covariance = _gaussian_draws(20_000, 1.0)
    summary = metrics.gaussian_calibration(predicted, truth, covariance)
    assert summary.inside_1sigma == pytest.approx(1 - math.exp(-0.5), abs=0.012)
    assert summary.inside_2sigma == pytest.approx(1 - math.exp(-2.0), abs=0.008)
    entropy = 1 + math.log(2 * math.pi) + 0.5 * float(torch.logdet(covariance).mean())
    assert summary.nll_mean == pytest.approx(entropy, abs=0.03)


def test_overconfident_gaussians_are_caught() -> None:
    predicted, truth, covariance = _gaussian_draws(5000, 0.5)
    summary = metrics.gaussian_calibration(predicted, truth, covariance)
    assert summary.inside_1sigma < 0.2
    assert summary.inside_2sigma < 0.5


def test_nll_matches_the_diagonal_closed_form() -> None:
    predicted = torch.tensor([[0.0, 0.0]], dtype=torch.float64)
    truth = torch.tensor([[3.0, -4.0]], dtype=torch.float64)
    sigma = torch.tensor([[2.0, 5.0]], dtype=torch.float64)
    covariance = metrics.covariance_m2(sigma_m=sigma)
    expected = 0.5 * ((3 / 2) ** 2 + (4 / 5) ** 2) + math.log(2 * math.pi * 2 * 5)
    assert float(metrics.gaussian_nll(predicted, truth, covariance)[0]) == pytest.approx(expected)
    lower = torch.tensor([[[2.0, 0.0], [0.0, 5.0]]], dtype=torch.float64)
    assert torch.equal(metrics.covariance_m2(cholesky_m=lower), covariance)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"\(N, 2\)"):
        metrics.position_errors_m(torch.zeros(3, 2), torch.zeros(3, 3))
    with pytest.raises(InvalidInputError):
        metrics.summarize_errors(torch.zeros(0))
