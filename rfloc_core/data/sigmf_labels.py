"""Labelled SigMF recordings: the transmitter's true position as an rfloc annotation, and the
capture time that tells whether a set's recordings are of the same moment.

The convention (docs/data.md, "Bring your own recordings"): a **recording set** is a folder
holding one SigMF recording per receiver of one transmission, each with its receiver's
``core:geolocation``. Where the transmitter's position is known, an annotation over the
recording carries it::

    {"core:sample_start": 0, "core:sample_count": N,
     "rfloc:transmitter_latitude_deg": 47.91, "rfloc:transmitter_longitude_deg": 10.70,
     "rfloc:transmitter_altitude_m": 0.0, "rfloc:position_uncertainty_m": 15.0}

Every recording of a set that carries the annotation must carry the same position. The first
capture's ``core:datetime`` (ISO 8601, UTC) is when the recording starts.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rfloc_core.data.errors import RecordingError

LATITUDE_KEY = "rfloc:transmitter_latitude_deg"
LONGITUDE_KEY = "rfloc:transmitter_longitude_deg"
ALTITUDE_KEY = "rfloc:transmitter_altitude_m"
UNCERTAINTY_KEY = "rfloc:position_uncertainty_m"
DATETIME_KEY = "core:datetime"
MAX_UNCERTAINTY_M = 1e6


@dataclass(frozen=True)
class TransmitterLabel:
    latitude_deg: float
    longitude_deg: float
    altitude_m: float
    uncertainty_m: float
    """One standard deviation of the surveyed or GPS position, metres."""

    def annotation(self, sample_count: int) -> dict[str, Any]:
        """The SigMF annotation that carries this label over ``sample_count`` samples."""
        return {
            "core:sample_start": 0,
            "core:sample_count": int(sample_count),
            LATITUDE_KEY: self.latitude_deg,
            LONGITUDE_KEY: self.longitude_deg,
            ALTITUDE_KEY: self.altitude_m,
            UNCERTAINTY_KEY: self.uncertainty_m,
        }


def _number(annotation: dict[str, Any], key: str, path: Path, low: float, high: float) -> float:
    value = annotation.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecordingError(
            f"{path} has a transmitter annotation whose {key} is {value!r}; "
            f"it must be a number from {low:g} to {high:g}"
        )
    if not low <= value <= high:
        raise RecordingError(
            f"{path} has {key} {value!r} in its transmitter annotation, outside {low:g} to "
            f"{high:g}; fix the label"
        )
    return float(value)


def transmitter_label(recording: Any, path: Path) -> TransmitterLabel | None:
    """The transmitter label of a recording, None where it carries none; a label with a
    missing, non-numeric or out-of-range field is a ``RecordingError`` naming the field."""
    labels = [
        annotation
        for annotation in recording.get_annotations()
        if isinstance(annotation, dict)
        and (LATITUDE_KEY in annotation or LONGITUDE_KEY in annotation)
    ]
    if not labels:
        return None
    if len(labels) > 1:
        raise RecordingError(
            f"{path} carries {len(labels)} transmitter annotations; a recording of one "
            "transmission carries one"
        )
    label = labels[0]
    return TransmitterLabel(
        latitude_deg=_number(label, LATITUDE_KEY, path, -90.0, 90.0),
        longitude_deg=_number(label, LONGITUDE_KEY, path, -180.0, 180.0),
        altitude_m=_number(label, ALTITUDE_KEY, path, -500.0, 9000.0)
        if ALTITUDE_KEY in label
        else 0.0,
        uncertainty_m=_number(label, UNCERTAINTY_KEY, path, 0.0, MAX_UNCERTAINTY_M)
        if UNCERTAINTY_KEY in label
        else 0.0,
    )


def capture_start(recording: Any, path: Path) -> datetime.datetime | None:
    """When the recording's first capture starts (UTC), None where it does not say."""
    captures = recording.get_captures()
    value = captures[0].get(DATETIME_KEY) if captures else None
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordingError(f"{path} has {DATETIME_KEY} {value!r}; it must be ISO 8601 text")
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordingError(
            f"{path} has {DATETIME_KEY} {value!r}, which is not ISO 8601 (such as "
            "2026-12-03T09:30:00.000000Z); fix it"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def format_capture_start(moment: datetime.datetime) -> str:
    """``moment`` as SigMF writes ``core:datetime``: UTC, microseconds, a trailing Z."""
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
