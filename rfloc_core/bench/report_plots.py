"""The benchmark report's plots, drawn with matplotlib and returned as inline SVG elements:
latency against accuracy (Pareto), error CDFs, calibration curves and learning curves."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter

from rfloc_core.bench.results_views import pareto_front

SIGMA = "\N{GREEK SMALL LETTER SIGMA}"
BOUND_LABEL = "Cram\N{LATIN SMALL LETTER E WITH ACUTE}r\N{EN DASH}Rao RMSE bound"
_PARETO_SIZE_IN = (7.5, 5.0)
_CDF_SIZE_IN = (7.5, 5.0)
_CALIBRATION_SIZE_IN = (6.0, 5.5)
_CURVE_SIZE_IN = (7.5, 5.0)
_LOG_SCALE_MIN_SPREAD = 100.0
_COLOR_CYCLE = 10
_NO_SVG_METADATA: dict[str, str | None] = {
    "Creator": None,
    "Date": None,
    "Format": None,
    "Type": None,
}
_SVG_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SVG_NAMESPACE = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_SVG_ID = re.compile(r'\bid="([^"]+)"')
_SVG_REFERENCE = re.compile(r'(href="#|url\(#)([^")]+)')

Reference = tuple[str, float]
"""A horizontal line drawn for comparison: its label and its value in metres."""


def pareto_svg(
    name: str,
    batch: int | None,
    points: Sequence[Mapping[str, Any]],
    baselines_m: Sequence[Reference],
    crb_m: float | None,
    prefix: str,
) -> str:
    """p50 latency (log x) against median error; the front is drawn through the rows whose
    ``ranked`` is not False (a model that did not learn is shown, never ranked)."""
    figure, axes = new_figure(_PARETO_SIZE_IN)
    families = list(dict.fromkeys(str(row["family"]) for row in points))
    for color, family in enumerate(families):
        members = [row for row in points if str(row["family"]) == family]
        axes.scatter(
            [row["p50_ms"] for row in members],
            [row["error_median_m"] for row in members],
            color=f"C{color % _COLOR_CYCLE}",
            label=plain(family),
            zorder=3,
        )
    for row in points:
        label = str(row["model"]) + ("" if row.get("ranked", True) else " (did not learn)")
        axes.annotate(
            plain(label),
            (row["p50_ms"], row["error_median_m"]),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=8,
        )
    ranked = [row for row in points if row.get("ranked", True)]
    _draw_front(axes, [(row["p50_ms"], row["error_median_m"]) for row in ranked])
    _draw_references(axes, baselines_m, crb_m, first_color=len(families))
    axes.set_xscale("log")
    axes.xaxis.set_major_formatter(LogFormatter())
    axes.xaxis.set_minor_formatter(LogFormatter())
    errors_m = [row["error_median_m"] for row in points] + [m for _, m in baselines_m]
    if log_scale_fits([*errors_m, *([] if crb_m is None else [crb_m])]):
        axes.set_yscale("log")
    axes.set_xlabel(f"p50 latency at batch {batch} (ms)")
    axes.set_ylabel("median position error (m)")
    axes.set_title(plain(name))
    axes.grid(True, which="both", alpha=0.3)
    figure.legend(loc="outside lower center", ncol=3, fontsize="small")
    return svg(figure, prefix)


def cdf_svg(series: Sequence[tuple[str, Mapping[str, Any]]], crb_m: float | None) -> str:
    """Each accuracy row's error quantiles as a CDF; baselines dashed."""
    figure, axes = new_figure(_CDF_SIZE_IN)
    drawn_m: list[float] = []
    for label, row in series:
        errors_m = finite_values(row["error_cdf"])
        drawn_m += errors_m
        _draw_quantile_cdf(axes, errors_m, len(row["error_cdf"]["errors_m"]), label, row["kind"])
    if crb_m is not None and positive(crb_m):
        axes.axvline(crb_m, color="black", linestyle=":", label=BOUND_LABEL)
        drawn_m.append(crb_m)
    if log_scale_fits(drawn_m):
        axes.set_xscale("log")
    axes.set_ylim(0.0, 1.0)
    axes.set_xlabel("position error (m)")
    axes.set_ylabel("fraction of test samples")
    axes.set_title("Position error CDF (dashed: baselines)")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    return svg(figure, "cdf")


