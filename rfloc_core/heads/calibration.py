"""σ-scaling: one factor on every predicted length of the uncertainty, fitted on held-out data.

A network trained for a fixed budget ends with uncertainties that are too wide or too narrow
by much the same factor everywhere (for example, still wide from the start of training when
the early stop comes). Scaling every length by one factor ``s`` fitted to minimise the
held-out negative log-likelihood (Levi et al., 2019, "Evaluating and calibrating uncertainty
prediction in regression tasks"; the regression form of temperature scaling) fixes that
without touching the positions. For a Gaussian head the optimum has a closed form,
``s² = mean(d²) / 2`` with ``d²`` the squared Mahalanobis distance of each truth; for any head
this module searches ``log s`` numerically, which needs only the head's ``nll``.

Works on output names, like ``rfloc_core.heads.moments``: ``sigma_m``, ``scale_tril_m`` and
``sigmas_m`` are lengths; anything else is left as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

LENGTH_OUTPUTS = ("sigma_m", "scale_tril_m", "sigmas_m")
"""The outputs that are lengths of the uncertainty, in metres."""

SEARCH_RANGE = (1e-3, 1e3)
"""The factors searched: wider than any training run leaves its uncertainty off by."""

GRID_POINTS = 121
REFINE_ITERATIONS = 60

NllFunction = Callable[[dict[str, torch.Tensor], torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class SigmaScaleFit:
    """The fitted factor and the mean NLL (per sample, of the density per m²) before and
    after it, on the samples it was fitted on."""

    sigma_scale: float
    nll_before: float
    nll_after: float
    samples: int


def has_lengths(outputs: Mapping[str, torch.Tensor]) -> bool:
    """Whether the outputs hold a length that σ-scaling can scale."""
    return any(name in outputs for name in LENGTH_OUTPUTS)


def scale_lengths(
    outputs: Mapping[str, torch.Tensor], factor: float | torch.Tensor
) -> dict[str, torch.Tensor]:
    """The outputs with every length of the uncertainty multiplied by ``factor``."""
    return {
        name: value * factor if name in LENGTH_OUTPUTS else value for name, value in outputs.items()
    }


def fit_sigma_scale(
    nll: NllFunction, outputs: Mapping[str, torch.Tensor], truth_m: torch.Tensor
) -> SigmaScaleFit:
    """The factor on the lengths of ``outputs`` that minimises the mean ``nll`` of the true
    positions ``truth_m`` (N, 2) in metres: a log-spaced grid over ``SEARCH_RANGE``, then a
    golden-section search between the best grid point's neighbours."""
    if not has_lengths(outputs):
        raise ValueError(f"outputs {sorted(outputs)} hold no length of the uncertainty to scale")
    outputs = {name: value.detach().to(torch.float64) for name, value in outputs.items()}
    truth_m = truth_m.detach().to(torch.float64)

    def mean_nll(log_scale: float) -> float:
        return float(nll(scale_lengths(outputs, math.exp(log_scale)), truth_m).mean())

    low, high = math.log(SEARCH_RANGE[0]), math.log(SEARCH_RANGE[1])
    grid = [low + (high - low) * i / (GRID_POINTS - 1) for i in range(GRID_POINTS)]
    values = [mean_nll(point) for point in grid]
    best = min(range(GRID_POINTS), key=values.__getitem__)
    left, right = grid[max(best - 1, 0)], grid[min(best + 1, GRID_POINTS - 1)]
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(REFINE_ITERATIONS):
        inner_left = right - ratio * (right - left)
        inner_right = left + ratio * (right - left)
        if mean_nll(inner_left) <= mean_nll(inner_right):
            right = inner_right
        else:
            left = inner_left
    log_scale = 0.5 * (left + right)
    return SigmaScaleFit(
        sigma_scale=math.exp(log_scale),
        nll_before=mean_nll(0.0),
        nll_after=mean_nll(log_scale),
        samples=int(truth_m.shape[0]),
    )
