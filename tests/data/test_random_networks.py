"""Random receiver networks: one per sample, a function of (seed, index) alone, within the
configured count and spacing, centred on their centroid; the estimators and the bound take one
network per sample and agree with the shared-network path where the networks are the same."""

from __future__ import annotations

import pytest
import torch

from rfloc_core.data import SyntheticDataset, load_preset
from rfloc_core.data.crb import rss_crb_covariance_m2
from rfloc_core.data.estimators import rss_mle, weighted_centroid
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import RandomNetwork
from rfloc_core.data.simulator import Simulator

NETWORK = RandomNetwork(count_min=3, count_max=9, half_width_m=15_000.0, min_spacing_m=3_000.0)


@pytest.fixture
def scenario():
    return load_preset("rss-ideal").model_copy(update={"random_network": NETWORK})


def test_each_sample_has_its_own_network_whatever_the_batch(scenario):
    simulator = Simulator(scenario)
    together = simulator.simulate(range(6), seed=4)
    alone = simulator.simulate([3], seed=4)
    torch.testing.assert_close(alone.receivers_enu_m[0], together.receivers_enu_m[3])
    torch.testing.assert_close(alone.iq[0], together.iq[3])
    assert not torch.equal(together.receivers_enu_m[0], together.receivers_enu_m[1])


def test_networks_keep_their_count_spacing_and_centre(scenario):
    batch = Simulator(scenario).simulate(range(64), seed=1)
    counts = batch.online.sum(dim=1)
    assert int(counts.min()) >= 3 and int(counts.max()) <= 9
    assert len(set(counts.tolist())) >= 5  # the counts vary
    for receivers, online in zip(batch.receivers_enu_m, batch.online, strict=True):
        used = receivers[online, :2]
        assert float(used.abs().max()) <= 2 * NETWORK.half_width_m
        assert float(torch.pdist(used).min()) >= NETWORK.min_spacing_m - 1e-6
        assert float(used.mean(dim=0).abs().max()) < 1e-6
        assert torch.equal(receivers[~online], torch.zeros_like(receivers[~online]))


def test_unused_slots_are_offline_channels_at_the_floor(scenario):
    items = SyntheticDataset(scenario, 8, seed=2).batch(range(8))
    offline = ~items["online"]
    assert bool(offline.any())
    assert bool((items["features"][offline] == FeatureConfig().offline_floor).all())
    assert items["receivers_m"].shape == (8, 9, 2)


def test_correlated_shadowing_is_drawn_per_network(scenario):
    from rfloc_core.data.channel import shadowing_covariance_db2, shadowing_covariance_db2_batched

    correlated = scenario.propagation.model_copy(
        update={"shadowing_correlation_distance_m": 5_000.0}
    )
    batch = Simulator(scenario.model_copy(update={"propagation": correlated})).simulate(
        range(16), seed=3
    )
    assert bool(torch.isfinite(batch.received_power_dbm).all())
    covariance = shadowing_covariance_db2_batched(batch.receivers_enu_m, batch.online, correlated)
    for row in range(16):
        used = batch.online[row]
        expected = shadowing_covariance_db2(batch.receivers_enu_m[row, used].numpy(), correlated)
        torch.testing.assert_close(
            covariance[row][used][:, used], torch.as_tensor(expected, dtype=torch.float64)
        )
        unused = ~used
        torch.testing.assert_close(
            covariance[row][unused][:, used],
            torch.zeros(int(unused.sum()), int(used.sum())).double(),
        )


def test_every_sample_keeps_a_station_whatever_the_dropout():
    lonely = RandomNetwork(count_min=1, count_max=3, half_width_m=5_000.0, min_spacing_m=0.0)
    ideal = load_preset("rss-ideal")
    hardware = ideal.receiver_hardware.model_copy(
        update={"dropout_probability": 0.9, "offline_count_max": 2}
    )
    scenario = ideal.model_copy(update={"random_network": lonely, "receiver_hardware": hardware})
    batch = Simulator(scenario).simulate(range(200), seed=8)
    assert bool(batch.online.any(dim=1).all())
    assert float(batch.online.float().mean()) < 0.6  # the dropout still bites


def test_zero_shadowing_with_a_correlation_distance_simulates(scenario):
    silent = scenario.propagation.model_copy(
        update={"shadowing_sigma_db": 0.0, "shadowing_correlation_distance_m": 5_000.0}
    )
    batch = Simulator(scenario.model_copy(update={"propagation": silent})).simulate(range(4))
    assert bool(torch.isfinite(batch.received_power_dbm).all())


def test_estimators_and_bound_take_one_network_per_sample():
    scenario = load_preset("rss-ideal")
    batch = Simulator(scenario).simulate(range(12), seed=5)
    shared = batch.receivers_enu_m[0]
    per_sample = batch.receivers_enu_m
    rss = batch.received_power_dbm
    exponent = scenario.propagation.path_loss_exponent
    torch.testing.assert_close(
        rss_mle(rss, per_sample, exponent).position_m, rss_mle(rss, shared, exponent).position_m
    )
    torch.testing.assert_close(
        weighted_centroid(rss, per_sample, exponent), weighted_centroid(rss, shared, exponent)
    )
    torch.testing.assert_close(
        rss_crb_covariance_m2(batch.position_m, per_sample, exponent, 1.5),
        rss_crb_covariance_m2(batch.position_m, shared, exponent, 1.5),
    )


def test_offline_count_max_takes_zero_to_that_many_stations_down():
    ideal = load_preset("rss-ideal")
    down = ideal.model_copy(
        update={
            "receiver_hardware": ideal.receiver_hardware.model_copy(update={"offline_count_max": 2})
        }
    )
    batch = Simulator(down).simulate(range(300), seed=6)
    offline = (~batch.online).sum(dim=1)
    assert int(offline.max()) <= 2
    counts = torch.bincount(offline, minlength=3)
    assert all(70 <= int(count) <= 130 for count in counts)  # 0, 1 and 2 down: a third each
    assert bool((~batch.online).any(dim=0).all())  # every station is down in some sample
    before = Simulator(ideal).simulate(range(4), seed=6)
    torch.testing.assert_close(before.position_m, batch.position_m[:4])  # nothing else moved


def test_stations_taken_down_leave_three_and_the_bound_says_when_fewer_hear():
    tiny = RandomNetwork(count_min=3, count_max=4, half_width_m=8_000.0, min_spacing_m=2_000.0)
    ideal = load_preset("rss-ideal")
    hardware = ideal.receiver_hardware.model_copy(update={"offline_count_max": 3})
    scenario = ideal.model_copy(update={"random_network": tiny, "receiver_hardware": hardware})
    batch = Simulator(scenario).simulate(range(100), seed=4)
    assert int(batch.online.sum(dim=1).min()) == 3
    two = batch.online.clone()
    two[:, 2:] = False  # two receivers cannot fix a position and an unknown power
    bound = rss_crb_covariance_m2(batch.position_m, batch.receivers_enu_m, 3.0, 1.5, online=two)
    assert bool(torch.isinf(bound).all())
    three = rss_crb_covariance_m2(
        batch.position_m, batch.receivers_enu_m, 3.0, 1.5, online=batch.online
    )
    assert bool(torch.isfinite(three).all()) and bool(
        (torch.diagonal(three, dim1=1, dim2=2) > 0).all()
    )
