"""Receiver-set models in the accuracy harness: how they train, and their test on a network
no training sample drew, beside the RSS MLE and the Cramér–Rao bound of that network."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rfloc_core.bench.config import AccuracyProtocol, ReceiverSetProtocol
from rfloc_core.errors import RflocError

if TYPE_CHECKING:
    from rfloc_core.data.scenario import ScenarioConfig

SEPARATOR = "+"
"""Between the encoder and the fusion in a receiver-set row's name: ``resnet18+attention``."""


def set_model_name(backbone: str, receiver_set: ReceiverSetProtocol) -> str:
    return f"{backbone}{SEPARATOR}{receiver_set.fusion}"


def set_model_overrides(receiver_set: ReceiverSetProtocol) -> list[str]:
    """Training overrides that make a backbone a receiver-set model on random networks."""
    overrides = [
        f"scenario={receiver_set.scenario}",
        f"model.fusion={receiver_set.fusion}",
        f"model.fusion_options={_toml_table(receiver_set.fusion_options)}",
    ]
    if receiver_set.input_size is not None:
        mel_bins, frames = receiver_set.input_size
        overrides += [f"model.input_size.mel_bins={mel_bins}", f"model.input_size.frames={frames}"]
    return overrides


def _toml_table(options: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{key} = {json.dumps(value)}" for key, value in options.items()) + "}"


def check_receiver_sets(receiver_set: ReceiverSetProtocol) -> None:
    """Refuse, before any cell runs, a fusion that is not installed, options it does not
    take, or a training scenario without random networks."""
    from rfloc_core.errors import InvalidInputError, UnknownNameError
    from rfloc_core.model.create import build_fusion
    from rfloc_core.registry import get_registry

    try:
        build_fusion(get_registry().fusion(receiver_set.fusion), 8, receiver_set.fusion_options)
    except (UnknownNameError, InvalidInputError) as error:
        raise RflocError(f"suite field receiver_sets: {error}") from None
    held_out_scenario(receiver_set)


def held_out_scenario(receiver_set: ReceiverSetProtocol) -> ScenarioConfig:
    """The training scenario's world on one network of ``held_out_stations`` drawn from
    ``held_out_seed``, every station up: a fixed network no training sample drew."""
    from rfloc_core.data.networks import fixed_network_scenario
    from rfloc_core.data.scenario import load_scenario

    training = load_scenario(receiver_set.scenario)
    if training.random_network is None:
        raise RflocError(
            f"receiver_sets.scenario {receiver_set.scenario!r} has no random_network, so a "
            "receiver-set model would see one network only; use rss-random-networks or a "
            "scenario with a [random_network] table"
        )
    count = receiver_set.held_out_stations
    network = training.random_network.model_copy(update={"count_min": count, "count_max": count})
    every_station_up = training.receiver_hardware.model_copy(update={"offline_count_max": 0})
    world = training.model_copy(update={"receiver_hardware": every_station_up})
    return fixed_network_scenario(world, network, receiver_set.held_out_seed)


def held_out_outcome(
    checkpoint: Path,
    receiver_set: ReceiverSetProtocol,
    protocol: AccuracyProtocol,
    prior_position_m: tuple[float, float],
    *,
    device: torch.device,
) -> dict[str, Any]:
    """Errors (m) of the model and of the RSS MLE on ``test_samples`` of the held-out
    network, and that network's Cramér–Rao RMSE bound."""
    from rfloc_core.bench.accuracy import estimates_on_test_set
    from rfloc_core.data.metrics import position_errors_m
    from rfloc_core.evaluation.estimates import PRIOR, RSS_MLE

    scenario = held_out_scenario(receiver_set)
    evaluation, estimates = estimates_on_test_set(
        checkpoint, scenario, protocol, prior_position_m, device=device
    )
    truth = estimates.truth_m
    return {
        "network": scenario.name,
        "stations": scenario.n_receivers,
        "errors_m": position_errors_m(estimates.model_position_m, truth).tolist(),
        "rss_mle_errors_m": position_errors_m(estimates.baselines_m[RSS_MLE], truth).tolist(),
        "prior_errors_m": position_errors_m(estimates.baselines_m[PRIOR], truth).tolist(),
        "crb_rmse_m": evaluation.crb_rmse_m,
    }


def held_out_summary(outcomes: Sequence[dict[str, Any] | None]) -> dict[str, Any] | None:
    """A model row's held-out figures, its seeds pooled: median and RMSE of the model, RMSE of
    the RSS MLE, median of the prior (the training set's mean position) in metres, the bound,
    the two ratios, and the verdict against the prior (see ``results_views.verdict``)."""
    from rfloc_core.bench.results_views import (
        DID_NOT_LEARN,
        LEARNED,
        LEARNED_FRACTION_OF_PRIOR,
    )

    known = [outcome for outcome in outcomes if outcome]
    if not known:
        return None
    errors = np.asarray([e for outcome in known for e in outcome["errors_m"]])
    mle = np.asarray([e for outcome in known for e in outcome["rss_mle_errors_m"]])
    model_rmse_m = float(np.sqrt(np.mean(errors**2)))
    mle_rmse_m = float(np.sqrt(np.mean(mle**2)))
    crb_rmse_m = float(known[0]["crb_rmse_m"])
    prior_median_m = float(np.median([e for o in known for e in o.get("prior_errors_m", [])]))
    median_m = float(np.median(errors))
    learned = median_m < LEARNED_FRACTION_OF_PRIOR * prior_median_m
    return {
        "network": known[0]["network"],
        "stations": known[0]["stations"],
        "error_median_m": median_m,
        "prior_median_m": prior_median_m,
        "verdict": LEARNED if learned else DID_NOT_LEARN,
        "error_rmse_m": model_rmse_m,
        "rss_mle_rmse_m": mle_rmse_m,
        "crb_rmse_m": crb_rmse_m,
        "ratio_to_crb": model_rmse_m / crb_rmse_m if crb_rmse_m > 0 else None,
        "ratio_to_rss_mle": model_rmse_m / mle_rmse_m if mle_rmse_m > 0 else None,
    }
