"""A receiver-set model trains on a new random network every sample, and its checkpoint is
evaluated on networks it never saw, beside the RSS baselines and the bound of those networks."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from rfloc_core.checkpoint import load_checkpoint
from rfloc_core.data import load_preset
from rfloc_core.data.networks import fixed_network_scenario
from rfloc_core.data.scenario import RandomNetwork
from rfloc_core.evaluation.evaluate import evaluate
from rfloc_core.training import load_train_config, train
from tests.training.toy_run import write_toy_config

STEPS = 12


def _train(folder: Path) -> Path:
    config = load_train_config(
        write_toy_config(folder),
        [
            "scenario=rss-random-networks",
            "model.fusion=deepsets",
            "model.fusion_options={width = 32, layers = 1}",
            f"max_steps={STEPS}",
            f"validate_every_steps={STEPS // 2}",
            "train_samples=96",
            "val_samples=32",
            "data_in_memory=true",
            "checkpoint_every_steps=0",
        ],
    )
    result = train(config, run_dir=folder / "run", progress=False, tracking=False)
    assert result is not None
    assert result.steps_completed == STEPS
    return result.best_checkpoint


def test_a_set_model_trains_on_random_networks_and_is_tested_on_unseen_ones(
    tmp_path: Path, toy_registry: object
) -> None:
    trained = _train(tmp_path)
    _check_checkpoint(trained)
    _check_held_out_network(trained)
    _check_random_networks(trained)


def _check_checkpoint(trained: Path) -> None:
    model, config = load_checkpoint(trained)
    assert model.fusion_spec.name == "deepsets"
    assert config.receivers is None
    assert config.fusion == "deepsets"
    assert config.receiver_set["receiver_scale_m"] == 6_000.0  # half of rss-ideal's 12 km area
    assert config.head_options["position_scale_m"] == 6_000.0
    assert "uncertainty_calibration" in config.extra


def _check_held_out_network(trained: Path) -> None:
    base = load_preset("rss-random-networks")
    network = RandomNetwork(count_min=5, count_max=5, half_width_m=18_000.0, min_spacing_m=3e3)
    held_out = fixed_network_scenario(base, network, seed=987_654)
    evaluation = evaluate(trained, scenario=held_out, samples=40)
    names = [row.name for row in evaluation.rows]
    assert names[0] == "model" and {"rss_mle", "weighted_centroid"} <= set(names)
    assert math.isfinite(evaluation.crb_rmse_m) and evaluation.crb_rmse_m > 0
    assert math.isfinite(evaluation.row("model").errors.median_m)


def _check_random_networks(trained: Path) -> None:
    evaluation = evaluate(trained, samples=24)
    assert evaluation.context["scenario"] == "rss-random-networks"
    assert math.isfinite(evaluation.crb_rmse_m) and evaluation.crb_rmse_m > 0
    assert math.isfinite(evaluation.row("rss_mle").errors.rmse_m)


def test_a_held_out_network_is_fixed_by_its_seed_and_centred():
    base = load_preset("rss-random-networks")
    network = RandomNetwork(count_min=5, count_max=5, half_width_m=18_000.0, min_spacing_m=3e3)
    first = fixed_network_scenario(base, network, seed=11)
    again = fixed_network_scenario(base, network, seed=11)
    other = fixed_network_scenario(base, network, seed=12)
    assert first.receivers == again.receivers != other.receivers
    assert first.n_receivers == 5 and first.random_network is None
    from rfloc_core.data.geometry import receivers_enu_m

    enu = torch.as_tensor(receivers_enu_m(first))
    assert float(enu[:, :2].mean(dim=0).abs().max()) < 50.0  # centred on its centroid, metres
    assert float(torch.pdist(enu[:, :2]).min()) >= 3e3 - 1.0
