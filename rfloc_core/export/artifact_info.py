"""What an exported artifact says about itself, read the same way from every format."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from rfloc_core.export.errors import ArtifactError

REQUIRED_KEYS = ("rfloc.backbone", "rfloc.head", "rfloc.receivers", "rfloc.input_size")


@dataclass(frozen=True)
class ArtifactInfo:
    backbone: str
    head: str
    plugin: str
    plugin_version: str
    receivers: int
    input_size: tuple[int, int]
    """(mel_bins, frames)."""
    outputs: tuple[str, ...]
    scenario: dict[str, Any] | None
    features: dict[str, Any] | None

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, str], source: str) -> ArtifactInfo:
        """From the ``rfloc.*`` keys of an ONNX file or an engine's sidecar."""
        missing = [key for key in REQUIRED_KEYS if key not in metadata]
        if missing:
            raise ArtifactError(
                f"{source} lacks the rfloc metadata {', '.join(missing)}, so it was not written "
                "by `rfloc export`; export the checkpoint again"
            )
        try:
            mel_bins, frames = json.loads(metadata["rfloc.input_size"])
            return cls(
                backbone=metadata["rfloc.backbone"],
                head=metadata["rfloc.head"],
                plugin=metadata.get("rfloc.plugin", ""),
                plugin_version=metadata.get("rfloc.plugin_version", ""),
                receivers=int(metadata["rfloc.receivers"]),
                input_size=(int(mel_bins), int(frames)),
                outputs=tuple(json.loads(metadata.get("rfloc.outputs", "[]"))),
                scenario=json.loads(metadata["rfloc.scenario"])
                if "rfloc.scenario" in metadata
                else None,
                features=json.loads(metadata["rfloc.features"])
                if "rfloc.features" in metadata
                else None,
            )
        except (ValueError, TypeError) as error:
            raise ArtifactError(
                f"{source} has malformed rfloc metadata ({error}); export the checkpoint again"
            ) from error

    def check_input(self, spectrogram: np.ndarray, source: str) -> None:
        """Raise ``ArtifactError`` unless the input is (batch, receivers, mel_bins, frames)."""
        expected = (self.receivers, *self.input_size)
        shape = tuple(spectrogram.shape)
        if len(shape) != 4 or shape[1:] != expected or shape[0] < 1:
            raise ArtifactError(
                f"{source} was exported for input (batch, {', '.join(map(str, expected))}) "
                f"= (batch, receivers, mel_bins, frames) but got {shape}; compute features with "
                "the artifact's own receivers and feature settings"
            )
