"""Simulated transmissions written as labelled SigMF recording sets: what an operator's own
recordings look like, for rehearsing ``rfloc dataset import`` and for the sim-to-real check.

Set ``i`` is sample ``i`` of ``SyntheticDataset(scenario, n, seed)``: one recording per online
receiver (IQ in sqrt(mW), so no power offset), the transmitter's true position as the rfloc
annotation, and every recording starting at the same ``core:datetime``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.geometry import enu_to_geodetic, network_origin
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.data.sigmf_io import write_sigmf_recordings
from rfloc_core.data.sigmf_labels import TransmitterLabel, format_capture_start
from rfloc_core.data.simulator import Simulator

FIRST_CAPTURE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
SET_SPACING_S = 60.0
"""Set ``i`` starts ``i`` minutes after ``FIRST_CAPTURE``: distinct, reproducible times."""


def set_name(index: int) -> str:
    return f"set-{index:06d}"


def write_labelled_recording_sets(
    scenario: ScenarioConfig,
    n: int,
    out_dir: str | Path,
    *,
    seed: int = 0,
    feature_config: FeatureConfig | None = None,
    uncertainty_m: float = 0.0,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write samples ``0 .. n - 1`` as recording sets ``out_dir/set-000000/`` ...; returns the
    set folders. Refuses a scenario with random networks (their stations have no names)."""
    from rfloc_core.data.errors import ConfigError

    if scenario.random_network is not None:
        raise ConfigError(
            f"scenario {scenario.name!r} draws random networks; labelled recordings are written "
            "for a fixed network (a scenario with [[receivers]])"
        )
    feature_config = feature_config or FeatureConfig()
    simulator = Simulator(scenario, feature_config)
    origin = network_origin(scenario.receivers)
    up_m = scenario.area.transmitter_up_m
    folders = []
    for first in range(0, n, batch_size):
        indices = list(range(first, min(n, first + batch_size)))
        batch = simulator.simulate(indices, seed)
        position = batch.position_m.to("cpu").double().numpy()
        for row, index in enumerate(indices):
            latitude, longitude, altitude = enu_to_geodetic(
                [[position[row, 0], position[row, 1], up_m]], origin
            )
            label = TransmitterLabel(
                latitude_deg=float(latitude[0]),
                longitude_deg=float(longitude[0]),
                altitude_m=float(altitude[0]),
                uncertainty_m=uncertainty_m,
            )
            folder = Path(out_dir) / set_name(index)
            start = FIRST_CAPTURE + datetime.timedelta(seconds=SET_SPACING_S * index)
            write_sigmf_recordings(
                batch.iq[row],
                scenario,
                feature_config.sample_rate_hz,
                folder,
                online=batch.online[row],
                annotation=label.annotation(feature_config.n_samples),
                capture_datetime=format_capture_start(start),
            )
            folders.append(folder)
        if progress is not None:
            progress(len(indices))
    return folders
