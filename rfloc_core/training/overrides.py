"""``key=value`` overrides on a raw configuration: parsing, checking the key against the
pydantic model's fields (with close matches), and setting it."""

from __future__ import annotations

import copy
import difflib
import tomllib
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from rfloc_core.data.errors import ConfigError


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"model.backbone=resnet18"`` -> (["model", "backbone"], "resnet18"); the value is a
    TOML scalar (``3e-4``, ``true``, ``"x"``, ``{components = 5}``) or else the raw string."""
    key, sep, raw = text.partition("=")
    parts = [part.strip() for part in key.split(".")]
    if not sep or not all(parts):
        hint = f"; to train from a config file, pass --config {text}" if not sep else ""
        raise ConfigError(
            f"malformed override {text!r}: expected key=value with a dotted key, "
            f"for example model.backbone=resnet18 or learning_rate=3e-4{hint}"
        )
    raw = raw.strip()
    try:
        value: Any = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return parts, value


def _allowed_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += _allowed_keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def _check_key(root: type[BaseModel], parts: list[str], text: str, value: Any) -> None:
    """Raise ``ConfigError`` unless ``parts`` names a field of ``root`` (or a key inside one
    of its dict fields such as ``model.head_options.components``)."""
    current: type[BaseModel] = root
    for index, part in enumerate(parts):
        info = current.model_fields.get(part)
        if info is None:
            break
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if index == len(parts) - 1 and not isinstance(value, dict):
                table = ".".join(parts)
                example = next(iter(annotation.model_fields))
                raise ConfigError(
                    f"override {text!r} would replace the whole [{table}] table with one "
                    f"value; set a field ({table}.{example}=...) or give a whole inline "
                    f"table ({table}={{{example} = ...}})"
                )
            current = annotation
            continue
        if index == len(parts) - 1 or typing.get_origin(annotation) is dict:
            return
        break
    else:
        return
    key = ".".join(parts)
    allowed = _allowed_keys(root)
    close = difflib.get_close_matches(key, allowed, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ";"
    raise ConfigError(
        f"override {text!r}: unknown key {key!r}{hint} allowed keys: {', '.join(allowed)}"
    )


def _set(data: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        child = data.get(part)
        if not isinstance(child, dict):
            child = data[part] = {}
        data = child
    data[parts[-1]] = value


def apply_model_overrides(
    root: type[BaseModel], data: Mapping[str, Any], overrides: Iterable[str]
) -> dict[str, Any]:
    """A copy of the raw config ``data`` of a ``root`` model with each ``key=value`` override
    applied in order."""
    result = copy.deepcopy(dict(data))
    for text in overrides:
        parts, value = parse_override(text)
        _check_key(root, parts, text, value)
        _set(result, parts, value)
    return result
