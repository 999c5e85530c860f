"""Presets shipped inside the package as TOML files, listed without loading any model."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

BASE_KEY = "base"
"""A TOML file's key naming the shipped preset it starts from."""


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


def merge_tables(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``top`` on it, table by table: a key of ``top`` replaces ``base``'s
    unless both are tables, which merge the same way."""
    merged = copy.deepcopy(dict(base))
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = merge_tables(below, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def read_preset_or_file(package: str, preset_or_path: str | Path, kind: str) -> dict[str, Any]:
    """The raw data of a shipped preset by name, or of a TOML file by path with the shipped
    preset its ``base`` key names merged under it."""
    from rfloc_core.data.errors import ConfigError
    from rfloc_core.data.validation import read_toml

    text = str(preset_or_path)
    if not (isinstance(preset_or_path, Path) or text.endswith(".toml") or Path(text).is_file()):
        return read_toml_preset(package, text, kind)
    data = read_toml(Path(text))
    base = data.pop(BASE_KEY, None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ConfigError(
            f"{text}: field {BASE_KEY} must be the name of a shipped {kind} preset, got {base!r}"
        )
    return merge_tables(read_toml_preset(package, base, kind), data)
