"""Presets shipped inside the package as TOML files, listed without loading any model."""

from __future__ import annotations

from importlib import resources
from typing import Any


def toml_preset_names(package: str) -> list[str]:
    """Names (file stems) of the ``.toml`` files shipped in ``package``, sorted."""
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in resources.files(package).iterdir()
        if entry.name.endswith(".toml")
    )


def read_toml_preset(package: str, name: str, kind: str) -> dict[str, Any]:
    """The raw TOML data of preset ``name`` in ``package``; ``kind`` names it in errors."""
    from rfloc_core.data.errors import ConfigError
    from rfloc_core.data.validation import read_toml

    names = toml_preset_names(package)
    if name not in names:
        raise ConfigError(
            f"unknown {kind} preset {name!r}; choose one of {', '.join(names)} "
            "or pass the path of a TOML file"
        )
    with resources.as_file(resources.files(package).joinpath(f"{name}.toml")) as path:
        return read_toml(path)
