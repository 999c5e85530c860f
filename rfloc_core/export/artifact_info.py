"""What an exported artifact says about itself, read the same way from every format."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rfloc_core.export.errors import ArtifactError

REQUIRED_KEYS = ("rfloc.backbone", "rfloc.head", "rfloc.receivers", "rfloc.input_size")
ANY_RECEIVERS = "any"
"""``rfloc.receivers`` of a receiver-set model, which takes any receiver count."""


@dataclass(frozen=True)
class ArtifactInfo:
    backbone: str
    head: str
    plugin: str
    plugin_version: str
    receivers: int | None
    """The channel count of a fixed-network model; None for a receiver-set model."""
    input_size: tuple[int, int]
    """(mel_bins, frames)."""
    outputs: tuple[str, ...]
    scenario: dict[str, Any] | None
    features: dict[str, Any] | None
    receiver_set: dict[str, Any] | None = None
    """A receiver-set model's fusion and receiver scale (as in its checkpoint), else None."""
    source: str = "the artifact's rfloc metadata"
    """Where these fields were read, for messages: ``model.onnx rfloc metadata``,
    ``runs/x/best/config.json``."""

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
                receivers=None
                if metadata["rfloc.receivers"] == ANY_RECEIVERS
                else int(metadata["rfloc.receivers"]),
                input_size=(int(mel_bins), int(frames)),
                outputs=tuple(json.loads(metadata.get("rfloc.outputs", "[]"))),
                scenario=json.loads(metadata["rfloc.scenario"])
                if "rfloc.scenario" in metadata
                else None,
                features=json.loads(metadata["rfloc.features"])
                if "rfloc.features" in metadata
                else None,
                receiver_set=json.loads(metadata["rfloc.receiver_set"])
                if "rfloc.receiver_set" in metadata
                else None,
                source=f"{source} rfloc metadata",
            )
        except (ValueError, TypeError) as error:
            raise ArtifactError(
                f"{source} has malformed rfloc metadata ({error}); export the checkpoint again"
            ) from error

    def check_graph(
        self,
        inputs: Sequence[tuple[str, Sequence[object]]],
        outputs: Sequence[str],
        source: str,
    ) -> None:
        """Raise ``ArtifactError`` unless the graph's real inputs ``(name, shape)`` and output
        names are what this metadata describes: a file whose metadata was copied onto another
        network, or whose outputs were cut, is refused before it gives wrong positions."""
        if "position_m" not in outputs or (self.outputs and set(self.outputs) != set(outputs)):
            raise ArtifactError(
                f"{source} has outputs {list(outputs)} but its rfloc metadata says "
                f"{list(self.outputs)} (position_m among them); the graph is not the model the "
                "metadata describes, so export the checkpoint again"
            )
        wanted = 1 if self.receivers is not None else 3
        shape = list(inputs[0][1]) if inputs else []
        expected: list[object] = [
            self.receivers if self.receivers is not None else None,
            *self.input_size,
        ]
        fits = (
            len(inputs) == wanted
            and len(shape) == 4
            and all(
                not isinstance(got, int) or want is None or got == want
                for got, want in zip(shape[1:], expected, strict=True)
            )
        )
        if not fits:
            described = (
                f"(batch, {self.receivers}, {self.input_size[0]}, {self.input_size[1]})"
                if self.receivers is not None
                else f"(batch, receivers, {self.input_size[0]}, {self.input_size[1]}) and 2 more"
            )
            raise ArtifactError(
                f"{source} takes inputs {[(name, list(dims)) for name, dims in inputs]} but its "
                f"rfloc metadata describes {described}; the graph is not the model the metadata "
                "describes, so export the checkpoint again"
            )

    def check_input(
        self,
        spectrogram: np.ndarray,
        source: str,
        receivers_m: np.ndarray | None = None,
        online: np.ndarray | None = None,
    ) -> None:
        """Raise ``ArtifactError`` unless the inputs fit: (batch, receivers, mel_bins, frames)
        for a fixed-network model; for a receiver-set model any receiver count, with
        ``receivers_m`` (batch, receivers, 2) in metres and ``online`` (batch, receivers)."""
        shape = tuple(spectrogram.shape)
        if self.receivers is None:
            self._check_set_inputs(shape, source, receivers_m, online)
            return
        expected = (self.receivers, *self.input_size)
        if len(shape) != 4 or shape[1:] != expected or shape[0] < 1:
            raise ArtifactError(
                f"{source} was exported for input (batch, {', '.join(map(str, expected))}) "
                f"= (batch, receivers, mel_bins, frames) but got {shape}; compute features with "
                "the artifact's own receivers and feature settings"
            )
        if receivers_m is not None or online is not None:
            raise ArtifactError(
                f"{source} is a fixed-network model: it takes the spectrogram alone, its "
                "receivers are those of its scenario; give no receiver positions"
            )

    def _check_set_inputs(
        self,
        shape: tuple[int, ...],
        source: str,
        receivers_m: np.ndarray | None,
        online: np.ndarray | None,
    ) -> None:
        if len(shape) != 4 or shape[2:] != self.input_size or shape[0] < 1 or shape[1] < 1:
            raise ArtifactError(
                f"{source} takes spectrograms (batch, receivers, {self.input_size[0]}, "
                f"{self.input_size[1]}) = (batch, receivers, mel_bins, frames) but got {shape}"
            )
        if receivers_m is None or online is None:
            raise ArtifactError(
                f"{source} is a receiver-set model: give each receiver's position "
                "(batch, receivers, 2) in metres and an online mask (batch, receivers) too"
            )
        if tuple(receivers_m.shape) != (*shape[:2], 2) or tuple(online.shape) != shape[:2]:
            raise ArtifactError(
                f"{source} needs receivers_m {(*shape[:2], 2)} and online {shape[:2]} for "
                f"spectrograms {shape}, got {tuple(receivers_m.shape)} and {tuple(online.shape)}"
            )
        heard = np.asarray(online, bool)
        if not heard.any(axis=1).all() or not np.isfinite(np.asarray(receivers_m)[heard]).all():
            raise ArtifactError(
                f"{source} needs at least one receiver online in every sample and finite "
                "positions of the online receivers"
            )
