"""An evaluation's files: ``evaluation.json`` and the plots as PNG, each written atomically."""

from __future__ import annotations

import json
from pathlib import Path

from rfloc_core.atomic import write_text_atomic
from rfloc_core.data.metrics import mahalanobis2, position_errors_m
from rfloc_core.evaluation.estimates import SampleEstimates
from rfloc_core.evaluation.plots import plot_calibration, plot_error_cdf, plot_position_map
from rfloc_core.evaluation.summary import MODEL_ROW, Evaluation

EVALUATION_JSON = "evaluation.json"
ERROR_CDF_PNG = "error_cdf.png"
POSITION_MAP_PNG = "positions_map.png"
CALIBRATION_PNG = "calibration.png"


def write_report(
    evaluation: Evaluation, estimates: SampleEstimates, out_dir: str | Path, *, label: str = ""
) -> list[Path]:
    """Write the JSON and the three plots to ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    suffix = f" — {label}" if label else ""
    json_path = out_dir / EVALUATION_JSON
    write_text_atomic(json_path, json.dumps(evaluation.as_dict(), indent=2) + "\n")
    errors = {MODEL_ROW: position_errors_m(estimates.model_position_m, estimates.truth_m)}
    errors |= {
        name: position_errors_m(position, estimates.truth_m)
        for name, position in estimates.baselines_m.items()
    }
    written = [
        json_path,
        plot_error_cdf(
            errors,
            out_dir / ERROR_CDF_PNG,
            title=f"Position error CDF{suffix}",
            bound_rmse_m=evaluation.crb_rmse_m if evaluation.crb_rmse_m < float("inf") else None,
        ),
        plot_position_map(
            estimates.truth_m,
            estimates.model_position_m,
            out_dir / POSITION_MAP_PNG,
            covariance_m2=estimates.model_covariance_m2,
            receivers_m=estimates.receivers_m,
            title=f"Predicted vs true positions{suffix}",
        ),
    ]
    if estimates.model_covariance_m2 is not None:
        distance2 = mahalanobis2(
            estimates.model_position_m, estimates.truth_m, estimates.model_covariance_m2
        )
        written.append(
            plot_calibration(distance2, out_dir / CALIBRATION_PNG, title=f"Calibration{suffix}")
        )
    return written
