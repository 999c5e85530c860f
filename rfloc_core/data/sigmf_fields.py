"""The fields of a SigMF recording rfloc reads, each checked by type and range where it is read,
so a bad value is one ``RecordingError`` naming the file and the field."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rfloc_core.data.errors import RecordingError

GEOLOCATION_KEY = "core:geolocation"
FREQUENCY_KEY = "core:frequency"
SAMPLE_START_KEY = "core:sample_start"
_NUMERIC_GLOBALS = ("core:num_channels", "core:sample_rate")
"""Read by the sigmf library itself as it opens a file, so checked before it does."""
MAX_POWER_OFFSET_DB = 300.0
"""Beyond this a power offset is no calibration: it would overflow float32 power."""


def open_recording(path: Path) -> Any:
    """The ``sigmf.SigMFFile`` of ``path``, after checking that its metadata is a SigMF object
    and that its data file is there."""
    import sigmf  # type: ignore[import-untyped]
    from sigmf.error import SigMFError  # type: ignore[import-untyped]

    if not path.is_file():
        raise RecordingError(f"SigMF metadata file {path} does not exist; check the path")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RecordingError(f"SigMF metadata {path} is not JSON text ({error}); fix it") from None
    if not (
        isinstance(document, dict)
        and isinstance(document.get("global"), dict)
        and isinstance(document.get("captures", []), list)
        and all(isinstance(capture, dict) for capture in document.get("captures", []))
    ):
        raise RecordingError(
            f"SigMF metadata {path} must be a JSON object with a global object and a captures "
            "list, as the SigMF specification says; fix it or record it again"
        )
    for key in _NUMERIC_GLOBALS:
        value = document["global"].get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise RecordingError(f"{path} has {key} {value!r}, but it must be a number")
    try:
        recording = sigmf.fromfile(path)
    except SigMFError as error:
        raise RecordingError(f"cannot read SigMF recording {path}: {error}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise RecordingError(f"SigMF metadata {path} is malformed ({error}); fix it") from None
    if recording.data_file is None or not Path(recording.data_file).is_file():
        raise RecordingError(
            f"SigMF recording {path} has no data file (expected "
            f"{path.with_suffix('.sigmf-data').name} beside it); copy the .sigmf-data file too"
        )
    return recording


def number_field(
    recording: Any,
    key: str,
    path: Path,
    *,
    default: float | None,
    minimum: float,
    maximum: float,
    integer: bool = False,
) -> float:
    """The global ``key`` as a finite number in ``[minimum, maximum]`` (an int if
    ``integer``), or ``default`` when absent."""
    value = recording.get_global_field(key)
    if value is None and default is not None:
        return default
    kind = "an integer" if integer else "a number"
    valid = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and (not integer or float(value).is_integer())
        and math.isfinite(value)
        and minimum <= value <= maximum
    )
    if not valid:
        raise RecordingError(
            f"{path} has {key} {value!r}, but it must be {kind} from {minimum:g} to {maximum:g}"
        )
    return float(value)


def geolocation(recording: Any, path: Path) -> tuple[float, float, float] | None:
    """Latitude and longitude in degrees and altitude in metres of the recording's
    ``core:geolocation`` (a GeoJSON Point), None where it has none; out-of-range or non-numeric
    coordinates are a ``RecordingError``."""
    point = recording.get_global_field(GEOLOCATION_KEY)
    if point is None:
        return None
    coordinates = point.get("coordinates") if isinstance(point, dict) else None
    if (
        not isinstance(coordinates, list | tuple)
        or not 2 <= len(coordinates) <= 3
        or not all(
            isinstance(value, int | float) and not isinstance(value, bool) for value in coordinates
        )
    ):
        raise RecordingError(
            f"{path} has {GEOLOCATION_KEY} {point!r}; expected a GeoJSON Point whose coordinates "
            "are numbers [longitude_deg, latitude_deg, altitude_m]"
        )
    longitude_deg, latitude_deg = float(coordinates[0]), float(coordinates[1])
    altitude_m = float(coordinates[2]) if len(coordinates) > 2 else 0.0
    if not (
        -90 <= latitude_deg <= 90 and -180 <= longitude_deg <= 180 and -500 <= altitude_m <= 9000
    ):
        raise RecordingError(
            f"{path} has {GEOLOCATION_KEY} [{longitude_deg}, {latitude_deg}, {altitude_m}] "
            "outside longitude -180..180, latitude -90..90 degrees and altitude -500..9000 m; "
            "GeoJSON puts the longitude first"
        )
    return latitude_deg, longitude_deg, altitude_m


def check_first_capture(
    recording: Any,
    path: Path,
    *,
    sample_count: int,
    sample_rate_hz: float,
    carrier_frequency_hz: float | None,
) -> None:
    """The first capture must start inside the data and, where the scenario's carrier is
    known, be tuned within half the sample rate of it (else the carrier is not in the band)."""
    captures = recording.get_captures()
    if not captures:
        return
    first = captures[0]
    start = first.get(SAMPLE_START_KEY, 0)
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < sample_count:
        raise RecordingError(
            f"{path} has a capture with {SAMPLE_START_KEY} {start!r}, but the data holds "
            f"{sample_count} samples; it must be an integer from 0 to {sample_count - 1}"
        )
    frequency = first.get(FREQUENCY_KEY)
    if frequency is None or carrier_frequency_hz is None:
        return
    if isinstance(frequency, bool) or not isinstance(frequency, int | float):
        raise RecordingError(f"{path} has {FREQUENCY_KEY} {frequency!r}; it must be in Hz")
    if abs(frequency - carrier_frequency_hz) > sample_rate_hz / 2:
        raise RecordingError(
            f"{path} was tuned to {FREQUENCY_KEY} {frequency:,.0f} Hz, but the scenario's carrier "
            f"is {carrier_frequency_hz:,.0f} Hz, outside the recording's ±{sample_rate_hz / 2:,.0f}"
            " Hz; give recordings of the scenario's transmitter, or a scenario of theirs"
        )
