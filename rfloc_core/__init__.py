"""rfloc-core: plugin registry, model composition, heads, export and the ``rfloc`` CLI.

``import rfloc_core`` never imports torch; the names that need it load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rfloc_core.__about__ import __version__
from rfloc_core.contract import DEFAULT_INPUT_SIZE, DEFAULT_RECEIVERS, ONNX_OPSET
from rfloc_core.errors import (
    InvalidInputError,
    PluginError,
    RflocError,
    UnknownNameError,
    WeightsError,
)
from rfloc_core.hookspecs import hookimpl
from rfloc_core.lazy import lazy_getattr
from rfloc_core.plugin_api import RFLOC_PLUGIN_API
from rfloc_core.registry import get_registry
from rfloc_core.specs import (
    BackboneSpec,
    ExporterSpec,
    FusionSpec,
    HeadSpec,
    InputConstraints,
    PretrainedWeights,
    ReferenceFigure,
    TrainingRecipe,
)

if TYPE_CHECKING:
    from rfloc_core.evaluation import evaluate
    from rfloc_core.model import LocalizationNet, ReceiverSetNet, create_model
    from rfloc_core.training.run import train

_LAZY = {
    "create_model": "rfloc_core.model",
    "LocalizationNet": "rfloc_core.model",
    "ReceiverSetNet": "rfloc_core.model",
    "train": "rfloc_core.training.run",
    "evaluate": "rfloc_core.evaluation.evaluate",
}


__getattr__ = lazy_getattr(__name__, _LAZY)


def list_models(pattern: str = "*") -> list[str]:
    """Names of the installed backbones matching the fnmatch ``pattern``."""
    return [spec.name for spec in get_registry().backbones(pattern)]


__all__ = [
    "DEFAULT_INPUT_SIZE",
    "DEFAULT_RECEIVERS",
    "ONNX_OPSET",
    "RFLOC_PLUGIN_API",
    "BackboneSpec",
    "ExporterSpec",
    "FusionSpec",
    "HeadSpec",
    "InputConstraints",
    "InvalidInputError",
    "LocalizationNet",
    "PluginError",
    "PretrainedWeights",
    "ReceiverSetNet",
    "ReferenceFigure",
    "RflocError",
    "TrainingRecipe",
    "UnknownNameError",
    "WeightsError",
    "__version__",
    "create_model",
    "evaluate",
    "get_registry",
    "hookimpl",
    "list_models",
    "train",
]
