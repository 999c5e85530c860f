"""``ScenarioConfig``: the physical world the simulator draws transmissions from.

Every field carries its unit in its name; ranges live in the ``Field`` constraints, and a
value out of range fails when the scenario is loaded, naming the field path and the range.
Named presets are TOML files in ``rfloc_core/data/presets`` (shipped inside the wheel).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rfloc_core.data.errors import ConfigError
from rfloc_core.data.validation import read_toml, validate_config
from rfloc_core.packaged_presets import read_toml_preset

PRESET_PACKAGE = "rfloc_core.data.presets"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignalType(StrEnum):
    FM_VOICE = "fm_voice"
    CW = "cw"
    DIGITAL_BURST = "digital_burst"


SIGNAL_TYPES: tuple[SignalType, ...] = tuple(SignalType)
"""Index order of ``signal_type`` in simulated truth and stored datasets."""


class Receiver(_Strict):
    name: str = Field(min_length=1, description="station name, unique within the network")
    latitude_deg: float = Field(ge=-90.0, le=90.0, description="WGS84 latitude, degrees")
    longitude_deg: float = Field(ge=-180.0, le=180.0, description="WGS84 longitude, degrees")
    altitude_m: float = Field(
        default=0.0, ge=-500.0, le=9000.0, description="height above the WGS84 ellipsoid, m"
    )
    offline: bool = Field(
        default=False,
        description="true: the station is down and hears nothing in any sample (its channel "
        "is the offline floor), as when testing a model with a station missing",
    )
    gain_offset_db: float = Field(
        default=0.0,
        ge=-40.0,
        le=40.0,
        description="how far this station's whole recording (signal and noise) reads above "
        "a calibrated receiver's, dB: antenna, cable, AGC. The simulator applies it; the "
        "classical estimators assume 0 unless given calibrated gains",
    )


class Area(_Strict):
    """Box in the network's local ENU frame (origin: receiver centroid) that transmitters fill."""

    east_min_m: float = Field(ge=-500_000.0, le=500_000.0)
    east_max_m: float = Field(ge=-500_000.0, le=500_000.0)
    north_min_m: float = Field(ge=-500_000.0, le=500_000.0)
    north_max_m: float = Field(ge=-500_000.0, le=500_000.0)
    transmitter_up_m: float = Field(
        default=0.0, ge=-1000.0, le=10_000.0, description="transmitter height in the ENU frame, m"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.east_min_m >= self.east_max_m or self.north_min_m >= self.north_max_m:
            raise ValueError(
                "east_min_m must be below east_max_m and north_min_m below north_max_m"
            )
        return self


class SignalWeights(_Strict):
    """Relative probability of each signal type (normalised; zero disables a type)."""

    fm_voice: float = Field(default=1.0, ge=0.0, le=1000.0)
    cw: float = Field(default=1.0, ge=0.0, le=1000.0)
    digital_burst: float = Field(default=1.0, ge=0.0, le=1000.0)

    @model_validator(mode="after")
    def _some(self) -> Self:
        if self.fm_voice + self.cw + self.digital_burst <= 0.0:
            raise ValueError("at least one signal type needs a positive weight")
        return self

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, kind.value) for kind in SIGNAL_TYPES)


