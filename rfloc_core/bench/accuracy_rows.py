"""The accuracy rows of the benchmark results, built from the trained models' outcomes: one
row per model with its seeds pooled, one per baseline, and a row for a model that failed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from rfloc_core.bench.accuracy import RunOutcome
from rfloc_core.bench.config import AccuracyProtocol
from rfloc_core.bench.held_out import held_out_summary
from rfloc_core.bench.results import AccuracyRow, Calibration, ErrorCdf
from rfloc_core.data.metrics import summarize_errors
from rfloc_core.evaluation.plots import coverage_curve

CDF_POINTS = 200
CALIBRATION_LEVELS_SIGMA = tuple(np.linspace(0.0, 3.5, 36).tolist())


def error_cdf(errors_m: Sequence[float]) -> ErrorCdf:
    """At most ``CDF_POINTS`` evenly spaced quantiles of the errors, ascending."""
    values = np.asarray(errors_m, dtype=np.float64)
    points = min(CDF_POINTS, values.size)
    return {"errors_m": np.quantile(values, np.linspace(0.0, 1.0, points)).tolist()}


def calibration(distance2: Sequence[float]) -> Calibration:
    expected, observed = coverage_curve(np.asarray(distance2), CALIBRATION_LEVELS_SIGMA)
    return {"expected": expected.tolist(), "observed": observed.tolist()}


def _row(
    name: str,
    family: str | None,
    kind: str,
    protocol: AccuracyProtocol,
    errors_m: Sequence[float],
    crb_rmse_m: float | None,
) -> AccuracyRow:
    summary = summarize_errors(torch.as_tensor(errors_m, dtype=torch.float64))
    finite_bound = crb_rmse_m is not None and np.isfinite(crb_rmse_m) and crb_rmse_m > 0
    return {
        "model": name,
        "family": family,
        "kind": kind,  # type: ignore[typeddict-item]
        "scenario": protocol.scenario,
        "seeds": list(protocol.seeds),
        "train_samples": protocol.train_samples if kind == "model" else None,
        "test_samples": protocol.test_samples,
        "status": "ok",
        "reason": None,
        "error_mean_m": summary.mean_m,
        "error_median_m": summary.median_m,
        "error_p68_m": summary.p68_m,
        "error_p95_m": summary.p95_m,
        "error_rmse_m": summary.rmse_m,
        "ratio_to_crb": summary.rmse_m / crb_rmse_m if finite_bound else None,  # type: ignore[operator]
        "inside_1sigma": None,
        "inside_2sigma": None,
        "nll_mean": None,
        "train_seconds": None,
        "error_cdf": error_cdf(errors_m),
        "calibration": None,
    }


def exported_summary(fields: Mapping[str, Any], crb_rmse_m: float | None) -> dict[str, Any]:
    """The figures the report shows for a model run through an exported file."""
    errors_m = fields["errors_m"]
    summary = summarize_errors(torch.as_tensor(errors_m, dtype=torch.float64))
    finite_bound = crb_rmse_m is not None and np.isfinite(crb_rmse_m) and crb_rmse_m > 0
    distance2 = fields.get("mahalanobis2")
    return {
        "error_median_m": summary.median_m,
        "error_p95_m": summary.p95_m,
        "error_rmse_m": summary.rmse_m,
        "ratio_to_crb": summary.rmse_m / crb_rmse_m if finite_bound else None,  # type: ignore[operator]
        "inside_1sigma": None
        if distance2 is None
        else float((np.asarray(distance2) <= 1.0).mean()),
        "validation_passed": fields.get("validation_passed"),
    }


def failed_row(
    model_name: str, family: str, protocol: AccuracyProtocol, reason: str
) -> AccuracyRow:
    row: dict[str, Any] = dict.fromkeys(AccuracyRow.__annotations__)
    row |= {
        "model": model_name,
        "family": family,
        "kind": "model",
        "scenario": protocol.scenario,
        "seeds": list(protocol.seeds),
        "train_samples": protocol.train_samples,
        "test_samples": protocol.test_samples,
        "status": "error",
        "reason": reason,
    }
    return row  # type: ignore[return-value]


def model_row(outcomes: Sequence[RunOutcome], protocol: AccuracyProtocol) -> AccuracyRow:
    """A model's seeds pooled into one row."""
    first = outcomes[0]
    errors_m = [e for outcome in outcomes for e in outcome.errors_m]
    row = _row(first.model, first.family, "model", protocol, errors_m, first.crb_rmse_m)
    if all(outcome.mahalanobis2 is not None for outcome in outcomes):
        distance2 = np.asarray([d for o in outcomes for d in o.mahalanobis2 or []])
        row["inside_1sigma"] = float((distance2 <= 1.0).mean())
        row["inside_2sigma"] = float((distance2 <= 4.0).mean())
        row["calibration"] = calibration(distance2.tolist())
    row["nll_mean"] = float(np.mean([n for outcome in outcomes for n in outcome.nll]))
    row["train_seconds"] = float(sum(outcome.train_seconds for outcome in outcomes))
    row["protocol"] = {
        "steps": round(float(np.mean([outcome.steps for outcome in outcomes]))),
        "max_steps": protocol.steps,
        "batch_size": first.batch_size,
        "train_samples": protocol.train_samples,
        "learning_rate": first.learning_rate,
        "loss": first.loss,
        "train_seconds": float(sum(outcome.train_seconds for outcome in outcomes)),
        "train_samples_per_s": _mean_of_known([o.train_samples_per_s for o in outcomes]),
        "simulated_samples_per_s": _mean_of_known([o.simulated_samples_per_s for o in outcomes]),
        "bare_train_samples_per_s": _mean_of_known([o.bare_train_samples_per_s for o in outcomes]),
        "sigma_scale": _mean_of_known([o.sigma_scale for o in outcomes]),
    }
    exported = {
        backend: _exported_entry(first, fields)
        for backend, fields in (first.exported or {}).items()
    }
    if exported:
        row["exported"] = exported
    if first.fusion is not None:
        row["fusion"] = first.fusion
        row["held_out"] = held_out_summary([outcome.held_out for outcome in outcomes])
    row["learning_curves"] = [
        {
            "seed": outcome.seed,
            "steps": list(outcome.learning_curve["steps"]),
            "val_error_median_m": list(outcome.learning_curve["val_error_median_m"]),
        }
        for outcome in outcomes
        if outcome.learning_curve
    ]
    return row


def _exported_entry(first: RunOutcome, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The first seed's model run through an exported file, beside the same seed's PyTorch
    figures (``reference``: a model row pools every seed, the file is tested on the first);
    ``error`` alone where the file could not be written or run."""
    if not fields.get("errors_m"):
        return {"error": str(fields.get("error") or "no test errors were recorded")}
    summary = exported_summary(fields, first.crb_rmse_m)
    own = {"errors_m": first.errors_m, "mahalanobis2": first.mahalanobis2}
    reference = exported_summary(own, first.crb_rmse_m)
    reference.pop("validation_passed")
    summary["reference"] = reference
    return summary


def _mean_of_known(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return float(np.mean(known)) if known else None


def baseline_rows(outcome: RunOutcome, protocol: AccuracyProtocol) -> list[AccuracyRow]:
    """The classical estimators on the test set (they do not depend on the model)."""
    return [
        _row(name, None, "baseline", protocol, errors_m, outcome.crb_rmse_m)
        for name, errors_m in sorted(outcome.baseline_errors_m.items())
    ]
