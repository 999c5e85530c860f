"""SigMF recordings in and out: one ``.sigmf-meta``/``.sigmf-data`` pair per receiver.

What the reader expects of each recording (the writer produces exactly this):

* ``core:datatype`` a complex float type (``cf32_le`` preferred; ``cf32_be``, ``cf64_*`` too),
  one channel, ``core:sample_rate`` equal to the feature config's ``sample_rate_hz``;
* samples in sqrt(mW) at the receiver input, or the optional global ``rfloc:power_offset_db``
  (dB added to ``10 log10 |x|²`` to get dBm) for a calibrated SDR that records in its own units;
* the receiver named by the global ``rfloc:receiver`` (a scenario receiver name), or else
  located by ``core:geolocation``, a GeoJSON Point ``[longitude_deg, latitude_deg, altitude_m]``
  within ``location_tolerance_m`` of exactly one scenario receiver.

Receivers of the scenario with no recording are offline: their channels get the floor value.
A receiver-set model needs no scenario: ``sigmf_to_set_input`` places every recording by its
``core:geolocation`` alone, in a frame centred on the recordings' receivers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rfloc_core.atomic import atomic_path, write_text_atomic
from rfloc_core.data.errors import RecordingError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.features import log_mel_features
from rfloc_core.data.geometry import (
    EnuOrigin,
    geodetic_to_enu_m,
    network_origin,
    receivers_enu_m,
)
from rfloc_core.data.scenario import Receiver, ScenarioConfig
from rfloc_core.data.sigmf_fields import (
    GEOLOCATION_KEY,
    MAX_POWER_OFFSET_DB,
    check_first_capture,
    geolocation,
    number_field,
    open_recording,
)

DATATYPE_KEY = "core:datatype"
SAMPLE_RATE_KEY = "core:sample_rate"
NUM_CHANNELS_KEY = "core:num_channels"
RECEIVER_KEY = "rfloc:receiver"
POWER_OFFSET_KEY = "rfloc:power_offset_db"
EXTENSION = {"name": "rfloc", "version": "1.0.0", "optional": True}
ACCEPTED_DATATYPES = ("cf32_le", "cf32_be", "cf64_le", "cf64_be")


@dataclass(frozen=True)
class RecordingSet:
    iq: torch.Tensor
    """(receivers, samples) complex64 in sqrt(mW), scenario order; zeros where offline."""
    online: torch.Tensor
    """(receivers,) bool: True where a recording was given."""
    sample_rate_hz: float
    sources: tuple[Path | None, ...]
    """The metadata file used for each receiver, or None."""


def _meta_path(path: str | Path) -> Path:
    path = Path(path)
    for suffix in (".sigmf-meta", ".sigmf-data"):
        if path.name.endswith(suffix):
            return path.with_name(path.name.removesuffix(suffix) + ".sigmf-meta")
    return path.with_name(path.name + ".sigmf-meta")


def write_sigmf_recordings(
    iq: torch.Tensor,
    scenario: ScenarioConfig,
    sample_rate_hz: float,
    out_dir: str | Path,
    stem: str = "recording",
    online: torch.Tensor | None = None,
    *,
    annotation: dict[str, Any] | None = None,
    capture_datetime: str | None = None,
) -> list[Path]:
    """Write ``(receivers, samples)`` IQ in sqrt(mW) as one cf32_le recording per receiver.

    Receivers with ``online`` False get no recording. ``annotation`` (such as a transmitter
    label, ``sigmf_labels``) is added to every recording, ``capture_datetime`` to its capture.
    Returns the metadata paths; data and metadata files are each written atomically.
    """
    import sigmf  # type: ignore[import-untyped]

    samples = iq.detach().to("cpu", torch.complex64).numpy()
    if samples.ndim != 2 or samples.shape[0] != scenario.n_receivers:
        raise RecordingError(
            f"iq must be (receivers={scenario.n_receivers}, samples), got {samples.shape}"
        )
    out_dir = Path(out_dir)
    paths = []
    present = [True] * len(samples) if online is None else [bool(x) for x in online.tolist()]
    for receiver, row, keep in zip(scenario.receivers, samples, present, strict=True):
        if not keep:
            continue
        base = out_dir / f"{stem}-{receiver.name}"
        data_path = base.with_name(base.name + ".sigmf-data")
        with atomic_path(data_path) as temporary:
            temporary.write_bytes(row.astype("<c8").tobytes())
        recording = sigmf.SigMFFile(
            data_file=data_path,
            global_info={
                DATATYPE_KEY: "cf32_le",
                SAMPLE_RATE_KEY: float(sample_rate_hz),
                "core:description": f"rfloc receiver {receiver.name}",
                GEOLOCATION_KEY: {
                    "type": "Point",
                    "coordinates": [
                        receiver.longitude_deg,
                        receiver.latitude_deg,
                        receiver.altitude_m,
                    ],
                },
                "core:extensions": [EXTENSION],
                RECEIVER_KEY: receiver.name,
            },
        )
        capture: dict[str, Any] = {"core:frequency": scenario.carrier_frequency_hz}
        if capture_datetime is not None:
            capture["core:datetime"] = capture_datetime
        recording.add_capture(0, metadata=capture)
        if annotation is not None:
            extra = {k: v for k, v in annotation.items() if not k.startswith("core:sample_")}
            recording.add_annotation(0, int(annotation["core:sample_count"]), metadata=extra)
        recording.validate()
        meta_path = base.with_name(base.name + ".sigmf-meta")
        write_text_atomic(meta_path, recording.dumps(pretty=True) + "\n")
        paths.append(meta_path)
    return paths


def match_receiver(recording: Any, path: Path, scenario: ScenarioConfig, tolerance_m: float) -> int:

    names = [receiver.name for receiver in scenario.receivers]
    name = recording.get_global_field(RECEIVER_KEY)
    located = geolocation(recording, path)
    if name is not None:
        if name not in names:
            raise RecordingError(
                f"{path} is from receiver {name!r}, which scenario {scenario.name!r} does not "
                f"have; its receivers are {', '.join(names)}"
            )
        if located is not None:
            _check_named_place(scenario, names.index(name), located, path, tolerance_m)
        return names.index(name)
    if located is None:
        raise RecordingError(
            f"{path} names no receiver: add the global {RECEIVER_KEY!r} or a core:geolocation "
            "GeoJSON Point [longitude, latitude, altitude]"
        )
    latitude_deg, longitude_deg, altitude_m = located
    origin = network_origin(scenario.receivers)
    where_m = geodetic_to_enu_m(latitude_deg, longitude_deg, altitude_m, origin)
    distance_m = np.linalg.norm(receivers_enu_m(scenario) - where_m, axis=-1)
    nearest = int(np.argmin(distance_m))
    if distance_m[nearest] > tolerance_m:
        raise RecordingError(
            f"{path} was recorded at lat {latitude_deg}, lon {longitude_deg}, "
            f"{distance_m[nearest]:.0f} m from the nearest receiver of scenario "
            f"{scenario.name!r} (tolerance {tolerance_m:g} m); it is an unknown receiver"
        )
    return nearest


def _check_named_place(
    scenario: ScenarioConfig,
    index: int,
    located: tuple[float, float, float],
    path: Path,
    tolerance_m: float,
) -> None:
    origin = network_origin(scenario.receivers)
    where_m = geodetic_to_enu_m(*located, origin)
    distance_m = float(np.linalg.norm(receivers_enu_m(scenario)[index] - where_m))
    if distance_m > tolerance_m:
        name = scenario.receivers[index].name
        raise RecordingError(
            f"{path} names receiver {name!r} but its {GEOLOCATION_KEY} lies {distance_m:,.0f} m "
            f"from {name} (tolerance {tolerance_m:g} m); correct the name or the position"
        )


def read_samples(
    given: str | Path,
    feature_config: FeatureConfig,
    start_sample: int,
    carrier_frequency_hz: float | None,
) -> tuple[Any, Path, torch.Tensor]:
    """The recording, its metadata path and ``feature_config.n_samples`` IQ samples in
    sqrt(mW) from ``start_sample``, after checking its type, channels, rate, tuning and
    length."""
    n = feature_config.n_samples
    path = _meta_path(given)
    recording = open_recording(path)
    datatype = recording.get_global_field(DATATYPE_KEY)
    channels = number_field(
        recording, NUM_CHANNELS_KEY, path, default=1, minimum=1, maximum=4096, integer=True
    )
    if datatype not in ACCEPTED_DATATYPES or channels != 1:
        raise RecordingError(
            f"{path} holds {datatype!r} samples in {channels} channel(s), "
            f"but rfloc needs one channel of complex float ({', '.join(ACCEPTED_DATATYPES)}); "
            "convert it, e.g. with sigmf's tools"
        )
    rate_hz = number_field(
        recording, SAMPLE_RATE_KEY, path, default=None, minimum=1.0, maximum=1e12
    )
    if not math.isclose(rate_hz, feature_config.sample_rate_hz, rel_tol=1e-9):
        raise RecordingError(
            f"{path} is sampled at {rate_hz:g} Hz but the features need "
            f"{feature_config.sample_rate_hz:g} Hz; resample all recordings to that rate"
        )
    check_first_capture(
        recording,
        path,
        sample_count=recording.sample_count,
        sample_rate_hz=rate_hz,
        carrier_frequency_hz=carrier_frequency_hz,
    )
    if recording.sample_count < start_sample + n:
        raise RecordingError(
            f"{path} has {recording.sample_count} samples but the features need {n} "
            f"from sample {start_sample}; record longer or lower frames"
        )
    samples = np.asarray(recording.read_samples(start_sample, n), dtype=np.complex64)
    offset_db = number_field(
        recording,
        POWER_OFFSET_KEY,
        path,
        default=0.0,
        minimum=-MAX_POWER_OFFSET_DB,
        maximum=MAX_POWER_OFFSET_DB,
    )
    iq = torch.from_numpy(samples * np.float32(10.0 ** (offset_db / 20.0)))
    return recording, path, iq


def read_sigmf_recordings(
    paths: Sequence[str | Path],
    scenario: ScenarioConfig,
    feature_config: FeatureConfig | None = None,
    *,
    location_tolerance_m: float = 100.0,
    start_sample: int = 0,
) -> RecordingSet:
    """Read one recording per receiver into ``(receivers, n_samples)`` IQ in scenario order."""

    feature_config = feature_config or FeatureConfig()
    iq = torch.zeros(scenario.n_receivers, feature_config.n_samples, dtype=torch.complex64)
    sources: list[Path | None] = [None] * scenario.n_receivers
    for given in paths:
        recording, path, samples = read_samples(
            given, feature_config, start_sample, scenario.carrier_frequency_hz
        )
        receiver = match_receiver(recording, path, scenario, location_tolerance_m)
        if sources[receiver] is not None:
            raise RecordingError(
                f"{path} and {sources[receiver]} are both from receiver "
                f"{scenario.receivers[receiver].name!r}; pass one recording per receiver"
            )
        iq[receiver] = samples
        sources[receiver] = path
    online = torch.tensor([source is not None for source in sources])
    return RecordingSet(iq, online, feature_config.sample_rate_hz, tuple(sources))


@dataclass(frozen=True)
class NetworkInput:
    """A receiver-set model's input from recordings that carry their own positions."""

    spectrogram: torch.Tensor
    """(1, receivers, mel_bins, frames) in the recordings' order."""
    receivers_m: torch.Tensor
    """(1, receivers, 2) east, north in metres, origin at the receivers' centroid."""
    online: torch.Tensor
    """(1, receivers) bool, all True: every recording was heard."""
    origin: EnuOrigin
    """The ENU frame's origin, to put predicted positions back on the map."""


