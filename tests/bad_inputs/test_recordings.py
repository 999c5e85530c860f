"""Class 1c and 4: SigMF recordings whose metadata has the wrong types or disagrees with the
scenario, each refused in one line naming the recording and the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from rfloc_core.data import load_preset
from rfloc_core.data.sigmf_io import write_sigmf_recordings
from rfloc_core.data.simulator import Simulator
from tests.bad_inputs.conftest import Case, run_case


def _recordings(workspace: Path) -> list[Path]:
    rural = load_preset("vhf-rural")
    batch = Simulator(rural).simulate([3], seed=1)
    return write_sigmf_recordings(batch.iq[0], rural, 24_000.0, workspace / "rec")


def _editing(change: Callable[[dict], object]) -> Callable[[Path, Path], list[str]]:
    """A case whose first recording's metadata is ``change``d (it may return a new document)."""

    def make(workspace: Path, checkpoint: Path) -> list[str]:
        paths = _recordings(workspace)
        meta = json.loads(paths[0].read_text())
        changed = change(meta)
        paths[0].write_text(json.dumps(meta if changed is None else changed))
        return ["predict", str(checkpoint), *(f"--sigmf={path}" for path in paths)]

    return make


def _set_global(key: str, value: object) -> Callable[[dict], None]:
    return lambda meta: meta["global"].__setitem__(key, value)


def _set_capture(key: str, value: object) -> Callable[[dict], None]:
    return lambda meta: meta["captures"][0].__setitem__(key, value)


def _place_elsewhere(meta: dict) -> None:
    meta["global"]["core:geolocation"]["coordinates"] = [10.38209, 47.88451, 850.0]


CASES = [
    Case("metadata that is a JSON list", _editing(lambda meta: [meta]), ("rx1.sigmf-meta",)),
    Case(
        "a sample rate as text",
        _editing(_set_global("core:sample_rate", "24 kHz")),
        ("rx1.sigmf-meta", "core:sample_rate"),
    ),
    Case(
        "a channel count as text",
        _editing(_set_global("core:num_channels", "one")),
        ("rx1.sigmf-meta", "core:num_channels"),
    ),
    Case(
        "an unsupported datatype",
        _editing(_set_global("core:datatype", "ri16_le")),
        ("rx1.sigmf-meta", "ri16_le"),
    ),
    Case(
        "coordinates as text",
        _editing(
            lambda meta: meta["global"]["core:geolocation"].__setitem__(
                "coordinates", ["ten east", "47 north"]
            )
        ),
        ("rx1.sigmf-meta", "core:geolocation"),
    ),
    Case(
        "an absurd power offset",
        _editing(_set_global("rfloc:power_offset_db", 1e300)),
        ("rx1.sigmf-meta", "rfloc:power_offset_db"),
    ),
    Case(
        "another carrier frequency",
        _editing(_set_capture("core:frequency", 433.92e6)),
        ("rx1.sigmf-meta", "core:frequency"),
    ),
    Case(
        "a capture that starts beyond the data",
        _editing(_set_capture("core:sample_start", 10**9)),
        ("rx1.sigmf-meta", "core:sample_start"),
    ),
    Case(
        "a receiver name and a place that disagree",
        _editing(_place_elsewhere),
        ("rx1.sigmf-meta", "rx1", "core:geolocation"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_recordings(case: Case, checkpoint: Path, toy_site: Path, tmp_path: Path) -> None:
    run_case(case, checkpoint, toy_site, tmp_path)