def calibration_svg(series: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """Observed against expected coverage of the k-sigma ellipses, one curve per model."""
    figure, axes = new_figure(_CALIBRATION_SIZE_IN)
    axes.plot([0.0, 1.0], [0.0, 1.0], color="grey", linestyle="--", label="ideal")
    for label, calibration in series:
        axes.plot(
            calibration["expected"],
            calibration["observed"],
            marker="o",
            markersize=2.5,
            label=plain(label),
        )
    axes.set_xlim(0.0, 1.0)
    axes.set_ylim(0.0, 1.0)
    axes.set_aspect("equal")
    axes.set_xlabel(f"expected fraction inside the k-{SIGMA} ellipse")
    axes.set_ylabel(f"observed fraction inside the k-{SIGMA} ellipse")
    axes.set_title("Calibration")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    return svg(figure, "calibration")


def learning_curve_svg(
    series: Sequence[tuple[str, Sequence[int], Sequence[float]]],
    references_m: Sequence[Reference],
    crb_m: float | None,
) -> str:
    """Validation median error against optimizer steps (log x), one line per model and seed,
    with the test set's baselines dashed and the bound dotted for scale."""
    figure, axes = new_figure(_CURVE_SIZE_IN)
    drawn_m: list[float] = []
    for color, (label, steps, errors_m) in enumerate(series):
        axes.plot(
            steps,
            errors_m,
            marker="o",
            markersize=3,
            color=f"C{color % _COLOR_CYCLE}",
            label=plain(label),
        )
        drawn_m += [e for e in errors_m if finite(e)]
    _draw_references(axes, references_m, crb_m, first_color=len(series))
    drawn_m += [m for _, m in references_m]
    axes.set_xscale("log")
    if log_scale_fits([*drawn_m, *([] if crb_m is None else [crb_m])]):
        axes.set_yscale("log")
    axes.set_xlabel("optimizer steps")
    axes.set_ylabel("validation median error (m)")
    axes.set_title("Learning curves")
    axes.grid(True, which="both", alpha=0.3)
    figure.legend(loc="outside lower center", ncol=3, fontsize="small")
    return svg(figure, "curves")


def _draw_front(axes: Axes, points: list[tuple[float, float]]) -> None:
    front = pareto_front(points)
    axes.step(
        [points[index][0] for index in front],
        [points[index][1] for index in front],
        where="post",
        color="black",
        linewidth=1.0,
        alpha=0.7,
        label="Pareto front",
        zorder=2,
    )


def _draw_references(
    axes: Axes, references_m: Sequence[Reference], crb_m: float | None, *, first_color: int
) -> None:
    for offset, (name, median_m) in enumerate(references_m):
        axes.axhline(
            median_m,
            color=f"C{(first_color + offset) % _COLOR_CYCLE}",
            linestyle="--",
            linewidth=1.0,
            label=f"{plain(name)} (baseline)",
        )
    if crb_m is not None and positive(crb_m):
        axes.axhline(crb_m, color="black", linestyle=":", linewidth=1.2, label=BOUND_LABEL)


def _draw_quantile_cdf(
    axes: Axes, errors_m: list[float], total: int, label: str, kind: str
) -> None:
    """Missing or infinite quantiles are misses: the curve stops short of 1."""
    sorted_m = sorted(errors_m)
    fractions = [(rank + 1) / total for rank in range(len(sorted_m))]
    axes.step(
        [sorted_m[0], *sorted_m],
        [0.0, *fractions],
        where="post",
        linestyle="--" if kind == "baseline" else "-",
        label=plain(label),
    )


def finite_values(error_cdf: Mapping[str, Any]) -> list[float]:
    return [float(value) for value in error_cdf.get("errors_m") or [] if finite(value)]


def finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def positive(value: Any) -> bool:
    return finite(value) and value > 0


def log_scale_fits(values: Iterable[float]) -> bool:
    """Log scale where every value is positive and they span more than two decades."""
    finite_ones = [value for value in values if finite(value)]
    if not finite_ones or min(finite_ones) <= 0:
        return False
    return max(finite_ones) / min(finite_ones) > _LOG_SCALE_MIN_SPREAD


def new_figure(size_in: tuple[float, float]) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size_in, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def svg(figure: Figure, prefix: str) -> str:
    """The figure as an ``<svg>`` element to inline in HTML: no XML prologue, namespaces,
    comments or metadata, and its ids prefixed so that several plots on a page never clash."""
    buffer = io.StringIO()
    # A fixed salt for the ids matplotlib hashes, so the same results give the same page.
    with matplotlib.rc_context({"svg.hashsalt": "rfloc"}):
        figure.savefig(buffer, format="svg", metadata=_NO_SVG_METADATA)
    text = buffer.getvalue()
    element = _SVG_COMMENT.sub("", text[text.index("<svg") :])
    element = _SVG_NAMESPACE.sub("", element).replace("xlink:href=", "href=")
    element = _SVG_ID.sub(lambda match: f'id="{prefix}-{match[1]}"', element)
    return _SVG_REFERENCE.sub(lambda match: f"{match[1]}{prefix}-{match[2]}", element)


def plain(text: str) -> str:
    """Text matplotlib draws as is, never as mathtext."""
    return text.replace("$", r"\$")