class Transmitter(_Strict):
    power_min_dbm: float = Field(default=30.0, ge=-30.0, le=80.0)
    power_max_dbm: float = Field(default=47.0, ge=-30.0, le=80.0)
    carrier_offset_max_hz: float = Field(
        default=500.0, ge=0.0, le=5000.0, description="transmit carrier offset ~ U(-max, +max), Hz"
    )
    signal_weights: SignalWeights = SignalWeights()
    fm_deviation_hz: float = Field(default=2500.0, gt=0.0, le=10_000.0)
    digital_symbol_rate_baud: float = Field(default=4800.0, gt=0.0, le=20_000.0)
    digital_deviation_hz: float = Field(default=1944.0, gt=0.0, le=10_000.0)
    burst_min_fraction: float = Field(
        default=0.3, gt=0.0, le=1.0, description="shortest digital burst, fraction of the window"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.power_min_dbm > self.power_max_dbm:
            raise ValueError("power_min_dbm must not exceed power_max_dbm")
        return self


class Propagation(_Strict):
    path_loss_exponent: float = Field(default=3.0, ge=1.5, le=6.0)
    reference_distance_m: float = Field(
        default=100.0, gt=0.0, le=10_000.0, description="free-space loss applies up to here, m"
    )
    shadowing_sigma_db: float = Field(default=6.0, ge=0.0, le=20.0)
    shadowing_correlation_distance_m: float = Field(
        default=0.0,
        ge=0.0,
        le=1_000_000.0,
        description="shadowing correlation exp(-receiver separation / this), m; 0: independent",
    )


class Multipath(_Strict):
    """Tapped delay line on the sample grid, exponential power-delay profile."""

    enabled: bool = True
    taps: int = Field(default=4, ge=1, le=32)
    delay_spread_s: float = Field(default=1e-6, ge=0.0, le=1e-3, description="rms at 0 m, s")
    delay_spread_per_km_s: float = Field(default=0.1e-6, ge=0.0, le=1e-4)
    delay_spread_max_s: float = Field(default=20e-6, ge=0.0, le=1e-3)
    rician_k_db: float = Field(
        default=6.0, ge=-40.0, le=40.0, description="line-of-sight to scattered power, dB"
    )


class ReceiverHardware(_Strict):
    noise_figure_db: float = Field(default=6.0, ge=0.0, le=30.0)
    bandwidth_hz: float = Field(
        default=12_500.0, gt=0.0, le=10e6, description="channel bandwidth for RSS and SNR, Hz"
    )
    calibration_error_sigma_db: float = Field(default=1.0, ge=0.0, le=10.0)
    lo_offset_sigma_hz: float = Field(default=50.0, ge=0.0, le=5000.0)
    dropout_probability: float = Field(default=0.05, ge=0.0, le=0.9)
    offline_count_max: int = Field(
        default=0,
        ge=0,
        le=63,
        description="each sample also takes 0 to this many of its stations offline, the count "
        "and the stations drawn uniformly (a network with stations down), count",
    )


class RandomNetwork(_Strict):
    """A new receiver network for every sample, drawn from the sample's seed and index: a
    station count, then the stations uniformly in a square, each at least ``min_spacing_m``
    from those before it where the draw allows, then shifted so their centroid is the origin
    of the ENU frame, as for a fixed network. Samples have ``count_max`` receiver slots; the
    slots past a sample's count are offline."""

    count_min: int = Field(default=3, ge=1, le=64, description="fewest stations, count")
    count_max: int = Field(default=12, ge=1, le=64, description="most stations, count")
    half_width_m: float = Field(
        default=20_000.0,
        gt=0.0,
        le=500_000.0,
        description="stations are drawn in [-half_width_m, half_width_m]² (east, north), m",
    )
    min_spacing_m: float = Field(
        default=2_000.0, ge=0.0, le=500_000.0, description="least distance between stations, m"
    )
    gain_offset_sigma_db: float = Field(
        default=0.0,
        ge=0.0,
        le=20.0,
        description="each drawn station's gain offset (see Receiver.gain_offset_db) is normal "
        "with this standard deviation, dB; 0: calibrated stations",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.count_min > self.count_max:
            raise ValueError("count_min must not exceed count_max")
        return self


_DEFAULT_NETWORK_DEG_M = (
    (47.89550, 10.61070, 700.0),
    (47.92590, 10.80337, 780.0),
    (48.03306, 10.68178, 660.0),
    (48.01774, 10.48071, 720.0),
    (47.88451, 10.38209, 850.0),
    (47.76866, 10.50396, 940.0),
    (47.78033, 10.72542, 810.0),
)
DEFAULT_NETWORK: tuple[Receiver, ...] = tuple(
    Receiver(name=f"rx{i + 1}", latitude_deg=lat, longitude_deg=lon, altitude_m=alt)
    for i, (lat, lon, alt) in enumerate(_DEFAULT_NETWORK_DEG_M)
)
"""The vhf-rural network: seven 2 m band stations about 15 km apart."""

DEFAULT_AREA = Area(east_min_m=-20e3, east_max_m=20e3, north_min_m=-20e3, north_max_m=20e3)


class ScenarioConfig(_Strict):
    """Everything the simulator needs about the network, the transmitters and the channel.

    The defaults are the ``vhf-rural`` preset.
    """

    name: str = Field(default="custom", min_length=1)
    description: str = ""
    carrier_frequency_hz: float = Field(default=145.0e6, ge=1e6, le=100e9)
    receivers: tuple[Receiver, ...] = Field(default=DEFAULT_NETWORK, min_length=3, max_length=64)
    area: Area = DEFAULT_AREA
    transmitter: Transmitter = Transmitter()
    propagation: Propagation = Propagation()
    multipath: Multipath = Multipath()
    receiver_hardware: ReceiverHardware = ReceiverHardware()
    random_network: RandomNetwork | None = Field(
        default=None,
        description="draw a new receiver network for every sample (for receiver-set models); "
        "the receivers above then only anchor the ENU frame's origin, their centroid",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        names = [receiver.name for receiver in self.receivers]
        if len(set(names)) != len(names):
            raise ValueError(f"receiver names must be unique, got {names}")
        return self

    @property
    def n_receivers(self) -> int:
        """Receiver slots per sample: the network's stations, or ``random_network.count_max``."""
        if self.random_network is not None:
            return self.random_network.count_max
        return len(self.receivers)

    @classmethod
    def from_toml(cls, path: str | Path) -> ScenarioConfig:
        """A scenario file, which must list its own receivers: a missing ``[[receivers]]``
        would otherwise quietly give the built-in network."""
        data = read_toml(Path(path))
        if "receivers" not in data:
            raise ConfigError(
                f"{path} lists no [[receivers]]; a scenario needs at least 3, each with name, "
                "latitude_deg, longitude_deg and altitude_m (copy a preset's from "
                "rfloc_core/data/presets/)"
            )
        return validate_config(cls, data, str(path))


def load_preset(name: str) -> ScenarioConfig:
    """The shipped scenario preset ``name`` (see ``preset_names()``)."""
    data = read_toml_preset(PRESET_PACKAGE, name, "scenario")
    return validate_config(ScenarioConfig, data, f"preset {name}")


def load_scenario(name_or_path: str | Path) -> ScenarioConfig:
    """A preset by name, or a scenario TOML file by path (anything ending in ``.toml``)."""
    text = str(name_or_path)
    if text.endswith(".toml") or Path(text).is_file():
        return ScenarioConfig.from_toml(text)
    return load_preset(text)