def _same_place(first: Receiver, second: Receiver, tolerance_m: float = 1.0) -> bool:
    origin = network_origin([first])
    where_m = geodetic_to_enu_m(
        second.latitude_deg, second.longitude_deg, second.altitude_m, origin
    )
    return bool(np.linalg.norm(where_m) <= tolerance_m)


def sigmf_to_set_input(
    paths: Sequence[str | Path],
    feature_config: FeatureConfig | None = None,
    *,
    start_sample: int = 0,
    carrier_frequency_hz: float | None = None,
) -> NetworkInput:
    """Input of a receiver-set model from one recording per receiver, each placed by its
    ``core:geolocation`` (no scenario needed): any receivers, in any order. With
    ``carrier_frequency_hz``, recordings tuned elsewhere are refused."""
    feature_config = feature_config or FeatureConfig()
    if not paths:
        raise RecordingError("give at least one SigMF recording, one per receiver")
    rows: list[torch.Tensor] = []
    where: list[Receiver] = []
    sources: list[Path] = []
    for given in paths:
        recording, path, samples = read_samples(
            given, feature_config, start_sample, carrier_frequency_hz
        )
        located = geolocation(recording, path)
        if located is None:
            raise RecordingError(
                f"{path} has no core:geolocation; a receiver-set model needs every receiver's "
                "position as a GeoJSON Point [longitude, latitude, altitude] in its metadata"
            )
        receiver = Receiver(
            name=f"rx{len(where) + 1}",
            latitude_deg=located[0],
            longitude_deg=located[1],
            altitude_m=located[2],
        )
        same = next((i for i, r in enumerate(where) if _same_place(r, receiver)), None)
        if same is not None:
            raise RecordingError(
                f"{path} and {sources[same]} were recorded at the same place; pass one recording "
                "per receiver"
            )
        where.append(receiver)
        sources.append(path)
        rows.append(samples)
    origin = network_origin(where)
    enu_m = geodetic_to_enu_m(
        [r.latitude_deg for r in where],
        [r.longitude_deg for r in where],
        [r.altitude_m for r in where],
        origin,
    )
    iq = torch.stack(rows)[None]
    online = torch.ones(1, len(rows), dtype=torch.bool)
    return NetworkInput(
        spectrogram=log_mel_features(iq, feature_config, online),
        receivers_m=torch.as_tensor(enu_m[None, :, :2], dtype=torch.float32),
        online=online,
        origin=origin,
    )


def sigmf_to_model_input(
    paths: Sequence[str | Path],
    scenario: ScenarioConfig,
    feature_config: FeatureConfig | None = None,
    **options: Any,
) -> torch.Tensor:
    """``(1, receivers, mel_bins, frames)`` model input from one recording per receiver."""
    feature_config = feature_config or FeatureConfig()
    recordings = read_sigmf_recordings(paths, scenario, feature_config, **options)
    return log_mel_features(recordings.iq[None], feature_config, recordings.online[None])
