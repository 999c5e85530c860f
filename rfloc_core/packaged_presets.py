"""Presets shipped inside the package as TOML files, listed without loading any model."""

from __future__ import annotations

from importlib import resources


def toml_preset_names(package: str) -> list[str]:
    """Names (file stems) of the ``.toml`` files shipped in ``package``, sorted."""
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in resources.files(package).iterdir()
        if entry.name.endswith(".toml")
    )
