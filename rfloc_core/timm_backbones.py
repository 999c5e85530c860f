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
from rfloc_core.weights import replace_first_conv

if TYPE_CHECKING:
    import torch

DEFAULT_CONSTRAINTS = InputConstraints()
IMAGENET_CHANNELS = 3

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
    both cases the network is loaded with ImageNet's 3 channels and its first convolution is
    then adapted to the receivers by ``rfloc_core.weights.adapt_first_conv``. It is also the
    ``ImageNetLayout`` of what it builds: the names come from timm's pretrained config.
    """

    model_name: str
    pretrained_tag: str | None = None
    sized_input: bool = False
    """Pass ``img_size=input_size`` (ViT position embeddings are sized to the input)."""
    options: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    def _pretrained_config(self) -> tuple[str, str]:
        from timm.models import get_pretrained_cfg

        config = get_pretrained_cfg(self.model_name)
        if config is None:
            config = self.reference_network().pretrained_cfg  # type: ignore[assignment]
            return str(config["first_conv"]), str(config["classifier"])  # type: ignore[index]
        return str(config.first_conv), str(config.classifier)

    @property
    def first_conv(self) -> str:
        return self._pretrained_config()[0]

    @property
    def classifier(self) -> str:
        return self._pretrained_config()[1]

    def reference_network(self) -> torch.nn.Module:
        import timm

        module: torch.nn.Module = timm.create_model(
            self.model_name, pretrained=False, exportable=True, **dict(self.options)
        )
        return module

    def __call__(
        self, *, in_chans: int, input_size: InputSize, pretrained: Pretrained
    ) -> torch.nn.Module:
        import timm

        kwargs: dict[str, Any] = {"num_classes": 0, "exportable": True}
        kwargs.update(self.options)
        if self.sized_input:
            kwargs["img_size"] = tuple(input_size)
        if pretrained is False:
            module: torch.nn.Module = timm.create_model(
                self.model_name, in_chans=in_chans, **kwargs
            )
            return module
        name = self.model_name
        if pretrained is True:
            name = f"{self.model_name}.{self.pretrained_tag}"
        else:
            kwargs["pretrained_cfg_overlay"] = {"file": str(pretrained)}
        module = timm.create_model(name, pretrained=True, in_chans=IMAGENET_CHANNELS, **kwargs)
        config: dict[str, Any] = dict(getattr(module, "pretrained_cfg", {}))
        replace_first_conv(module, str(config.get("first_conv") or self.first_conv), in_chans)
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
    build = TimmBuild(model_name, pretrained_tag, sized_input, tuple(sorted(timm_options.items())))
    return BackboneSpec(
        name=name,
        family=family,
        feature_dim=feature_dim,
        build=build,
        constraints=constraints,
        pretrained=pretrained,
        references=references,
        aliases=aliases,
        description=description,
        training=training,
        imagenet_layout=build,
    )
