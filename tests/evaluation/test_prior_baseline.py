"""The prior baseline, the training set's mean position, against its closed form: on a
uniform square of side L the mean distance from the centre is L (sqrt 2 + ln(1 + sqrt 2)) / 6."""

from __future__ import annotations

import math

import pytest
import torch

from rfloc_core.data.datasets import SyntheticDataset
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.memory_dataset import MemoryDataset
from rfloc_core.data.scenario import load_scenario
from rfloc_core.data.splits import split_seed
from rfloc_core.training.config import ModelConfig, TrainConfig
from rfloc_core.training.data_module import SyntheticDataModule

SAMPLES = 20_000


def test_prior_error_on_a_uniform_square_matches_the_closed_form():
    scenario = load_scenario("rss-ideal")
    area = scenario.area
    side_m = area.east_max_m - area.east_min_m
    assert side_m == area.north_max_m - area.north_min_m, "the test needs a square area"
    config = TrainConfig(
        model=ModelConfig(backbone="any"), scenario="rss-ideal", train_samples=SAMPLES
    )
    data = SyntheticDataModule(config, scenario, FeatureConfig())
    prior_m = torch.tensor(data.train_mean_position_m(), dtype=torch.float64)
    centre_m = torch.tensor([(area.east_min_m + area.east_max_m) / 2, 0.0], dtype=torch.float64)
    # the training mean lands within a few standard errors (L / sqrt(12 N)) of the centre
    assert torch.linalg.vector_norm(prior_m - centre_m) < 4 * side_m / math.sqrt(12 * SAMPLES)

    test = SyntheticDataset(scenario, SAMPLES, split_seed(0, "test"), FeatureConfig())
    truth_m = test.simulator.positions_m(range(SAMPLES), test.seed)
    mean_error_m = torch.linalg.vector_norm(truth_m - prior_m, dim=-1).mean().item()
    closed_form_m = side_m * (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 6
    assert mean_error_m == pytest.approx(closed_form_m, rel=0.015)


def test_positions_without_iq_are_the_simulated_positions():
    scenario = load_scenario("rss-ideal")
    dataset = SyntheticDataset(scenario, 12, 7, FeatureConfig())
    simulated = dataset.batch(range(12))["position_m"].to(torch.float64)
    assert torch.allclose(dataset.simulator.positions_m(range(12), 7), simulated, atol=1e-3)


def test_the_in_memory_prior_equals_the_one_computed_without_iq():
    scenario = load_scenario("rss-ideal")
    config = TrainConfig(
        model=ModelConfig(backbone="any"),
        scenario="rss-ideal",
        train_samples=64,
        val_samples=8,
        batch_size=8,
    )
    memory = TrainConfig(**(config.model_dump() | {"data_in_memory": True}))
    lazy_m = SyntheticDataModule(config, scenario, FeatureConfig()).train_mean_position_m()
    in_memory = SyntheticDataModule(memory, scenario, FeatureConfig())
    assert isinstance(in_memory.train_set, MemoryDataset)
    assert in_memory.train_mean_position_m() == pytest.approx(lazy_m, abs=1e-3)
