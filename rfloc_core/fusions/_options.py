"""Checks of a fusion's options, with one-line errors."""

from __future__ import annotations

from rfloc_core.errors import InvalidInputError


def positive_int(name: str, value: object, fusion: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{fusion} fusion option {name} must be an int >= 1, got {value!r}")
    return value


def positive_number(name: str, value: object, fusion: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e6:
        raise InvalidInputError(
            f"{fusion} fusion option {name} must be a number > 0, got {value!r}"
        )
    return float(value)
