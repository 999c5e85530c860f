"""SigMF round trip and every refusal of a bad recording."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rfloc_core.data.errors import RecordingError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.features import log_mel_features
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.data.sigmf_io import (
    read_sigmf_recordings,
    sigmf_to_model_input,
    write_sigmf_recordings,
)
from rfloc_core.data.simulator import Simulator


@pytest.fixture()
def recorded(tmp_path: Path, rural: ScenarioConfig) -> tuple[list[Path], torch.Tensor]:
    batch = Simulator(rural).simulate([1], seed=2)
    paths = write_sigmf_recordings(batch.iq[0], rural, 24_000.0, tmp_path, online=batch.online[0])
    direct = log_mel_features(batch.iq, FeatureConfig(), batch.online)
    return paths, direct


def test_round_trip_gives_the_direct_features(
    recorded: tuple[list[Path], torch.Tensor], rural: ScenarioConfig
) -> None:
    paths, direct = recorded
    from_files = sigmf_to_model_input(list(reversed(paths)), rural)
    assert from_files.shape == (1, 7, 128, 32)
    np.testing.assert_allclose(from_files.numpy(), direct.numpy(), atol=1e-5)


def test_missing_receivers_are_offline(
    recorded: tuple[list[Path], torch.Tensor], rural: ScenarioConfig
) -> None:
    paths, _ = recorded
    recordings = read_sigmf_recordings(paths[1:], rural)
    first = rural.receivers.index(
        next(r for r in rural.receivers if paths[0].name == f"recording-{r.name}.sigmf-meta")
    )
    assert not bool(recordings.online[first])
    features = sigmf_to_model_input(paths[1:], rural)
    assert bool((features[0, first] == FeatureConfig().offline_floor).all())


def _edit_meta(path: Path, **changes: object) -> None:
    meta = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            meta["global"].pop(key, None)
        else:
            meta["global"][key] = value
    path.write_text(json.dumps(meta))


def test_missing_data_file(
    recorded: tuple[list[Path], torch.Tensor], rural: ScenarioConfig
) -> None:
    paths, _ = recorded
    paths[0].with_suffix(".sigmf-data").unlink()
    with pytest.raises(RecordingError, match="no data file"):
        read_sigmf_recordings(paths, rural)


def test_wrong_datatype(recorded: tuple[list[Path], torch.Tensor], rural: ScenarioConfig) -> None:
    paths, _ = recorded
    _edit_meta(paths[0], **{"core:datatype": "ri16_le", "core:sha512": None})
    with pytest.raises(RecordingError, match=r"'ri16_le'.*complex float"):
        read_sigmf_recordings(paths, rural)


def test_mismatched_sample_rate(
    recorded: tuple[list[Path], torch.Tensor], rural: ScenarioConfig
) -> None:
    paths, _ = recorded
    _edit_meta(paths[2], **{"core:sample_rate": 48_000.0})
    with pytest.raises(RecordingError, match="sampled at 48000 Hz but the features need 24000 Hz"):
        read_sigmf_recordings(paths, rural)


def test_unknown_receiver_by_name_and_by_location(
    recorded: tuple[list[Path], torch.Tensor], rural: ScenarioConfig
) -> None:
    paths, _ = recorded
    _edit_meta(paths[0], **{"rfloc:receiver": "elsewhere"})
    with pytest.raises(RecordingError, match="receiver 'elsewhere'"):
        read_sigmf_recordings(paths, rural)
    far = {"type": "Point", "coordinates": [11.5, 48.5, 500.0]}
    _edit_meta(paths[0], **{"rfloc:receiver": None, "core:geolocation": far})
    with pytest.raises(RecordingError, match="unknown receiver"):
        read_sigmf_recordings(paths, rural)


def test_location_alone_identifies_the_receiver(
    recorded: tuple[list[Path], torch.Tensor], rural: ScenarioConfig
) -> None:
    paths, direct = recorded
    for path in paths:
        _edit_meta(path, **{"rfloc:receiver": None})
    np.testing.assert_allclose(
        sigmf_to_model_input(paths, rural).numpy(), direct.numpy(), atol=1e-5
    )


def test_duplicate_receiver_and_short_recording(
    recorded: tuple[list[Path], torch.Tensor], rural: ScenarioConfig
) -> None:
    paths, _ = recorded
    with pytest.raises(RecordingError, match="both from receiver"):
        read_sigmf_recordings([paths[0], paths[0]], rural)
    with pytest.raises(RecordingError, match="record longer"):
        read_sigmf_recordings(paths, rural, FeatureConfig(frames=64))


def test_corrupted_data_fails_its_hash(
    recorded: tuple[list[Path], torch.Tensor], rural: ScenarioConfig
) -> None:
    paths, _ = recorded
    data_path = paths[3].with_suffix(".sigmf-data")
    data = bytearray(data_path.read_bytes())
    data[100] ^= 0x01
    data_path.write_bytes(bytes(data))
    with pytest.raises(RecordingError, match="cannot read SigMF recording"):
        read_sigmf_recordings(paths, rural)


def test_a_receiver_set_input_needs_each_recordings_own_place(
    recorded: tuple[list[Path], torch.Tensor], rural: ScenarioConfig
) -> None:
    from rfloc_core.data.geometry import network_origin, receivers_enu_m
    from rfloc_core.data.sigmf_io import sigmf_to_set_input

    paths, _ = recorded
    network = sigmf_to_set_input(paths)
    assert network.spectrogram.shape[1] == len(paths) == network.receivers_m.shape[1]
    assert bool(network.online.all())
    used = [
        next(r for r in rural.receivers if p.name.endswith(f"-{r.name}.sigmf-meta")) for p in paths
    ]
    expected = receivers_enu_m(rural.model_copy(update={"receivers": tuple(used)}))[:, :2]
    np.testing.assert_allclose(network.receivers_m[0].numpy(), expected, atol=1e-3)
    assert network.origin == network_origin(used)
    _edit_meta(
        paths[1],
        **{"core:geolocation": json.loads(paths[0].read_text())["global"]["core:geolocation"]},
    )
    with pytest.raises(RecordingError, match="recorded at the same place"):
        sigmf_to_set_input(paths)
    _edit_meta(paths[1], **{"core:geolocation": {"type": "Point", "coordinates": [48.0, 100.0]}})
    with pytest.raises(RecordingError, match="GeoJSON puts the longitude first"):
        sigmf_to_set_input(paths)
    _edit_meta(paths[1], **{"core:geolocation": {"type": "Point", "coordinates": ["x", 1]}})
    with pytest.raises(RecordingError, match="coordinates are numbers"):
        sigmf_to_set_input(paths)
    _edit_meta(paths[1], **{"core:geolocation": None})
    with pytest.raises(RecordingError, match="has no core:geolocation"):
        sigmf_to_set_input(paths)
