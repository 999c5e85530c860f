"""Accuracy metrics shared by training, benchmarks and reports; every distance is in metres.

Calibration of a predicted 2-D Gaussian: the truth lies inside the k-sigma ellipse when its
squared Mahalanobis distance is at most k², which happens with probability ``1 - exp(-k²/2)``:
39.3% for 1 sigma and 86.5% for 2 sigma.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from rfloc_core.errors import InvalidInputError

EXPECTED_INSIDE_1SIGMA = 1.0 - math.exp(-0.5)
EXPECTED_INSIDE_2SIGMA = 1.0 - math.exp(-2.0)


@dataclass(frozen=True)
class ErrorSummary:
    count: int
    mean_m: float
    median_m: float
    p68_m: float
    p95_m: float
    rmse_m: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class CalibrationSummary:
    inside_1sigma: float
    """Fraction of truths inside the predicted 1-sigma ellipse (ideal: 0.393)."""
    inside_2sigma: float
    """Fraction inside the 2-sigma ellipse (ideal: 0.865)."""
    nll_mean: float
    """Mean negative log-likelihood of the truth, nats, density per m²."""
    expected_1sigma: float = EXPECTED_INSIDE_1SIGMA
    expected_2sigma: float = EXPECTED_INSIDE_2SIGMA

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _pair(predicted_m: torch.Tensor, truth_m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    predicted = torch.as_tensor(predicted_m, dtype=torch.float64)
    truth = torch.as_tensor(truth_m, dtype=torch.float64).to(predicted.device)
    if predicted.shape != truth.shape or predicted.ndim != 2 or predicted.shape[1] != 2:
        raise InvalidInputError(
            f"predicted and true positions must both be (N, 2) in metres, got "
            f"{tuple(predicted.shape)} and {tuple(truth.shape)}"
        )
    return predicted, truth


def position_errors_m(predicted_m: torch.Tensor, truth_m: torch.Tensor) -> torch.Tensor:
    """``(N,)`` Euclidean error of each 2-D position estimate, metres."""
    predicted, truth = _pair(predicted_m, truth_m)
    errors: torch.Tensor = torch.linalg.vector_norm(predicted - truth, dim=1)
    return errors


def summarize_errors(errors_m: torch.Tensor) -> ErrorSummary:
    """Mean, median, 68th and 95th percentile (linear interpolation) and RMSE, metres."""
    errors = torch.as_tensor(errors_m, dtype=torch.float64).reshape(-1)
    if errors.numel() == 0:
        raise InvalidInputError("cannot summarise zero errors; pass at least one sample")
    quantiles = torch.quantile(errors, torch.tensor([0.5, 0.68, 0.95], dtype=torch.float64))
    return ErrorSummary(
        count=errors.numel(),
        mean_m=float(errors.mean()),
        median_m=float(quantiles[0]),
        p68_m=float(quantiles[1]),
        p95_m=float(quantiles[2]),
        rmse_m=float(errors.square().mean().sqrt()),
    )


def ratio_to_bound(rmse_m: float, bound_rmse_m: float) -> float:
    """RMSE divided by the CRB RMSE bound (1 means efficient; below 1 means a biased estimator
    or a prior, since no unbiased estimator beats the bound)."""
    if bound_rmse_m <= 0.0:
        raise InvalidInputError(f"the bound must be positive metres, got {bound_rmse_m}")
    return rmse_m / bound_rmse_m


def covariance_m2(
    sigma_m: torch.Tensor | None = None, cholesky_m: torch.Tensor | None = None
) -> torch.Tensor:
    """``(N, 2, 2)`` covariance (m²) from per-axis sigmas ``(N, 2)`` or a Cholesky factor."""
    if (sigma_m is None) == (cholesky_m is None):
        raise InvalidInputError("give exactly one of sigma_m (N, 2) or cholesky_m (N, 2, 2)")
    if sigma_m is not None:
        return torch.diag_embed(torch.as_tensor(sigma_m, dtype=torch.float64).square())
    factor = torch.as_tensor(cholesky_m, dtype=torch.float64)
    return factor @ factor.transpose(-1, -2)


def mahalanobis2(
    predicted_m: torch.Tensor, truth_m: torch.Tensor, covariance: torch.Tensor
) -> torch.Tensor:
    """``(N,)`` squared Mahalanobis distance of each truth from its predicted Gaussian."""
    predicted, truth = _pair(predicted_m, truth_m)
    error = (truth - predicted)[..., None]
    solved = torch.linalg.solve(covariance.to(predicted), error)
    distance2: torch.Tensor = (error * solved).sum(dim=(1, 2))
    return distance2


def gaussian_nll(
    predicted_m: torch.Tensor, truth_m: torch.Tensor, covariance: torch.Tensor
) -> torch.Tensor:
    """``(N,)`` negative log-likelihood (nats) of the truth under ``N(predicted, covariance)``."""
    distance2 = mahalanobis2(predicted_m, truth_m, covariance)
    log_det = torch.logdet(covariance.to(torch.float64))
    return 0.5 * distance2 + 0.5 * log_det + math.log(2.0 * math.pi)


def gaussian_calibration(
    predicted_m: torch.Tensor, truth_m: torch.Tensor, covariance: torch.Tensor
) -> CalibrationSummary:
    """Coverage of the 1- and 2-sigma ellipses and the mean NLL of a predicted 2-D Gaussian."""
    distance2 = mahalanobis2(predicted_m, truth_m, covariance)
    return CalibrationSummary(
        inside_1sigma=float((distance2 <= 1.0).to(torch.float64).mean()),
        inside_2sigma=float((distance2 <= 4.0).to(torch.float64).mean()),
        nll_mean=float(gaussian_nll(predicted_m, truth_m, covariance).mean()),
    )
