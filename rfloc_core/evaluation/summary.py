"""Accuracy of the model and of each baseline on one sample set, with the Cramér–Rao bound."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from rfloc_core.data.crb import rmse_bound_m
from rfloc_core.data.metrics import (
    CalibrationSummary,
    ErrorSummary,
    gaussian_calibration,
    position_errors_m,
    ratio_to_bound,
    summarize_errors,
)
from rfloc_core.evaluation.estimates import SampleEstimates

MODEL_ROW = "model"


@dataclass(frozen=True)
class EstimatorRow:
    name: str
    errors: ErrorSummary
    ratio_to_crb: float
    """RMSE over the Cramér–Rao RMSE bound of the same samples (inf if the bound is inf)."""
    calibration: CalibrationSummary | None = None
    nll_mean: float | None = None

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"name": self.name, "ratio_to_crb": self.ratio_to_crb}
        row |= {f"error_{k}": v for k, v in self.errors.as_dict().items()}
        if self.calibration is not None:
            row |= {"inside_1sigma": self.calibration.inside_1sigma}
            row |= {"inside_2sigma": self.calibration.inside_2sigma}
        if self.nll_mean is not None:
            row["nll_mean"] = self.nll_mean
        return row


@dataclass(frozen=True)
class Evaluation:
    rows: list[EstimatorRow]
    crb_rmse_m: float
    """Bound on the RMSE over these samples, metres (inf where the geometry is singular)."""
    samples: int
    context: dict[str, Any] = field(default_factory=dict)
    """Where the numbers come from: checkpoint, scenario, seed, split."""

    @property
    def observable(self) -> bool:
        """Whether the receivers' geometry bounds the position error at all."""
        return math.isfinite(self.crb_rmse_m)

    def row(self, name: str) -> EstimatorRow:
        return next(row for row in self.rows if row.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "crb_rmse_m": self.crb_rmse_m,
            "rows": [row.as_dict() for row in self.rows],
            "context": self.context,
        }


UNOBSERVABLE_BOUND_M = 1e9
"""A Cramér–Rao bound beyond a million kilometres is round-off on a singular information
matrix: the receivers' geometry leaves the position unobservable."""


def _finite_bound(crb_covariance_m2: torch.Tensor) -> float:
    """The bound's RMSE over the samples where it is finite; inf where the geometry leaves
    the position unobservable."""
    finite = torch.isfinite(crb_covariance_m2).all(dim=(1, 2))
    bound = rmse_bound_m(crb_covariance_m2[finite]) if bool(finite.any()) else math.inf
    return bound if bound <= UNOBSERVABLE_BOUND_M else math.inf


def summarize(estimates: SampleEstimates, context: dict[str, Any] | None = None) -> Evaluation:
    """One row for the model, then one per baseline; ratios use the bound on the same samples."""
    bound_m = _finite_bound(estimates.crb_covariance_m2)

    def ratio(summary: ErrorSummary) -> float:
        finite = bound_m != float("inf") and bound_m > 0
        return ratio_to_bound(summary.rmse_m, bound_m) if finite else float("inf")

    model_errors = summarize_errors(
        position_errors_m(estimates.model_position_m, estimates.truth_m)
    )
    calibration = None
    if estimates.model_covariance_m2 is not None:
        calibration = gaussian_calibration(
            estimates.model_position_m, estimates.truth_m, estimates.model_covariance_m2
        )
    rows = [
        EstimatorRow(
            MODEL_ROW,
            model_errors,
            ratio(model_errors),
            calibration,
            float(estimates.model_nll.mean()),
        )
    ]
    for name, position_m in estimates.baselines_m.items():
        errors = summarize_errors(position_errors_m(position_m, estimates.truth_m))
        rows.append(EstimatorRow(name, errors, ratio(errors)))
    return Evaluation(rows, bound_m, int(estimates.truth_m.shape[0]), dict(context or {}))


def table_rows(evaluation: Evaluation) -> tuple[list[str], list[list[str]]]:
    """Column names and formatted cells for a terminal table."""
    columns = ["estimator", "mean m", "median m", "p68 m", "p95 m", "RMSE m", "RMSE/CRB"]
    columns += ["in 1σ", "in 2σ", "NLL"]
    cells = []
    for row in evaluation.rows:
        e = row.errors
        cal = row.calibration
        cells.append(
            [
                row.name,
                *(f"{v:,.0f}" for v in (e.mean_m, e.median_m, e.p68_m, e.p95_m, e.rmse_m)),
                f"{row.ratio_to_crb:.2f}" if evaluation.observable else "—",
                f"{cal.inside_1sigma:.1%}" if cal else "",
                f"{cal.inside_2sigma:.1%}" if cal else "",
                f"{row.nll_mean:.2f}" if row.nll_mean is not None else "",
            ]
        )
    bound = f"{evaluation.crb_rmse_m:,.0f}" if evaluation.observable else "unobservable"
    cells.append(["Cramér–Rao bound", "", "", "", "", bound, "1.00", "", "", ""])
    return columns, cells
