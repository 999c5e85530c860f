"""Scenario presets shipped with rfloc-core, one TOML file each (``rfloc simulate --scenario``).

Listing them needs no pydantic, so the CLI can describe them without loading the models.
"""

from __future__ import annotations

from rfloc_core.packaged_presets import toml_preset_names

DEFAULT_PRESET = "vhf-rural"


def preset_names() -> list[str]:
    """Names of the scenario presets shipped with rfloc-core."""
    return toml_preset_names(__name__)
