"""Training configuration: ``TrainConfig`` presets, TOML files and ``key=value`` overrides.

``import rfloc_core.training`` is light (no pydantic, no torch); the config models load on
first use. The training loop itself comes in a later step.
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


__getattr__ = lazy_getattr(__name__, _LAZY)


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
