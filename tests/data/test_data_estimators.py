"""RSS maximum likelihood, weighted centroid and the Cramér-Rao bound, against references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rfloc_core.data import crb, estimators
from rfloc_core.data.geometry import receivers_enu_m
from rfloc_core.data.metrics import position_errors_m, summarize_errors
from rfloc_core.data.scenario import ScenarioConfig, SignalType
from rfloc_core.data.simulator import Simulator


def _numeric_fisher(
    position_m: np.ndarray,
    receivers_m: np.ndarray,
    exponent: float,
    covariance: np.ndarray,
    known_power: bool,
) -> np.ndarray:
    """J = G^T C^-1 G with G by central differences of the mean RSS model, in float64."""

    def mean_rss(theta: np.ndarray) -> np.ndarray:
        point = np.array([theta[0], theta[1], 0.0])
        distance = np.linalg.norm(receivers_m - point, axis=1)
        return theta[2] - 10 * exponent * np.log10(distance)

    theta = np.array([position_m[0], position_m[1], 40.0])
    columns = []
    for k, step in enumerate((1e-3, 1e-3, 1e-6)):
        delta = np.zeros(3)
        delta[k] = step
        columns.append((mean_rss(theta + delta) - mean_rss(theta - delta)) / (2 * step))
    gradient = np.stack(columns, axis=1)[:, : 2 if known_power else 3]
    return gradient.T @ np.linalg.solve(covariance, gradient)


def _bound_rmse_m(fisher: np.ndarray) -> float:
    return float(np.sqrt(np.trace(np.linalg.inv(fisher)[:2, :2])))


@pytest.mark.parametrize("receivers", [3, 5, 8])
@pytest.mark.parametrize("known_power", [True, False])
def test_circle_closed_form(receivers: int, known_power: bool) -> None:
    radius_m, exponent, sigma_db = 2000.0, 3.0, 4.0
    angle = 2 * math.pi * torch.arange(receivers, dtype=torch.float64) / receivers + 0.3
    ring = torch.stack([radius_m * torch.cos(angle), radius_m * torch.sin(angle)], dim=1)
    centre = torch.zeros(1, 2, dtype=torch.float64)
    bound = crb.rss_crb_rmse_m(centre, ring, exponent, sigma_db, known_power=known_power)
    b = 10 * exponent / (sigma_db * math.log(10))
    expected = 2 * radius_m / (b * math.sqrt(receivers))
    assert float(bound[0]) == pytest.approx(expected, rel=1e-9)
    assert crb.circle_rmse_bound_m(radius_m, receivers, exponent, sigma_db) == pytest.approx(
        expected, rel=1e-12
    )


def test_unknown_power_costs_accuracy_away_from_the_centre() -> None:
    angle = 2 * math.pi * torch.arange(6, dtype=torch.float64) / 6
    ring = torch.stack([1000 * torch.cos(angle), 1000 * torch.sin(angle)], dim=1)
    points = torch.tensor([[400.0, 150.0], [700.0, 500.0], [1500.0, 0.0]], dtype=torch.float64)
    known = crb.rss_crb_rmse_m(points, ring, 3.0, 4.0, known_power=True)
    unknown = crb.rss_crb_rmse_m(points, ring, 3.0, 4.0, known_power=False)
    assert bool((unknown >= known).all())
    assert float(unknown[1]) > 1.3 * float(known[1])


def test_bound_matches_numerical_fisher_with_correlation_and_dropout(
    rural: ScenarioConfig,
) -> None:
    receivers = receivers_enu_m(rural)
    receivers[:, 2] = 0.0
    separation = np.linalg.norm(receivers[:, None] - receivers[None], axis=-1)
    covariance = 25.0 * np.exp(-separation / 8000.0)
    online = np.array([True, True, False, True, True, False, True])
    position = np.array([3000.0, -2500.0])
    for known_power in (True, False):
        kept = np.flatnonzero(online)
        fisher = _numeric_fisher(
            position, receivers[kept], 3.2, covariance[np.ix_(kept, kept)], known_power
        )
        bound = crb.rss_crb_rmse_m(
            torch.tensor(position[None]),
            torch.tensor(receivers),
            3.2,
            covariance_db2=torch.tensor(covariance),
            online=torch.tensor(online[None]),
            known_power=known_power,
        )
        assert float(bound[0]) == pytest.approx(_bound_rmse_m(fisher), rel=1e-5)


def test_mle_reaches_the_bound_on_rss_ideal(ideal: ScenarioConfig) -> None:
    batch = Simulator(ideal).simulate(range(1500), seed=21)
    receivers = receivers_enu_m(ideal)
    exponent = ideal.propagation.path_loss_exponent
    sigma_db = ideal.propagation.shadowing_sigma_db
    estimate = estimators.rss_mle(batch.received_power_dbm, torch.tensor(receivers), exponent)
    rmse_m = summarize_errors(position_errors_m(estimate.position_m, batch.position_m)).rmse_m
    covariance = np.eye(len(receivers)) * sigma_db**2
    traces = [
        np.trace(np.linalg.inv(_numeric_fisher(p, receivers, exponent, covariance, False))[:2, :2])
        for p in batch.position_m.numpy()
    ]
    bound_m = math.sqrt(float(np.mean(traces)))
    assert rmse_m == pytest.approx(bound_m, rel=0.25)
    library_bound_m = crb.rmse_bound_m(
        crb.rss_crb_covariance_m2(batch.position_m, torch.tensor(receivers), exponent, sigma_db)
    )
    assert library_bound_m == pytest.approx(bound_m, rel=1e-4)
    tx_power_dbm = estimators.offset_to_tx_power_dbm(estimate.offset_db, ideal)
    error_db = (tx_power_dbm - batch.tx_power_dbm).abs().median()
    assert float(error_db) < 2 * sigma_db


def test_mle_is_exact_without_noise_and_ignores_offline_receivers(ideal: ScenarioConfig) -> None:
    receivers = torch.tensor(receivers_enu_m(ideal))
    truth = torch.tensor([[1200.0, -3400.0], [-5000.0, 2500.0]], dtype=torch.float64)
    points = torch.nn.functional.pad(truth, (0, 1))
    distance = torch.linalg.vector_norm(points[:, None] - receivers[None], dim=-1)
    rss = 37.0 - 30.0 * torch.log10(distance)
    online = torch.ones_like(rss, dtype=torch.bool)
    online[:, 1] = False
    rss[:, 1] = 50.0
    estimate = estimators.rss_mle(rss, receivers, 3.0, online=online)
    np.testing.assert_allclose(estimate.position_m.numpy(), truth.numpy(), atol=0.5)
    np.testing.assert_allclose(estimate.offset_db.numpy(), [37.0, 37.0], atol=1e-6)


def test_weighted_centroid() -> None:
    square = torch.tensor([[0.0, 0.0], [1000.0, 0.0], [1000.0, 1000.0], [0.0, 1000.0]])
    equal = torch.full((1, 4), -80.0)
    centroid = estimators.weighted_centroid(equal, square, 3.0)
    np.testing.assert_allclose(centroid.numpy(), [[500.0, 500.0]], atol=1e-9)
    dominant = torch.tensor([[-40.0, -100.0, -100.0, -100.0]])
    position = estimators.weighted_centroid(dominant, square, 3.0)
    assert float(position.norm()) < 50.0
    offline = torch.tensor([[False, True, True, True]])
    position = estimators.weighted_centroid(dominant, square, 3.0, online=offline)
    assert float(position[0, 0]) == pytest.approx(2000 / 3)


def test_rss_measured_from_iq_matches_the_truth(ideal: ScenarioConfig) -> None:
    simulator = Simulator(ideal)
    batch = simulator.simulate(range(64), seed=9)
    measured = estimators.measure_rss_dbm(
        batch.iq,
        simulator.feature_config.sample_rate_hz,
        ideal.receiver_hardware.bandwidth_hz,
        simulator.noise_density_dbm_per_hz,
    )
    fm = batch.signal_type == list(SignalType).index(SignalType.FM_VOICE)
    strong = (batch.received_power_dbm > -100.0) & fm[:, None]
    assert int(strong.sum()) > 20
    difference = (measured - batch.received_power_dbm)[strong]
    assert float(difference.abs().max()) < 0.5


def test_dataset_items_carry_the_rss_measured_from_their_iq(ideal: ScenarioConfig) -> None:
    """What a stored dataset gives the classical estimators: the measured RSS, close to the
    true received power on strong FM samples; training's sets skip it and read NaN."""
    from rfloc_core.data.datasets import SyntheticDataset

    measured = SyntheticDataset(ideal, 64, seed=9).batch(range(64))
    skipped = SyntheticDataset(ideal, 64, seed=9, measure_rss=False).batch(range(64))
    fm = measured["signal_type"] == list(SignalType).index(SignalType.FM_VOICE)
    strong = (measured["received_power_dbm"] > -100.0) & fm[:, None]
    assert int(strong.sum()) > 20
    difference = (measured["measured_rss_dbm"] - measured["received_power_dbm"])[strong]
    assert float(difference.abs().max()) < 0.5
    assert bool(skipped["measured_rss_dbm"].isnan().all())
    assert torch.equal(skipped["features"], measured["features"])
