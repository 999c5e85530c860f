"""Backbone specs for models built by timm. The plugin that uses this declares timm itself;
timm is imported only when a network is built."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rfloc_core.specs import (
    BackboneSpec,
    InputConstraints,
    InputSize,
    Pretrained,
    PretrainedWeights,
    ReferenceFigure,
    TrainingRecipe,
)

if TYPE_CHECKING:
    import torch

DEFAULT_CONSTRAINTS = InputConstraints()

TIMM_IMAGENET_RESULTS = (
    "https://github.com/huggingface/pytorch-image-models/blob/"
    "0173a139a2c66db3a41ebfe1d8ac4fb02483642e/results/results-imagenet.csv"
)
"""timm's published ImageNet-1k validation results, the source of the quoted top-1 figures."""


@dataclass(frozen=True)
class TimmBuild:
    """Builds ``timm.create_model(model_name, num_classes=0, in_chans=...)``: pooled features.

    ``pretrained=True`` fetches ``model_name.pretrained_tag`` through timm's hub mechanism; a
    path loads that local file through timm's loader (weights only, never pickled code). In
    both cases timm adapts the first convolution to the channel count.
    """

    model_name: str
    pretrained_tag: str | None = None
    sized_input: bool = False
    """Pass ``img_size=input_size`` (ViT position embeddings are sized to the input)."""
    options: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    def __call__(
        self, *, in_chans: int, input_size: InputSize, pretrained: Pretrained
    ) -> torch.nn.Module:
        import timm

        kwargs: dict[str, Any] = {"num_classes": 0, "in_chans": in_chans, "exportable": True}
        kwargs.update(self.options)
        if self.sized_input:
            kwargs["img_size"] = tuple(input_size)
        name = self.model_name
        if pretrained is True:
            name = f"{self.model_name}.{self.pretrained_tag}"
            kwargs["pretrained"] = True
        elif pretrained is not False:
            kwargs["pretrained"] = True
            kwargs["pretrained_cfg_overlay"] = {"file": str(pretrained)}
        module: torch.nn.Module = timm.create_model(name, **kwargs)
        return module


def timm_backbone_spec(
    name: str,
    *,
    family: str,
    feature_dim: int,
    timm_name: str | None = None,
    pretrained_tag: str | None = None,
    pretrained_dataset: str = "",
    licence: str = "apache-2.0",
    imagenet_top1: tuple[float, int] | None = None,
    constraints: InputConstraints = DEFAULT_CONSTRAINTS,
    sized_input: bool = False,
    aliases: tuple[str, ...] = (),
    description: str = "",
    training: TrainingRecipe | None = None,
    **timm_options: Any,
) -> BackboneSpec:
    """A spec for ``timm_name`` (default: ``name``) registered as ``name``.

    ``imagenet_top1`` is (percent, evaluated image size in px) of the published weights in
    timm's ImageNet results, when they are listed there.
    """
    model_name = timm_name or name
    pretrained = (
        PretrainedWeights(
            source=f"timm:{model_name}.{pretrained_tag}",
            licence=licence,
            dataset=pretrained_dataset,
        )
        if pretrained_tag
        else None
    )
    references = (
        (
            ReferenceFigure(
                "imagenet_top1_percent",
                imagenet_top1[0],
                TIMM_IMAGENET_RESULTS,
                note=f"{model_name}.{pretrained_tag} at {imagenet_top1[1]} px",
            ),
        )
        if imagenet_top1
        else ()
    )
    return BackboneSpec(
        name=name,
        family=family,
        feature_dim=feature_dim,
        build=TimmBuild(
            model_name, pretrained_tag, sized_input, tuple(sorted(timm_options.items()))
        ),
        constraints=constraints,
        pretrained=pretrained,
        references=references,
        aliases=aliases,
        description=description,
        training=training,
    )
