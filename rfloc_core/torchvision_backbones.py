"""Backbone specs for models built by torchvision. The plugin that uses this declares
torchvision itself; torchvision is imported only when a network is built."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rfloc_core.errors import WeightsError
from rfloc_core.specs import (
    BackboneSpec,
    InputConstraints,
    InputSize,
    Pretrained,
    PretrainedWeights,
    ReferenceFigure,
    TrainingRecipe,
)
from rfloc_core.weights import read_state_dict, replace_first_conv, set_module

if TYPE_CHECKING:
    import torch

DEFAULT_CONSTRAINTS = InputConstraints()
TORCHVISION_WEIGHTS_DOCS = "https://docs.pytorch.org/vision/stable/models.html"
"""torchvision's table of published weights and their ImageNet-1k accuracy."""


@dataclass(frozen=True)
class TorchvisionBuild:
    """Builds ``torchvision.models.get_model(model_name)`` with its classifier replaced by an
    identity, so it returns pooled features, and its first convolution taking the receivers.

    ``pretrained=True`` fetches ``weights_tag`` (for example ``IMAGENET1K_V1``) through
    torchvision's own download; a path loads a local ImageNet-shaped file (see
    ``rfloc_core.weights.read_state_dict``). Either way the state dict is loaded into the
    3-channel network, then the first convolution is adapted by
    ``rfloc_core.weights.adapt_first_conv``. It is also the ``ImageNetLayout`` of what it
    builds.
    """

    model_name: str
    first_conv: str
    classifier: str
    weights_tag: str | None = None
    options: tuple[tuple[str, Any], ...] = field(default_factory=tuple)

    def reference_network(self) -> torch.nn.Module:
        from torchvision.models import get_model

        network: torch.nn.Module = get_model(self.model_name, weights=None, **dict(self.options))
        return network

    def published_state_dict(self) -> dict[str, torch.Tensor]:
        from torchvision.models import get_model_weights

        if self.weights_tag is None:
            raise WeightsError(
                f"torchvision model {self.model_name} has no published weights declared; pass "
                "pretrained=<path of a local .safetensors or .pth file>"
            )
        weights = get_model_weights(self.model_name)[self.weights_tag]
        state: dict[str, torch.Tensor] = weights.get_state_dict(progress=False)
        return state

    def __call__(
        self, *, in_chans: int, input_size: InputSize, pretrained: Pretrained
    ) -> torch.nn.Module:
        from torch import nn

        network = self.reference_network()
        if pretrained is not False:
            state = (
                self.published_state_dict() if pretrained is True else read_state_dict(pretrained)
            )
            load_state(network, state, f"{pretrained!r}" if pretrained is not True else "")
        set_module(network, self.classifier, nn.Identity())
        replace_first_conv(network, self.first_conv, in_chans, keep_weights=pretrained is not False)
        return network


def load_state(network: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load an ImageNet-shaped ``state`` into ``network`` exactly: every key, every shape."""
    mine = network.state_dict()
    missing = sorted(set(mine) - set(state))
    unexpected = sorted(set(state) - set(mine))
    wrong = sorted(k for k in set(mine) & set(state) if mine[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        first = (missing or unexpected or wrong)[0]
        raise WeightsError(
            f"weights {source} do not fit this network: {len(missing)} missing, "
            f"{len(unexpected)} unexpected and {len(wrong)} wrongly shaped tensors (first: "
            f"{first!r}); give an ImageNet-shaped file (3 input channels, classifier included) "
            "of this architecture"
        )
    network.load_state_dict(state)


def torchvision_backbone_spec(
    name: str,
    *,
    family: str,
    feature_dim: int,
    first_conv: str,
    classifier: str,
    torchvision_name: str | None = None,
    weights_tag: str | None = None,
    licence: str = "bsd-3-clause",
    imagenet_top1: float | None = None,
    constraints: InputConstraints = DEFAULT_CONSTRAINTS,
    aliases: tuple[str, ...] = (),
    description: str = "",
    training: TrainingRecipe | None = None,
    **torchvision_options: Any,
) -> BackboneSpec:
    """A spec for torchvision's ``torchvision_name`` (default: ``name``) registered as ``name``.

    ``first_conv`` and ``classifier`` are dotted module names in torchvision's network (for
    ``shufflenet_v2_x0_5``: ``conv1.0`` and ``fc``). ``imagenet_top1`` is the published
    ImageNet-1k top-1 percent of ``weights_tag``, from torchvision's weights table.
    """
    model_name = torchvision_name or name
    build = TorchvisionBuild(
        model_name,
        first_conv,
        classifier,
        weights_tag,
        tuple(sorted(torchvision_options.items())),
    )
    pretrained = (
        PretrainedWeights(
            source=f"torchvision:{model_name}.{weights_tag}",
            licence=licence,
            dataset="ImageNet-1k",
        )
        if weights_tag
        else None
    )
    references = (
        (
            ReferenceFigure(
                "imagenet_top1_percent",
                imagenet_top1,
                TORCHVISION_WEIGHTS_DOCS,
                note=f"{model_name} {weights_tag}",
            ),
        )
        if imagenet_top1 is not None
        else ()
    )
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
