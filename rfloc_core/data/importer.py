"""``import_recording_sets``: a folder of labelled SigMF recording sets -> an rfloc dataset.

Each sub-folder of the source is one recording set: one SigMF recording per receiver of one
transmission, with the transmitter's position in an rfloc annotation (``sigmf_labels``). A set
becomes one sample: the log-mel features of its recordings (receivers without a recording are
offline), the RSS each receiver measured, and the labelled position in the scenario's ENU
frame. Sets that cannot be used are skipped, each with its reason: too few receivers, a
recording rfloc cannot read (wrong sample rate, type, tuning, length, an unknown receiver), no
label or disagreeing labels, recordings that start too far apart.

Quantities a recording cannot tell (transmit power, received power without the noise, signal
type) are stored as NaN, or -1 for the signal type.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rfloc_core.data.datasets import ITEM_DTYPES, Item
from rfloc_core.data.errors import DatasetError, RecordingError
from rfloc_core.data.estimators import measure_rss_dbm
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.features import log_mel_features
from rfloc_core.data.geometry import geodetic_to_enu_m, network_origin, receivers_enu_m
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.data.sigmf_io import match_receiver, read_samples
from rfloc_core.data.sigmf_labels import TransmitterLabel, capture_start, transmitter_label

DEFAULT_MAX_CLOCK_OFFSET_S = 0.01
"""Recordings of one set must start within this of each other: a tenth of the default
feature window (93 ms), so every receiver's window holds the same part of the transmission."""


@dataclass(frozen=True)
class Skipped:
    recording_set: str
    reason: str


@dataclass(frozen=True)
class ImportedSet:
    name: str
    iq: torch.Tensor
    """(receivers, n_samples) complex64 in sqrt(mW), scenario order; zeros where offline."""
    online: torch.Tensor
    label: TransmitterLabel


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    manifest: Path | None = None


def recording_sets(source: Path) -> list[Path]:
    """The recording-set folders of ``source``, in name order."""
    if not source.is_dir():
        raise DatasetError(
            f"{source} is not a folder; give the folder that holds one sub-folder per "
            "recording set (one SigMF recording per receiver of one transmission)"
        )
    return sorted(path for path in source.iterdir() if path.is_dir())


def read_recording_set(
    folder: Path,
    scenario: ScenarioConfig,
    feature_config: FeatureConfig,
    *,
    min_receivers: int,
    max_clock_offset_s: float,
    location_tolerance_m: float = 100.0,
) -> ImportedSet | Skipped:
    """One recording set, or why it is skipped."""
    metas = sorted(folder.glob("*.sigmf-meta"))
    if not metas:
        return Skipped(folder.name, "no .sigmf-meta recordings in it")
    count = scenario.n_receivers
    iq = torch.zeros(count, feature_config.n_samples, dtype=torch.complex64)
    sources: list[Path | None] = [None] * count
    labels: list[tuple[Path, TransmitterLabel]] = []
    starts: list[tuple[Path, datetime.datetime | None]] = []
    for meta in metas:
        try:
            recording, path, samples = read_samples(
                meta, feature_config, 0, scenario.carrier_frequency_hz
            )
            receiver = match_receiver(recording, path, scenario, location_tolerance_m)
            label = transmitter_label(recording, path)
            starts.append((path, capture_start(recording, path)))
        except RecordingError as error:
            return Skipped(folder.name, str(error))
        if sources[receiver] is not None:
            name = scenario.receivers[receiver].name
            return Skipped(
                folder.name, f"two recordings of receiver {name}: {sources[receiver]} and {path}"
            )
        iq[receiver], sources[receiver] = samples, path
        if label is not None:
            labels.append((path, label))
    missing = [
        r.name for r, source in zip(scenario.receivers, sources, strict=True) if source is None
    ]
    if count - len(missing) < min_receivers:
        return Skipped(
            folder.name,
            f"{count - len(missing)} of {count} receivers recorded it, fewer than "
            f"{min_receivers} (missing {', '.join(missing)})",
        )
    if not labels:
        return Skipped(
            folder.name,
            "no recording carries the transmitter's position (an rfloc:transmitter_* annotation)",
        )
    first_path, label = labels[0]
    for path, other in labels[1:]:
        if (other.latitude_deg, other.longitude_deg, other.altitude_m) != (
            label.latitude_deg,
            label.longitude_deg,
            label.altitude_m,
        ):
            return Skipped(
                folder.name, f"{path} and {first_path} label different transmitter positions"
            )
    known = [(path, moment) for path, moment in starts if moment is not None]
    if known and len(known) < len(starts):
        return Skipped(
            folder.name,
            "some recordings carry a core:datetime and some do not, so their clocks cannot "
            "be compared",
        )
    if known:
        moments = [moment for _, moment in known]
        spread_s = (max(moments) - min(moments)).total_seconds()
        if spread_s > max_clock_offset_s:
            return Skipped(
                folder.name,
                f"its recordings start {spread_s * 1e3:,.1f} ms apart, more than the "
                f"{max_clock_offset_s * 1e3:g} ms bound (--max-clock-offset-s)",
            )
    online = torch.tensor([source is not None for source in sources])
    return ImportedSet(folder.name, iq, online, label)


