from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.image import imread

from rfloc_core.errors import InvalidInputError
from rfloc_core.evaluation import plots
from rfloc_core.evaluation.plots import (
    coverage_curve,
    plot_calibration,
    plot_error_cdf,
    plot_position_map,
)


@pytest.fixture
def captured_figures(monkeypatch):
    """Figures saved by the plot functions, for inspecting what was drawn."""
    figures = []
    save_png = plots._save_png

    def capture(figure, path):
        figures.append(figure)
        return save_png(figure, path)

    monkeypatch.setattr(plots, "_save_png", capture)
    return figures


def _assert_only_png(path: Path, returned: Path) -> None:
    assert returned == path
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG")
    assert len(data) > 5_000
    height, width, channels = imread(path).shape
    assert 300 <= height <= 2000 and 300 <= width <= 2000 and channels in (3, 4)
    assert list(path.parent.iterdir()) == [path]


def _positions_m(count: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    truth_m = torch.rand(count, 2, generator=generator, dtype=torch.float64) * 5_000.0
    predicted_m = truth_m + 50.0 * torch.randn(count, 2, generator=generator, dtype=torch.float64)
    return truth_m, predicted_m


def test_error_cdf_writes_a_png(tmp_path, captured_figures):
    rng = np.random.default_rng(0)
    errors_m = {
        "model": torch.from_numpy(rng.rayleigh(30.0, 400)),
        "baseline": np.append(rng.rayleigh(80.0, 300), [np.nan, np.inf]),
    }
    path = tmp_path / "cdf.png"
    _assert_only_png(path, plot_error_cdf(errors_m, path, bound_rmse_m=20.0))
    axes = captured_figures[0].axes[0]
    labels = axes.get_legend_handles_labels()[1]
    assert any(label.startswith("model (median ") and label.endswith(" m)") for label in labels)
    assert "Cram\u00e9r\u2013Rao RMSE bound" in labels
    assert {text.get_text() for text in axes.texts} >= {"p68", "p95"}


def test_error_cdf_uses_a_log_axis_only_for_a_wide_spread(tmp_path, captured_figures):
    plot_error_cdf({"narrow": [1.0, 5.0, 50.0]}, tmp_path / "narrow.png")
    plot_error_cdf({"wide": [0.0, 1.0, 5.0, 500.0]}, tmp_path / "wide.png")
    assert [figure.axes[0].get_xscale() for figure in captured_figures] == ["linear", "log"]


@pytest.mark.parametrize(
    ("errors_m", "bound_rmse_m"),
    [
        ({}, None),
        ({"model": [np.nan, np.nan]}, None),
        ({"model": []}, None),
        ({"model": [1.0, -2.0]}, None),
        ({"model": [1.0, 2.0]}, 0.0),
        ({"model": [1.0, 2.0]}, math.nan),
    ],
    ids=["empty-mapping", "all-nan", "empty-series", "negative", "zero-bound", "nan-bound"],
)
def test_error_cdf_rejects_invalid_input(tmp_path, errors_m, bound_rmse_m):
    with pytest.raises(InvalidInputError):
        plot_error_cdf(errors_m, tmp_path / "cdf.png", bound_rmse_m=bound_rmse_m)
    assert list(tmp_path.iterdir()) == []


def test_position_map_writes_a_png_and_draws_only_max_points(tmp_path, captured_figures):
    truth_m, predicted_m = _positions_m(500)
    covariance_m2 = torch.diag(torch.tensor([2_500.0, 900.0], dtype=torch.float64)).expand(
        500, 2, 2
    )
    receivers_m = np.array([[0.0, 0.0], [5_000.0, 0.0], [2_500.0, 5_000.0]])
    path = tmp_path / "map.png"
    returned = plot_position_map(
        truth_m, predicted_m.numpy(), path, covariance_m2=covariance_m2, receivers_m=receivers_m
    )
    _assert_only_png(path, returned)
    axes = captured_figures[0].axes[0]
    assert axes.get_title() == "Predicted vs true positions (150 of 500 samples)"
    assert axes.get_xlabel() == "east (km)" and axes.get_ylabel() == "north (km)"
    point_counts = sorted(len(collection.get_offsets()) for collection in axes.collections[-3:])
    assert point_counts == [3, 150, 150]
    assert len(axes.collections[0].get_paths()) == 150


def test_position_map_without_optional_layers(tmp_path, captured_figures):
    truth_m, predicted_m = _positions_m(20)
    path = tmp_path / "map.png"
    _assert_only_png(path, plot_position_map(truth_m, predicted_m, path))
    assert captured_figures[0].axes[0].get_title() == "Predicted vs true positions"


@pytest.mark.parametrize(
    ("shapes", "keywords"),
    [
        (((10, 2), (9, 2)), {}),
        (((10, 3), (10, 3)), {}),
        (((0, 2), (0, 2)), {}),
        (((10, 2), (10, 2)), {"covariance_m2": torch.eye(2).expand(9, 2, 2)}),
        (((10, 2), (10, 2)), {"receivers_m": torch.zeros(3)}),
        (((10, 2), (10, 2)), {"max_points": 0}),
    ],
    ids=["count-mismatch", "3-d", "empty", "covariance-count", "receivers-shape", "max-points"],
)
def test_position_map_rejects_invalid_input(tmp_path, shapes, keywords):
    truth_shape, predicted_shape = shapes
    with pytest.raises(InvalidInputError):
        plot_position_map(
            torch.zeros(truth_shape), torch.ones(predicted_shape), tmp_path / "map.png", **keywords
        )
    assert list(tmp_path.iterdir()) == []


def test_position_map_rejects_non_finite_positions(tmp_path):
    truth_m, predicted_m = _positions_m(5)
    predicted_m[2, 0] = math.nan
    with pytest.raises(InvalidInputError):
        plot_position_map(truth_m, predicted_m, tmp_path / "map.png")


def _chi2_2dof(samples: int, seed: int = 1234) -> np.ndarray:
    uniform = np.random.default_rng(seed).uniform(size=samples)
    return -2.0 * np.log1p(-uniform)


def test_coverage_curve_matches_the_closed_form_for_calibrated_predictions():
    levels_sigma = np.linspace(0.0, 3.5, 36).tolist()
    expected, observed = coverage_curve(_chi2_2dof(200_000), levels_sigma)
    assert expected == pytest.approx([1.0 - math.exp(-0.5 * k**2) for k in levels_sigma])
    assert np.abs(observed - expected).max() < 0.01


def test_coverage_curve_shows_overconfidence_below_the_diagonal():
    expected, observed = coverage_curve(4.0 * _chi2_2dof(200_000), [1.0, 2.0])
    assert observed[0] < expected[0] - 0.2
    assert observed[0] == pytest.approx(1.0 - math.exp(-1.0 / 8.0), abs=0.01)


def test_coverage_curve_counts_boundary_and_infinite_distances():
    expected, observed = coverage_curve(torch.tensor([0.0, 1.0, 4.0, math.inf]), [0.0, 1.0, 2.0])
    assert observed.tolist() == [0.25, 0.5, 0.75]
    assert expected[0] == 0.0


def test_calibration_writes_a_png(tmp_path, captured_figures):
    path = tmp_path / "calibration.png"
    _assert_only_png(path, plot_calibration(torch.from_numpy(_chi2_2dof(2_000)), path))
    annotation = captured_figures[0].axes[0].texts[0].get_text()
    assert "(expected 39.3 %)" in annotation and "(expected 86.5 %)" in annotation


@pytest.mark.parametrize(
    "mahalanobis2",
    [[], [[1.0, 2.0]], [1.0, -0.5], [1.0, math.nan], ["a", "b"]],
    ids=["empty", "2-d", "negative", "nan", "strings"],
)
def test_calibration_rejects_invalid_input(tmp_path, mahalanobis2):
    with pytest.raises(InvalidInputError):
        plot_calibration(mahalanobis2, tmp_path / "calibration.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("levels_sigma", [[], [-1.0], [math.nan]])
def test_coverage_curve_rejects_invalid_levels(levels_sigma):
    with pytest.raises(InvalidInputError):
        coverage_curve([1.0, 2.0], levels_sigma)


def test_existing_file_is_replaced(tmp_path):
    path = tmp_path / "calibration.png"
    path.write_bytes(b"old")
    plot_calibration([0.5, 1.5, 3.0], path)
    assert path.read_bytes().startswith(b"\x89PNG")
    assert list(tmp_path.iterdir()) == [path]
