"""Scenario presets shipped with rfloc-core, one TOML file each (``rfloc simulate --scenario``).

Listing them needs no pydantic, so the CLI can describe them without loading the models.
"""

from __future__ import annotations

from importlib import resources

DEFAULT_PRESET = "vhf-rural"


def preset_names() -> list[str]:
    """Names of the scenario presets shipped with rfloc-core."""
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".toml")
    )