def set_items(
    imported: list[ImportedSet],
    scenario: ScenarioConfig,
    feature_config: FeatureConfig,
    first_index: int,
) -> Item:
    """Batched items ``(len(imported), ...)`` of recording sets, indices from ``first_index``."""
    from rfloc_core.data.channel import thermal_noise_density_dbm_per_hz

    iq = torch.stack([entry.iq for entry in imported])
    online = torch.stack([entry.online for entry in imported])
    hardware = scenario.receiver_hardware
    origin = network_origin(scenario.receivers)
    labels = [entry.label for entry in imported]
    position_m = geodetic_to_enu_m(
        [label.latitude_deg for label in labels],
        [label.longitude_deg for label in labels],
        [label.altitude_m for label in labels],
        origin,
    )[:, :2]
    batch = len(imported)
    network_m = torch.as_tensor(receivers_enu_m(scenario)[:, :2])
    values: dict[str, Any] = {
        "features": log_mel_features(iq, feature_config, online),
        "position_m": torch.as_tensor(position_m),
        "tx_power_dbm": torch.full((batch,), float("nan")),
        "received_power_dbm": torch.full(online.shape, float("nan")),
        "online": online,
        "signal_type": torch.full((batch,), -1),
        "index": torch.arange(first_index, first_index + batch),
        "receivers_m": network_m.expand(batch, -1, -1),
        "measured_rss_dbm": measure_rss_dbm(
            iq,
            feature_config.sample_rate_hz,
            hardware.bandwidth_hz,
            thermal_noise_density_dbm_per_hz(hardware.noise_figure_db),
        ),
    }
    return {key: values[key].to(ITEM_DTYPES[key]) for key in ITEM_DTYPES}


def import_recording_sets(
    source: str | Path,
    out_dir: str | Path,
    scenario: ScenarioConfig,
    feature_config: FeatureConfig | None = None,
    *,
    min_receivers: int | None = None,
    max_clock_offset_s: float = DEFAULT_MAX_CLOCK_OFFSET_S,
    shard_size: int = 4096,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every usable recording set of ``source`` into a dataset in ``out_dir``; the
    report lists what was imported and what was skipped, with the reason. Every receiver of
    the scenario must have recorded a set unless ``min_receivers`` says fewer will do."""
    from rfloc_core.data.storage import write_dataset

    if scenario.random_network is not None:
        raise DatasetError(
            f"scenario {scenario.name!r} draws random networks; importing needs the network "
            "the recordings came from, as a scenario with [[receivers]]"
        )
    feature_config = feature_config or FeatureConfig()
    needed = scenario.n_receivers if min_receivers is None else min_receivers
    read = functools.partial(
        read_recording_set,
        scenario=scenario,
        feature_config=feature_config,
        min_receivers=needed,
        max_clock_offset_s=max_clock_offset_s,
    )
    report = ImportReport()
    usable: list[Path] = []
    uncertainty_m: list[float] = []
    for folder in recording_sets(Path(source)):
        result = read(folder)
        if isinstance(result, Skipped):
            report.skipped.append(result)
        else:
            usable.append(folder)
            report.imported.append(folder.name)
            uncertainty_m.append(result.label.uncertainty_m)
        if progress is not None:
            progress(1)
    if not usable:
        reasons = "; ".join(f"{s.recording_set}: {s.reason}" for s in report.skipped[:3])
        raise DatasetError(
            f"no recording set of {source} could be imported ({len(report.skipped)} skipped"
            + (f"; {reasons}" if reasons else "")
            + ")"
        )

    # The sets are read again here rather than kept from the check above: the shard names need
    # the count before anything is written, and holding every set's IQ would cost memory.
    def batch(first: int, stop: int) -> Item:
        sets = []
        for folder in usable[first:stop]:
            result = read(folder)
            if isinstance(result, Skipped):
                raise DatasetError(
                    f"recording set {folder} changed while it was imported ({result.reason}); "
                    "import again once nothing writes to the source folder"
                )
            sets.append(result)
        return set_items(sets, scenario, feature_config, first)

    report.manifest = write_dataset(
        Path(out_dir),
        len(usable),
        batch,
        head={
            "scenario": scenario.model_dump(mode="json"),
            "feature_config": feature_config.model_dump(mode="json"),
            "seed": 0,
        },
        tail={
            "source": "sigmf-import",
            "recording_sets": report.imported,
            "position_uncertainty_m": uncertainty_m,
            "skipped": [
                {"recording_set": s.recording_set, "reason": s.reason} for s in report.skipped
            ],
        },
        shard_size=shard_size,
        batch_size=256,
        overwrite=overwrite,
    )
    return report
