"""PNG figures for evaluating position estimators: error CDFs, predicted-vs-true maps with
uncertainty ellipses, and calibration (reliability) curves; drawn with matplotlib's Agg canvas
without pyplot, so they are thread safe and never open a window, and written atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import torch
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from rfloc_core.atomic import atomic_path
from rfloc_core.errors import InvalidInputError
from rfloc_core.evaluation.ellipse import ellipse_outline_m, uncertainty_ellipse

ArrayLike: TypeAlias = torch.Tensor | npt.ArrayLike
FloatArray: TypeAlias = npt.NDArray[np.float64]

_DPI = 120
_FIGURE_SIZE_IN = (7.0, 5.0)
_LOG_SCALE_MIN_SPREAD = 100.0
_CALIBRATION_GRID_SIGMA = np.linspace(0.0, 3.5, 71)
_M_PER_KM = 1000.0
_SIGMA = "\N{GREEK SMALL LETTER SIGMA}"
_BOUND_LABEL = "Cram\N{LATIN SMALL LETTER E WITH ACUTE}r\N{EN DASH}Rao RMSE bound"


def coverage_curve(
    mahalanobis2: ArrayLike, levels_sigma: Sequence[float]
) -> tuple[FloatArray, FloatArray]:
    """Expected ``1 - exp(-k²/2)`` and observed fraction with ``mahalanobis2 <= k²`` for each
    level ``k`` (in sigmas) of a 2-D Gaussian prediction."""
    distance2 = np.sort(_checked_mahalanobis2(mahalanobis2))
    levels = _as_float64(levels_sigma, "levels_sigma")
    if (
        levels.ndim != 1
        or levels.size == 0
        or not bool(np.all(np.isfinite(levels) & (levels >= 0)))
    ):
        raise InvalidInputError(
            f"expected levels_sigma to be a non-empty list of finite sigmas >= 0, got {levels!r}; "
            "pass e.g. [1.0, 2.0]"
        )
    expected = 1.0 - np.exp(-0.5 * levels**2)
    observed = np.searchsorted(distance2, levels**2, side="right") / distance2.size
    return expected, observed.astype(np.float64)


def plot_error_cdf(
    errors_m: Mapping[str, ArrayLike],
    path: str | os.PathLike[str],
    *,
    title: str = "Position error CDF",
    bound_rmse_m: float | None = None,
) -> Path:
    """Empirical CDF of each estimator's position errors (metres; NaN skipped, inf counted as a
    miss), with p68/p95 guides and an optional Cramer-Rao RMSE bound."""
    if not errors_m:
        raise InvalidInputError(
            "expected at least one estimator's errors, got an empty mapping; "
            "pass e.g. {'model': errors_m}"
        )
    series = {name: _checked_errors_m(values, name) for name, values in errors_m.items()}
    if bound_rmse_m is not None and not (math.isfinite(bound_rmse_m) and bound_rmse_m > 0):
        raise InvalidInputError(
            f"expected bound_rmse_m to be a finite number of metres > 0, got {bound_rmse_m!r}; "
            "pass None to leave the bound out"
        )
    figure, axes = _new_figure()
    for name, errors in series.items():
        _draw_cdf(axes, errors, name)
    for fraction, label in ((0.68, "p68"), (0.95, "p95")):
        _draw_fraction_guide(axes, fraction, label)
    if bound_rmse_m is not None:
        axes.axvline(bound_rmse_m, color="black", linestyle=":", label=_BOUND_LABEL)
    if _spread(series.values(), bound_rmse_m) > _LOG_SCALE_MIN_SPREAD:
        axes.set_xscale("log")
    axes.set_ylim(0.0, 1.0)
    axes.set_xlabel("position error (m)")
    axes.set_ylabel("fraction of samples")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right")
    return _save_png(figure, path)


def plot_position_map(
    truth_m: ArrayLike,
    predicted_m: ArrayLike,
    path: str | os.PathLike[str],
    *,
    covariance_m2: ArrayLike | None = None,
    receivers_m: ArrayLike | None = None,
    max_points: int = 150,
    title: str = "Predicted vs true positions",
) -> Path:
    """Map (east/north, km) of true positions, predictions, the line joining each pair, each
    prediction's 1-sigma ellipse when ``covariance_m2`` is given, and the receivers; only the
    first ``max_points`` samples are drawn."""
    truth, predicted = _checked_positions_m(truth_m, predicted_m)
    if not isinstance(max_points, int) or max_points < 1:
        raise InvalidInputError(
            f"expected max_points to be an int >= 1, got {max_points!r}; pass e.g. max_points=150"
        )
    total = truth.shape[0]
    shown = min(total, max_points)
    outlines_m = None if covariance_m2 is None else _outlines_m(predicted, covariance_m2, shown)
    receivers_km = None if receivers_m is None else _checked_receivers_m(receivers_m) / _M_PER_KM
    figure, axes = _new_figure()
    if outlines_m is not None:
        _draw_ellipses(axes, outlines_m)
    truth_km, predicted_km = truth[:shown] / _M_PER_KM, predicted[:shown] / _M_PER_KM
    segments_km = list(np.stack((truth_km, predicted_km), axis=1))
    axes.add_collection(LineCollection(segments_km, colors="grey", linewidths=0.5, alpha=0.6))
    _scatter_km(axes, truth_km, s=12, marker="o", color="tab:blue", label="true")
    _scatter_km(axes, predicted_km, s=20, marker="x", color="tab:red", label="predicted")
    if receivers_km is not None:
        _scatter_km(axes, receivers_km, s=60, marker="^", color="black", label="receivers")
    axes.autoscale_view()
    axes.set_aspect("equal", adjustable="datalim")
    axes.set_xlabel("east (km)")
    axes.set_ylabel("north (km)")
    axes.set_title(title if shown == total else f"{title} ({shown} of {total} samples)")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best")
    return _save_png(figure, path)


def plot_calibration(
    mahalanobis2: ArrayLike, path: str | os.PathLike[str], *, title: str = "Calibration"
) -> Path:
    """Reliability curve of a 2-D Gaussian prediction: observed against expected fraction of
    truths inside the k-sigma ellipse for k in 0..3.5, annotating 1- and 2-sigma coverage."""
    expected, observed = coverage_curve(mahalanobis2, _CALIBRATION_GRID_SIGMA.tolist())
    marked_expected, marked_observed = coverage_curve(mahalanobis2, [1.0, 2.0])
    figure, axes = _new_figure()
    axes.plot([0.0, 1.0], [0.0, 1.0], color="grey", linestyle="--", label="ideal")
    axes.plot(expected, observed, color="tab:blue", label="observed")
    axes.scatter(marked_expected, marked_observed, color="tab:blue", zorder=3)
    lines = [
        f"{level}{_SIGMA}: observed {100 * seen:.1f} % (expected {100 * hoped:.1f} %)"
        for level, seen, hoped in zip((1, 2), marked_observed, marked_expected, strict=True)
    ]
    axes.text(0.03, 0.97, "\n".join(lines), transform=axes.transAxes, va="top", ha="left")
    axes.set_xlim(0.0, 1.0)
    axes.set_ylim(0.0, 1.0)
    axes.set_aspect("equal")
    axes.set_xlabel(f"expected fraction inside the k-{_SIGMA} ellipse")
    axes.set_ylabel(f"observed fraction inside the k-{_SIGMA} ellipse")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right")
    return _save_png(figure, path)


def _as_float64(values: ArrayLike | Sequence[float], name: str) -> FloatArray:
    try:
        tensor = torch.as_tensor(values, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as error:
        raise InvalidInputError(
            f"expected {name} to be a numeric torch tensor or numpy array, got "
            f"{type(values).__name__} ({error}); convert it with numpy.asarray first"
        ) from error
    return np.asarray(tensor.detach().cpu())


def _checked_errors_m(values: ArrayLike, name: str) -> FloatArray:
    errors = _as_float64(values, f"errors of {name!r}").reshape(-1)
    errors = errors[~np.isnan(errors)]
    if not bool(np.isfinite(errors).any()):
        raise InvalidInputError(
            f"expected finite errors for {name!r}, got none among its values; "
            "drop the estimator or check why it produced no estimates"
        )
    if bool((errors < 0).any()):
        raise InvalidInputError(
            f"expected errors >= 0 m for {name!r}, got a negative value; "
            "pass Euclidean distances such as position_errors_m(predicted, truth)"
        )
    return errors


def _checked_mahalanobis2(values: ArrayLike) -> FloatArray:
    distance2 = _as_float64(values, "mahalanobis2")
    if distance2.ndim != 1 or distance2.size == 0:
        raise InvalidInputError(
            f"expected mahalanobis2 of shape (N,) with N >= 1, got {distance2.shape}; "
            "pass one squared Mahalanobis distance per sample"
        )
    if bool(np.isnan(distance2).any() | (distance2 < 0).any()):
        raise InvalidInputError(
            "expected squared Mahalanobis distances >= 0, got NaN or a negative value; "
            "drop the samples whose covariance could not be inverted"
        )
    return distance2


def _checked_positions_m(
    truth_m: ArrayLike, predicted_m: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    truth = _as_float64(truth_m, "truth_m")
    predicted = _as_float64(predicted_m, "predicted_m")
    if (
        truth.ndim != 2
        or truth.shape[1] != 2
        or truth.shape[0] == 0
        or truth.shape != predicted.shape
    ):
        raise InvalidInputError(
            f"expected truth_m and predicted_m both of shape (N, 2) with N >= 1, got "
            f"{truth.shape} and {predicted.shape}; pass east/north metres, one row per sample"
        )
    if not bool(np.isfinite(truth).all() & np.isfinite(predicted).all()):
        raise InvalidInputError(
            "expected finite positions, got NaN or inf; drop the samples without an estimate"
        )
    return truth, predicted


def _checked_receivers_m(receivers_m: ArrayLike) -> FloatArray:
    receivers = _as_float64(receivers_m, "receivers_m")
    if receivers.ndim != 2 or receivers.shape[1] != 2 or not bool(np.isfinite(receivers).all()):
        raise InvalidInputError(
            f"expected finite receivers_m of shape (R, 2), got shape {receivers.shape}; "
            "pass the east/north position of each receiver in metres"
        )
    return receivers


def _outlines_m(predicted: FloatArray, covariance_m2: ArrayLike, shown: int) -> FloatArray:
    covariance = torch.as_tensor(_as_float64(covariance_m2, "covariance_m2"))
    if covariance.shape != (predicted.shape[0], 2, 2):
        raise InvalidInputError(
            f"expected covariance_m2 of shape ({predicted.shape[0]}, 2, 2) to match the "
            f"predictions, got {tuple(covariance.shape)}; pass one covariance per sample"
        )
    ellipse = uncertainty_ellipse(covariance[:shown])
    return np.asarray(ellipse_outline_m(torch.from_numpy(predicted[:shown]), ellipse))


def _new_figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=_FIGURE_SIZE_IN, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save_png(figure: Figure, path: str | os.PathLike[str]) -> Path:
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=_DPI)
    return Path(path)


def _draw_cdf(axes: Axes, errors_m: FloatArray, name: str) -> None:
    drawn_m = np.sort(errors_m[np.isfinite(errors_m)])
    fraction = np.arange(1, drawn_m.size + 1) / errors_m.size
    median_m = float(np.median(errors_m))
    axes.step(
        np.concatenate(([drawn_m[0]], drawn_m)),
        np.concatenate(([0.0], fraction)),
        where="post",
        label=f"{name} (median {_format_m(median_m)})",
    )


def _draw_fraction_guide(axes: Axes, fraction: float, label: str) -> None:
    axes.axhline(fraction, color="grey", linestyle="--", linewidth=0.8)
    axes.text(
        0.01, fraction, label, transform=axes.get_yaxis_transform(), va="bottom", color="grey"
    )


def _scatter_km(
    axes: Axes, points_km: FloatArray, *, s: float, marker: str, color: str, label: str
) -> None:
    axes.scatter(points_km[:, 0], points_km[:, 1], s=s, marker=marker, color=color, label=label)


def _draw_ellipses(axes: Axes, outlines_m: FloatArray) -> None:
    axes.add_collection(
        PolyCollection(
            list(outlines_m / _M_PER_KM),
            facecolors="none",
            edgecolors="tab:red",
            linewidths=0.6,
            alpha=0.5,
            label=f"1{_SIGMA} ellipse",
        )
    )


def _spread(series: Iterable[FloatArray], bound_rmse_m: float | None) -> float:
    """Ratio of the largest to the smallest positive finite value drawn on the x axis."""
    values = [errors[np.isfinite(errors) & (errors > 0)] for errors in series]
    bound = [] if bound_rmse_m is None else [bound_rmse_m]
    positive_m = np.concatenate([*values, np.asarray(bound, dtype=np.float64)])
    if positive_m.size == 0:
        return 1.0
    return float(positive_m.max() / positive_m.min())


def _format_m(value_m: float) -> str:
    if not math.isfinite(value_m) or abs(value_m) >= 100.0:
        return f"{value_m:,.0f} m"
    return f"{value_m:.3g} m"
