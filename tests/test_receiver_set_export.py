"""A receiver-set model exports to one ONNX file that takes any receiver count, validated
against PyTorch at several counts, and predicts from recordings that carry their positions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rfloc_core import create_model
from rfloc_core.checkpoint import save_checkpoint
from rfloc_core.data.networks import fixed_network_scenario
from rfloc_core.data.scenario import RandomNetwork, load_scenario
from rfloc_core.errors import RflocError
from rfloc_core.export.errors import ArtifactError
from rfloc_core.export.onnx_export import export_onnx, read_validation
from rfloc_core.export.predict import predict
from rfloc_core.export.runtimes import load_runtime
from rfloc_core.export.tensorrt_export import export_tensorrt

pytestmark = pytest.mark.usefixtures("toy_registry")

SIZE = (32, 32)


@pytest.fixture
def set_checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = create_model(
        "toynet",
        input_size=SIZE,
        fusion="attention",
        fusion_options={"width": 32, "layers": 1},
        head_options={"position_scale_m": 6_000.0},
        receiver_scale_m=6_000.0,
    )
    scenario = load_scenario("rss-random-networks")
    from rfloc_core.data.feature_config import FeatureConfig

    features = FeatureConfig(mel_bins=SIZE[0], frames=SIZE[1])
    return save_checkpoint(model.eval(), tmp_path / "ckpt", scenario=scenario, features=features)


@pytest.fixture
def set_onnx(set_checkpoint: Path, tmp_path: Path) -> Path:
    model = load_runtime(set_checkpoint).model
    scenario = load_scenario("rss-random-networks")
    metadata = {
        "rfloc.scenario": json.dumps(scenario.model_dump(mode="json")),
        "rfloc.features": json.dumps({"mel_bins": SIZE[0], "frames": SIZE[1]}),
    }
    return export_onnx(model, tmp_path / "set.onnx", metadata=metadata, batch_sizes=(1, 3))


def _inputs(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    generator = np.random.default_rng(seed)
    spectrogram = generator.uniform(-1, 1, (2, count, *SIZE)).astype(np.float32)
    receivers_m = (generator.normal(size=(2, count, 2)) * 8_000).astype(np.float32)
    online = generator.uniform(size=(2, count)) > 0.25
    online[:, 0] = True
    return spectrogram, receivers_m, online


def test_one_onnx_file_takes_3_5_7_and_12_receivers_each_validated(set_onnx, set_checkpoint):
    report = read_validation(set_onnx)
    assert report is not None and report["passed"]
    assert report["receiver_counts"] == [3, 5, 7, 12]
    onnx_model, torch_model = load_runtime(set_onnx), load_runtime(set_checkpoint)
    assert onnx_model.info.receivers is None
    assert onnx_model.info.receiver_set["fusion"] == "attention"
    for count in (3, 5, 7, 12):
        inputs = _inputs(count, seed=count)
        got, expected = onnx_model.run(*inputs), torch_model.run(*inputs)
        for name, value in expected.items():
            np.testing.assert_allclose(got[name], value, rtol=1e-4, atol=1e-2 * count)
        poisoned = tuple(value.copy() for value in inputs)
        first_offline = np.argwhere(~inputs[2])
        if len(first_offline):  # an offline slot holding NaN changes nothing in the file
            row, slot = first_offline[0]
            poisoned[0][row, slot], poisoned[1][row, slot] = np.nan, np.inf
            for name, value in onnx_model.run(*poisoned).items():
                np.testing.assert_allclose(value, got[name], rtol=1e-6, atol=1e-6)
        order = np.random.default_rng(count).permutation(count)
        shuffled = onnx_model.run(*(value[:, order] for value in inputs))
        position = got["position_m"]
        scale = np.abs(position).max()
        assert np.abs(shuffled["position_m"] - position).max() <= 1e-5 * scale + 1e-3


def test_the_runtimes_say_which_inputs_a_model_takes(set_onnx):
    runtime = load_runtime(set_onnx)
    spectrogram, receivers_m, online = _inputs(4, seed=1)
    with pytest.raises(ArtifactError, match="receiver-set model: give each receiver's position"):
        runtime.run(spectrogram)
    with pytest.raises(ArtifactError, match=r"needs receivers_m \(2, 4, 2\)"):
        runtime.run(spectrogram, receivers_m[:, :3], online)
    with pytest.raises(ArtifactError, match="at least one receiver online"):
        runtime.run(spectrogram, receivers_m, np.zeros_like(online))


def test_predict_places_recordings_by_their_own_geolocation(set_onnx, set_checkpoint, tmp_path):
    from rfloc_core.data.feature_config import FeatureConfig
    from rfloc_core.data.features import log_mel_features
    from rfloc_core.data.geometry import receivers_enu_m
    from rfloc_core.data.sigmf_io import write_sigmf_recordings
    from rfloc_core.data.simulator import Simulator

    network = RandomNetwork(count_min=5, count_max=5, half_width_m=18e3, min_spacing_m=3e3)
    scenario = fixed_network_scenario(load_scenario("rss-random-networks"), network, seed=5)
    features = FeatureConfig(mel_bins=SIZE[0], frames=SIZE[1])
    simulator = Simulator(scenario, features)
    batch = simulator.simulate([2], seed=9)
    paths = write_sigmf_recordings(batch.iq[0], scenario, features.sample_rate_hz, tmp_path / "rec")
    (from_onnx,) = predict(set_onnx, sigmf=paths)
    (shuffled,) = predict(set_checkpoint, sigmf=list(reversed(paths)))
    direct = load_runtime(set_checkpoint).run(
        log_mel_features(batch.iq, features, batch.online).numpy(),
        receivers_enu_m(scenario)[None, :, :2].astype(np.float32),
        batch.online.numpy(),
    )["position_m"][0]
    assert (from_onnx.east_m, from_onnx.north_m) == pytest.approx(tuple(direct), abs=1.0)
    assert (shuffled.east_m, shuffled.north_m) == pytest.approx(tuple(direct), abs=1.0)


def test_predict_simulates_random_networks_for_a_set_model(set_onnx):
    predictions = predict(set_onnx, simulate=4, seed=2)
    assert len(predictions) == 4
    assert all(p.error_m is not None and np.isfinite(p.error_m) for p in predictions)


def test_tensorrt_refuses_a_receiver_set_model_and_names_the_onnx_route(set_checkpoint, tmp_path):
    model = load_runtime(set_checkpoint).model
    with pytest.raises(RflocError, match="export to ONNX with --format onnx"):
        export_tensorrt(model, tmp_path / "set.engine")
