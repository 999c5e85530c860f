"""Spec types: what a plugin declares about a backbone, head or exporter.

A spec is data. Listing specs never builds a network; only ``build`` (or ``export``) imports
torch, timm or torchvision, and only when called.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from pathlib import Path

    import torch

InputSize = tuple[int, int]
"""Spectrogram size as (mel_bins, frames)."""

Pretrained = bool | str | os.PathLike[str]
"""``False``: random init. ``True``: the published weights. A path: a local weights file."""


class BuildBackbone(Protocol):
    """Builds a backbone whose ``forward(x)`` maps ``(B, in_chans, *input_size)`` to pooled
    features ``(B, feature_dim)``."""

    def __call__(
        self, *, in_chans: int, input_size: InputSize, pretrained: Pretrained
    ) -> torch.nn.Module: ...


@dataclass(frozen=True)
class InputConstraints:
    """What spectrogram sizes a backbone accepts, per side as (mel_bins, frames)."""

    min_size: InputSize = (32, 32)
    multiple_of: InputSize = (1, 1)
    fixed_size: bool = False
    """True when the network is built for one size (a ViT's position embedding) and accepts
    only the size it was built with."""

    def problem(self, size: InputSize, built_size: InputSize | None = None) -> str | None:
        """Describe why ``size`` is not accepted, or return None when it is."""
        if self.fixed_size and built_size is not None and tuple(size) != tuple(built_size):
            return (
                f"this backbone is built for exactly {built_size[0]}x{built_size[1]} "
                f"(mel_bins x frames) but got {size[0]}x{size[1]}; "
                "rebuild it with create_model(..., input_size=...) for another size"
            )
        for side, got, minimum, multiple in zip(
            ("mel_bins", "frames"), size, self.min_size, self.multiple_of, strict=True
        ):
            if got < minimum:
                return f"{side} must be at least {minimum}, got {got}"
            if got % multiple:
                return f"{side} must be a multiple of {multiple}, got {got}"
        return None


@dataclass(frozen=True)
class PretrainedWeights:
    """Where a backbone's published weights come from, and under which licence."""

    source: str
    """For example ``timm:resnet18.a1_in1k`` (fetched through that library's hub mechanism)."""
    licence: str
    dataset: str = ""


@dataclass(frozen=True)
class ReferenceFigure:
    """A published figure about the backbone, quoted with its source."""

    metric: str
    """For example ``imagenet_top1_percent``."""
    value: float
    source: str
    note: str = ""


@dataclass(frozen=True)
class TrainingRecipe:
    """A family's recommended training settings (plugin API 1.1); None leaves a setting to the
    training preset or the benchmark suite."""

    learning_rate: float | None = None
    """AdamW peak learning rate, reached after warm-up; ``rfloc bench`` uses it where its
    suite sets none."""
    weight_decay: float | None = None
    """AdamW decoupled weight decay, used with ``learning_rate``."""
    feature_norm: bool | None = None
    """LayerNorm on the pooled features before a core head (``rfloc train`` and ``rfloc
    bench``), for backbones whose pooled features are not normalised."""
    source: str = ""
    """Where the figures come from: an experiment's write-up or a publication."""


class ImageNetLayout(Protocol):
    """Where a backbone's ImageNet weights go (plugin API 1.2): what loading a local
    ImageNet-shaped file needs, and what the conformance kit checks it against.
    ``rfloc_core.timm_backbones.TimmBuild`` and ``rfloc_core.torchvision_backbones.
    TorchvisionBuild`` are layouts of the networks they build."""

    @property
    def first_conv(self) -> str:
        """Dotted name of the first Conv2d, adapted to the receiver count on loading."""
        ...

    @property
    def classifier(self) -> str:
        """Dotted name of the ImageNet classifier, dropped on loading ("" when none)."""
        ...

    def reference_network(self) -> torch.nn.Module:
        """The ImageNet-shaped network (3 input channels, classifier included) at random
        init: its state dict is what a weights file for this backbone holds."""
        ...


@dataclass(frozen=True)
class ModuleLayout:
    """An ``ImageNetLayout`` given by names and a function that builds the reference network."""

    first_conv: str
    classifier: str
    build_reference: Callable[[], torch.nn.Module]

    def reference_network(self) -> torch.nn.Module:
        return self.build_reference()


@dataclass(frozen=True)
class BackboneSpec:
    """A backbone a plugin provides. ``plugin`` and ``plugin_version`` are filled in by the
    registry from the plugin's entry point and distribution."""

    name: str
    family: str
    feature_dim: int
    build: BuildBackbone
    constraints: InputConstraints = InputConstraints()
    pretrained: PretrainedWeights | None = None
    references: tuple[ReferenceFigure, ...] = ()
    aliases: tuple[str, ...] = ()
    onnx_exporter: Literal["dynamo", "legacy"] = "dynamo"
    description: str = ""
    plugin: str = ""
    plugin_version: str = ""
    training: TrainingRecipe | None = None
    """Recommended optimiser settings (plugin API 1.1); None: the suite's or preset's."""
    imagenet_layout: ImageNetLayout | None = None
    """Where ImageNet weights go (plugin API 1.2); the kit's weights checks need it."""

    def reference(self, metric: str) -> ReferenceFigure | None:
        return next((r for r in self.references if r.metric == metric), None)


class BuildHead(Protocol):
    """Builds a head module mapping features ``(B, feature_dim)`` to a dict of named tensors
    (``position_m`` always among them) and owning ``nll(outputs, target_m)``."""

    def __call__(self, feature_dim: int, **options: Any) -> torch.nn.Module: ...


@dataclass(frozen=True)
class HeadSpec:
    """A probabilistic head: what it predicts and the names of its outputs."""

    name: str
    build: BuildHead
    output_names: tuple[str, ...]
    description: str = ""
    plugin: str = ""
    plugin_version: str = ""


class BuildFusion(Protocol):
    """Builds a set fusion: a module whose ``forward(tokens, online)`` maps receiver tokens
    ``(B, R, token_dim)`` and an online mask ``(B, R)`` (bool, True where the receiver is
    heard) to ``(B, output_dim)``, the same for any order of the receivers and ignoring those
    offline; the module has an ``output_dim`` int attribute."""

    def __call__(self, token_dim: int, **options: Any) -> torch.nn.Module: ...


@dataclass(frozen=True)
class FusionSpec:
    """A set fusion (plugin API 1.1): joins the per-receiver encodings of a receiver-set model
    into the head's input."""

    name: str
    build: BuildFusion
    description: str = ""
    plugin: str = ""
    plugin_version: str = ""


def always_available() -> str | None:
    return None


@dataclass(frozen=True)
class ExporterSpec:
    """A way to turn a model into a deployable file, with its availability on this machine."""

    name: str
    file_suffix: str
    export: Callable[..., Path]
    description: str = ""
    unavailable_reason: Callable[[], str | None] = always_available
    """Returns None when the exporter can run here, else what is missing."""
    plugin: str = ""
    plugin_version: str = ""


AnySpec = BackboneSpec | HeadSpec | ExporterSpec | FusionSpec
