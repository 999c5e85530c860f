"""Training: ``TrainConfig`` presets, TOML files and ``key=value`` overrides, and ``train``.

``import rfloc_core.training`` is light (no pydantic, no torch, no Lightning); the names load
on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rfloc_core.data.errors import ConfigError
from rfloc_core.lazy import lazy_getattr
from rfloc_core.training.presets import DEFAULT_TRAIN_PRESET, preset_names

if TYPE_CHECKING:
    from rfloc_core.training.config import (
        ModelConfig,
        SpectrogramSize,
        TrainConfig,
        apply_overrides,
        load_train_config,
    )
    from rfloc_core.training.overrides import parse_override
    from rfloc_core.training.run import TrainResult, train

_LAZY = {
    name: "rfloc_core.training.config"
    for name in (
        "ModelConfig",
        "SpectrogramSize",
        "TrainConfig",
        "apply_overrides",
        "load_train_config",
    )
}
_LAZY["parse_override"] = "rfloc_core.training.overrides"


_LAZY |= {"TrainResult": "rfloc_core.training.run", "train": "rfloc_core.training.run"}

__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "DEFAULT_TRAIN_PRESET",
    "ConfigError",
    "ModelConfig",
    "SpectrogramSize",
    "TrainConfig",
    "TrainResult",
    "apply_overrides",
    "load_train_config",
    "parse_override",
    "preset_names",
    "train",
]
