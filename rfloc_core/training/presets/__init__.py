"""Training presets shipped with rfloc-core, one TOML file each (``load_train_config(name)``).

Listing them needs no pydantic, so a CLI can describe them without loading the models.
"""

from __future__ import annotations

from rfloc_core.packaged_presets import toml_preset_names

DEFAULT_TRAIN_PRESET = "dev_fast"
"""What `rfloc train` uses without --preset or --config: random init, CPU-sized, no download."""


def preset_names() -> list[str]:
    """Names of the training presets shipped with rfloc-core."""
    return toml_preset_names(__name__)
