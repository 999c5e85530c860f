"""``FeatureConfig``: how IQ becomes the model input, and the one fixed dB scaling.

Each input value is ``(psd_dbm_per_hz - scale_offset_db) / scale_span_db``, where
``psd_dbm_per_hz`` is the power spectral density averaged over one mel band of one frame.
The same scaling applies to every receiver; an offline receiver's channel is
``offline_floor`` everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rfloc_core.contract import DEFAULT_INPUT_SIZE
from rfloc_core.data.validation import load_toml_config

MAX_STFT_BYTES_PER_RECEIVER = 2**30
"""One receiver's spectrogram of one sample may take up to 1 GiB: far beyond any useful front
end (the default takes 64 KiB), and a size checked before anything is allocated."""


class FeatureConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sample_rate_hz: float = Field(default=24_000.0, gt=0.0, le=100e6)
    fft_size_samples: int = Field(default=256, ge=16, le=65_536)
    hop_samples: int = Field(default=64, ge=1, le=65_536)
    mel_bins: int = Field(default=DEFAULT_INPUT_SIZE[0], ge=1, le=4096)
    frames: int = Field(default=DEFAULT_INPUT_SIZE[1], ge=1, le=65_536)
    f_min_hz: float = Field(
        default=-12_000.0,
        ge=-50e6,
        le=50e6,
        description="lowest baseband offset from the carrier the mel bands cover, Hz",
    )
    f_max_hz: float = Field(default=12_000.0, ge=-50e6, le=50e6)
    scale_offset_db: float = Field(
        default=-150.0, ge=-300.0, le=100.0, description="PSD (dBm/Hz) that maps to 0"
    )
    scale_span_db: float = Field(
        default=25.0, gt=0.0, le=1000.0, description="PSD range (dB) that maps to a span of 1"
    )
    offline_floor: float = Field(
        default=-5.0, ge=-100.0, le=100.0, description="scaled value filling an offline receiver"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        nyquist_hz = self.sample_rate_hz / 2
        if not -nyquist_hz <= self.f_min_hz < self.f_max_hz <= nyquist_hz:
            raise ValueError(
                f"need -sample_rate_hz/2 <= f_min_hz < f_max_hz <= sample_rate_hz/2 "
                f"(= {nyquist_hz:g} Hz), got f_min_hz={self.f_min_hz:g}, f_max_hz={self.f_max_hz:g}"
            )
        if self.hop_samples > self.fft_size_samples:
            raise ValueError("hop_samples must not exceed fft_size_samples")
        if self.stft_bytes_per_receiver > MAX_STFT_BYTES_PER_RECEIVER:
            raise ValueError(
                f"frames x fft_size_samples = {self.frames} x {self.fft_size_samples} needs "
                f"{self.stft_bytes_per_receiver / 2**30:,.1f} GiB per receiver for one sample "
                f"(at most {MAX_STFT_BYTES_PER_RECEIVER / 2**30:g} GiB); lower frames or "
                "fft_size_samples"
            )
        return self

    @property
    def stft_bytes_per_receiver(self) -> int:
        """Memory of one receiver's complex64 spectrogram for one sample, before mel pooling."""
        return self.frames * self.fft_size_samples * 8

    @property
    def n_samples(self) -> int:
        """IQ samples per receiver that produce exactly ``frames`` frames."""
        return self.fft_size_samples + (self.frames - 1) * self.hop_samples

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate_hz

    @classmethod
    def from_toml(cls, path: str | Path) -> FeatureConfig:
        return load_toml_config(cls, path)
