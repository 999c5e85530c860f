"""Load pydantic configurations from TOML and turn validation failures into one-line errors.

The message names the field path (``propagation.path_loss_exponent``), the value that came,
and the allowed range read from the field's own constraints, so ranges are written once.
"""

from __future__ import annotations

import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import annotated_types
import pydantic
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from rfloc_core.data.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)


def _unwrap(annotation: Any) -> Any:
    """The model class or element type hiding inside ``list[X]``, ``X | None``, ``Annotated``."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (list, tuple, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None) and arg is not Ellipsis:
                return _unwrap(arg)
    return annotation


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _field_info(model: type[BaseModel], loc: tuple[int | str, ...]) -> FieldInfo | None:
    current: Any = model
    info: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return info


def allowed_range(info: FieldInfo | None) -> str | None:
    """``"between 1.5 and 6"``-style text from a field's ``ge``/``gt``/``le``/``lt`` constraints."""
    if info is None:
        return None
    low = high = None
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            low = f">= {item.ge}"
        elif isinstance(item, annotated_types.Gt):
            low = f"> {item.gt}"
        elif isinstance(item, annotated_types.Le):
            high = f"<= {item.le}"
        elif isinstance(item, annotated_types.Lt):
            high = f"< {item.lt}"
    bounds = [bound for bound in (low, high) if bound is not None]
    return " and ".join(bounds) if bounds else None


def describe_validation_error(
    model: type[BaseModel], error: pydantic.ValidationError, source: str
) -> str:
    """One sentence: which field, what came, what is allowed, and where to fix it."""
    first = error.errors()[0]
    loc = tuple(first["loc"])
    path = ".".join(str(part) for part in loc) or "(top level)"
    more = len(error.errors()) - 1
    tail = f" ({more} more problem{'s follow' if more > 1 else ' follows'})" if more else ""
    if first["type"] == "extra_forbidden":
        holder = _field_info(model, loc[:-1]) if len(loc) > 1 else None
        parent = _unwrap(holder.annotation) if holder is not None else model
        fields = parent.model_fields if _is_model(parent) else {}
        known = ", ".join(fields) or "?"
        return f"{source}: unknown field {path}; the allowed fields there are {known}{tail}"
    if first["type"] == "missing":
        return f"{source}: required field {path} is missing{tail}"
    got = first.get("input")
    reason = str(first["msg"]).removeprefix("Value error, ")
    if isinstance(got, dict):
        return f"{source}: {path} is invalid: {reason}{tail}"
    limits = allowed_range(_field_info(model, loc))
    expected = f"it must be {limits}" if limits else reason
    if limits and first["type"] not in (
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
    ):
        expected = f"{reason}; it must be {limits}"
    return f"{source}: field {path} got {got!r} but {expected}{tail}"


def validate_config(model: type[ModelT], data: Mapping[str, Any], source: str) -> ModelT:
    """Build ``model`` from ``data``; raise ``ConfigError`` naming the field path on failure."""
    try:
        return model.model_validate(dict(data))
    except pydantic.ValidationError as error:
        raise ConfigError(describe_validation_error(model, error, source)) from None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file is a ``ConfigError``."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist; check the path") from None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, but a TOML file was expected") from None
    except OSError as error:
        raise ConfigError(f"cannot read {path} ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text, so it is not a TOML file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML ({error}); fix the syntax") from None


def load_toml_config(model: type[ModelT], path: str | Path) -> ModelT:
    """Read a TOML file into ``model``, failing at load time with the field path and range."""
    path = Path(path)
    return validate_config(model, read_toml(path), str(path))
