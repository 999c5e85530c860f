"""Training configuration: ``TrainConfig`` presets, TOML files and ``key=value`` overrides.

``import rfloc_core.training`` is light (no pydantic, no torch); the config models load on
first use. The training loop itself comes in a later step.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rfloc_core.data.errors import ConfigError
from rfloc_core.training.presets import DEFAULT_TRAIN_PRESET, preset_names

if TYPE_CHECKING:
    from rfloc_core.training.config import (
        ModelConfig,
        SpectrogramSize,
        TrainConfig,
        apply_overrides,
        load_train_config,
        parse_override,
    )

_LAZY = {
    name: "rfloc_core.training.config"
    for name in (
        "ModelConfig",
        "SpectrogramSize",
        "TrainConfig",
        "apply_overrides",
        "load_train_config",
        "parse_override",
    )
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rfloc_core.training' has no attribute {name!r}")


__all__ = [
    "DEFAULT_TRAIN_PRESET",
    "ConfigError",
    "ModelConfig",
    "SpectrogramSize",
    "TrainConfig",
    "apply_overrides",
    "load_train_config",
    "parse_override",
    "preset_names",
]
