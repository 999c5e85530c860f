"""``predict``: positions with uncertainty ellipses from any artifact, for recordings or for
simulated samples, in ENU metres and in latitude/longitude."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rfloc_core.data.errors import ConfigError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.features import log_mel_features
from rfloc_core.data.geometry import EnuOrigin, enu_to_geodetic, network_origin
from rfloc_core.data.scenario import ScenarioConfig, load_scenario
from rfloc_core.data.validation import validate_config
from rfloc_core.evaluation.ellipse import uncertainty_ellipse
from rfloc_core.export.runtimes import load_runtime
from rfloc_core.heads.moments import predictive_covariance_m2


@dataclass(frozen=True)
class Prediction:
    east_m: float
    north_m: float
    latitude_deg: float
    longitude_deg: float
    semi_major_m: float | None
    """1-sigma ellipse; None when the head's outputs give no covariance."""
    semi_minor_m: float | None
    orientation_deg: float | None
    """Direction of the major axis, counter-clockwise from east, 0..180."""
    truth_east_m: float | None = None
    truth_north_m: float | None = None
    error_m: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scenario(info: Any, scenario: str | Path | None) -> ScenarioConfig:
    if scenario is not None:
        return load_scenario(scenario)
    if info.scenario:
        return validate_config(ScenarioConfig, info.scenario, f"{info.source} field scenario")
    raise ConfigError(
        "the artifact records no scenario (receiver positions), so positions cannot be put on "
        "the map; pass --scenario with the receivers' scenario preset or TOML"
    )


def _features(info: Any) -> FeatureConfig:
    if info.features:
        return validate_config(FeatureConfig, info.features, f"{info.source} field features")
    mel_bins, frames = info.input_size
    return FeatureConfig(mel_bins=mel_bins, frames=frames)


PREDICT_BATCH = 256
"""Simulated samples per model call: memory stays bounded however many are asked for."""
MAX_SIMULATED_PREDICTIONS = 1_000_000


def positions_from_outputs(
    outputs: dict[str, np.ndarray], origin: EnuOrigin, truth_m: np.ndarray | None = None
) -> list[Prediction]:
    """Predictions in ENU metres and, through the frame's ``origin``, latitude and longitude."""
    position = np.asarray(outputs["position_m"], dtype=np.float64)
    covariance = predictive_covariance_m2({k: torch.from_numpy(v) for k, v in outputs.items()})
    ellipse = uncertainty_ellipse(covariance) if covariance is not None else None
    latitude, longitude, _ = enu_to_geodetic(position, origin)
    rows = []
    for i in range(position.shape[0]):
        truth = truth_m[i] if truth_m is not None else None
        rows.append(
            Prediction(
                east_m=float(position[i, 0]),
                north_m=float(position[i, 1]),
                latitude_deg=float(np.atleast_1d(latitude)[i]),
                longitude_deg=float(np.atleast_1d(longitude)[i]),
                semi_major_m=float(ellipse.semi_major_m[i]) if ellipse else None,
                semi_minor_m=float(ellipse.semi_minor_m[i]) if ellipse else None,
                orientation_deg=float(ellipse.orientation_deg[i]) if ellipse else None,
                truth_east_m=None if truth is None else float(truth[0]),
                truth_north_m=None if truth is None else float(truth[1]),
                error_m=None if truth is None else float(np.hypot(*(position[i] - truth))),
            )
        )
    return rows


def predict(
    artifact: str | os.PathLike[str],
    *,
    sigmf: Sequence[str | os.PathLike[str]] | None = None,
    simulate: int | None = None,
    scenario: str | Path | None = None,
    seed: int = 0,
    device: str = "cpu",
) -> list[Prediction]:
    """Run ``artifact`` (checkpoint folder, ``.onnx`` or ``.engine``) on one SigMF recording
    per receiver, or on ``simulate`` samples of the test split (with their truth). A
    receiver-set model takes each receiver's position from its recording's metadata, so it
    needs no scenario for recordings."""
    if (sigmf is None) == (simulate is None):
        raise ConfigError("give either --sigmf FILES (one per receiver) or --simulate N")
    runtime = load_runtime(artifact, device=device)
    features = _features(runtime.info)
    receiver_set = runtime.info.receivers is None
    if sigmf is not None and receiver_set and scenario is None:
        from rfloc_core.data.sigmf_io import sigmf_to_set_input

        trained_on = (runtime.info.scenario or {}).get("carrier_frequency_hz")
        network = sigmf_to_set_input(
            [Path(p) for p in sigmf],
            features,
            carrier_frequency_hz=trained_on if isinstance(trained_on, int | float) else None,
        )
        outputs = runtime.run(
            network.spectrogram.numpy(), network.receivers_m.numpy(), network.online.numpy()
        )
        return positions_from_outputs(outputs, network.origin)
    chosen = _scenario(runtime.info, scenario)
    origin = network_origin(chosen.receivers)
    if sigmf is not None and not receiver_set:
        from rfloc_core.data.sigmf_io import sigmf_to_model_input

        spectrogram = sigmf_to_model_input([Path(p) for p in sigmf], chosen, features)
        return positions_from_outputs(runtime.run(spectrogram.numpy()), origin)
    if sigmf is not None:  # a receiver-set model on a scenario's named stations
        from rfloc_core.data.sigmf_io import read_sigmf_recordings

        recordings = read_sigmf_recordings([Path(p) for p in sigmf], chosen, features)
        spectrogram = log_mel_features(recordings.iq[None], features, recordings.online[None])
        network_m = _network_m(chosen)
        outputs = runtime.run(spectrogram.numpy(), network_m, recordings.online[None].numpy())
        return positions_from_outputs(outputs, origin)
    from rfloc_core.data.datasets import SyntheticDataset
    from rfloc_core.data.splits import split_seed

    assert simulate is not None
    if simulate < 1:
        raise ConfigError(f"--simulate needs at least 1 sample, got {simulate}")
    if simulate > MAX_SIMULATED_PREDICTIONS:
        raise ConfigError(
            f"--simulate {simulate:,} is more than the {MAX_SIMULATED_PREDICTIONS:,} predictions "
            "a table holds; use `rfloc evaluate --n` for accuracy over many samples"
        )
    dataset = SyntheticDataset(chosen, simulate, split_seed(seed, "test"), features)
    rows: list[Prediction] = []
    for start in range(0, simulate, PREDICT_BATCH):
        items = dataset.batch(range(start, min(start + PREDICT_BATCH, simulate)))
        extra = [items["receivers_m"].numpy(), items["online"].numpy()] if receiver_set else []
        outputs = runtime.run(items["features"].numpy(), *extra)
        rows += positions_from_outputs(outputs, origin, items["position_m"].double().numpy())
    return rows


def _network_m(scenario: ScenarioConfig) -> np.ndarray:
    """``(1, receivers, 2)`` float32 east, north of the scenario's stations in metres."""
    from rfloc_core.data.geometry import receivers_enu_m

    return receivers_enu_m(scenario)[None, :, :2].astype(np.float32)
