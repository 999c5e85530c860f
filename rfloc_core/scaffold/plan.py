"""What a new plugin package is called and what its first backbone is."""

from __future__ import annotations

from dataclasses import dataclass

from rfloc_core.__about__ import __version__ as core_version
from rfloc_core.errors import RflocError
from rfloc_core.plugin_api import RFLOC_PLUGIN_API
from rfloc_core.registry._loading import INTERNAL_PLUGIN
from rfloc_core.registry._validation import NAME_PATTERN


class ScaffoldError(RflocError):
    """A plugin package that cannot be created as asked."""


@dataclass(frozen=True)
class TimmModel:
    """A timm model as the scaffold wraps it: measured, with its default published weights."""

    name: str
    feature_dim: int
    pretrained_tag: str | None
    licence: str


@dataclass(frozen=True)
class TorchvisionModel:
    """A torchvision model as the scaffold wraps it: where its first convolution and classifier
    are, its measured feature dimension and its default published weights."""

    name: str
    feature_dim: int
    first_conv: str
    classifier: str
    weights_tag: str | None
    imagenet_top1: float | None


@dataclass(frozen=True)
class PluginPlan:
    """Everything the templates need: names derived from the plugin name, and the backbone."""

    plugin: str
    family: str
    backbone: str
    timm: TimmModel | None = None
    torchvision: TorchvisionModel | None = None

    @property
    def distribution(self) -> str:
        return "rfloc-" + self.plugin.replace("_", "-")

    @property
    def module(self) -> str:
        return f"rfloc_{self.plugin}"

    @property
    def folder(self) -> str:
        return self.distribution

    @property
    def class_name(self) -> str:
        return "".join(part.capitalize() for part in self.plugin.split("_"))

    @property
    def api(self) -> tuple[int, int]:
        return RFLOC_PLUGIN_API

    @property
    def core_requirement(self) -> str:
        major, minor = (int(part) for part in core_version.split(".")[:2])
        return f"rfloc-core>={major}.{minor},<{major}.{minor + 1}"


def checked_name(value: str, what: str) -> str:
    if not NAME_PATTERN.match(value) or value == INTERNAL_PLUGIN:
        raise ScaffoldError(
            f"{what} must be lower-case letters, digits and underscores, starting with a letter "
            f"(and not {INTERNAL_PLUGIN!r}), got {value!r}; for example 'mynet'"
        )
    return value


def plan_plugin(
    plugin: str,
    *,
    family: str | None = None,
    timm: TimmModel | None = None,
    torchvision: TorchvisionModel | None = None,
) -> PluginPlan:
    """Names for plugin ``plugin``; its backbone is the wrapped model's name or
    ``<plugin>_small``."""
    checked_name(plugin, "NAME")
    if timm is not None:
        backbone = checked_name(timm.name, "--timm-model")
    elif torchvision is not None:
        backbone = checked_name(torchvision.name, "--torchvision-model")
    else:
        backbone = f"{plugin}_small"
    return PluginPlan(
        plugin=plugin,
        family=checked_name(family or plugin, "--family"),
        backbone=backbone,
        timm=timm,
        torchvision=torchvision,
    )
