"""The receiver-set breakdown benchmark's scenarios and pooling."""

from __future__ import annotations

import math

from benchmarks.receiver_set_breakdown import (
    NETWORK_SIZES,
    RANDOM_NETWORKS,
    networks_of_size,
    over_bound,
    pooled_rmse_m,
    rss_ideal_with_down,
)


def test_every_choice_of_stations_down_is_taken_once() -> None:
    for down, expected in ((0, 1), (1, 7), (2, 21)):
        scenarios = rss_ideal_with_down(down)
        offline = [
            frozenset(r.name for r in scenario.receivers if r.offline) for scenario in scenarios
        ]
        assert len(scenarios) == expected == len(set(offline))
        assert all(len(names) == down for names in offline)
        assert all(scenario.n_receivers == 7 for scenario in scenarios)


def test_networks_of_one_size_differ_and_have_every_station_up() -> None:
    first, second = networks_of_size(RANDOM_NETWORKS, 4, 2)
    assert first.n_receivers == second.n_receivers == 4
    assert first.random_network is None and second.random_network is None
    assert not any(r.offline for r in (*first.receivers, *second.receivers))
    assert [r.latitude_deg for r in first.receivers] != [r.latitude_deg for r in second.receivers]
    assert min(NETWORK_SIZES) >= 3
    validation = networks_of_size(RANDOM_NETWORKS, 4, 2, "validation")
    assert {v.receivers for v in validation}.isdisjoint({first.receivers, second.receivers})


def test_a_bound_that_cannot_be_computed_gives_no_ratio() -> None:
    assert math.isnan(over_bound(1_000.0, math.inf))
    assert math.isnan(over_bound(1_000.0, 0.0))
    assert over_bound(1_500.0, 1_000.0) == 1.5


def test_pooled_rmse_is_the_root_of_the_mean_square_over_all_samples() -> None:
    assert math.isclose(pooled_rmse_m([3.0, 4.0], [1, 1]), math.sqrt(12.5))
    assert math.isclose(pooled_rmse_m([3.0, 4.0], [3, 1]), math.sqrt((27 + 16) / 4))
