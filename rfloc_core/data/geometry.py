"""Latitude/longitude/altitude <-> the network's local ENU frame, through pymap3d (WGS84).

The ENU origin is the receivers' centroid: mean latitude, mean longitude, mean altitude.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pymap3d  # type: ignore[import-untyped]

from rfloc_core.data.scenario import Receiver, ScenarioConfig

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class EnuOrigin:
    latitude_deg: float
    longitude_deg: float
    altitude_m: float


def network_origin(receivers: Sequence[Receiver]) -> EnuOrigin:
    """The centroid of the receivers' geodetic coordinates (the ENU origin)."""
    return EnuOrigin(
        latitude_deg=float(np.mean([r.latitude_deg for r in receivers])),
        longitude_deg=float(np.mean([r.longitude_deg for r in receivers])),
        altitude_m=float(np.mean([r.altitude_m for r in receivers])),
    )


def geodetic_to_enu_m(
    latitude_deg: npt.ArrayLike,
    longitude_deg: npt.ArrayLike,
    altitude_m: npt.ArrayLike,
    origin: EnuOrigin,
) -> FloatArray:
    """``(..., 3)`` east, north, up in metres relative to ``origin``."""
    east, north, up = pymap3d.geodetic2enu(
        np.asarray(latitude_deg, dtype=np.float64),
        np.asarray(longitude_deg, dtype=np.float64),
        np.asarray(altitude_m, dtype=np.float64),
        origin.latitude_deg,
        origin.longitude_deg,
        origin.altitude_m,
    )
    return np.stack(np.broadcast_arrays(east, north, up), axis=-1).astype(np.float64)


def enu_to_geodetic(
    enu_m: npt.ArrayLike, origin: EnuOrigin
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Latitude (deg), longitude (deg), altitude (m) of ``(..., 2 or 3)`` ENU points in metres."""
    points = np.asarray(enu_m, dtype=np.float64)
    up = points[..., 2] if points.shape[-1] == 3 else np.zeros(points.shape[:-1])
    lat, lon, alt = pymap3d.enu2geodetic(
        points[..., 0],
        points[..., 1],
        up,
        origin.latitude_deg,
        origin.longitude_deg,
        origin.altitude_m,
    )
    return np.asarray(lat), np.asarray(lon), np.asarray(alt)


def receivers_enu_m(scenario: ScenarioConfig) -> FloatArray:
    """``(receivers, 3)`` east, north, up of each receiver in metres."""
    origin = network_origin(scenario.receivers)
    receivers = scenario.receivers
    return geodetic_to_enu_m(
        [r.latitude_deg for r in receivers],
        [r.longitude_deg for r in receivers],
        [r.altitude_m for r in receivers],
        origin,
    )
