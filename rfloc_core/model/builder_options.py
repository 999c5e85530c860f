"""Options of a head or fusion builder, checked against the builder's own keyword parameters.

A builder declares its options by its signature: ``build(feature_dim, *, position_scale_m:
float = 20000.0, ...)``. An option it does not name, a value whose type differs from the
default's, or a number that is not finite is refused in one line, before anything is built.
A builder that takes ``**options`` checks its own.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

from rfloc_core.errors import InvalidInputError

_KEYWORD_KINDS = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def declared_options(build: Callable[..., Any]) -> dict[str, inspect.Parameter] | None:
    """The keyword options ``build`` takes after its first (dimension) argument, or None when
    it takes ``**options`` (any name) or has no inspectable signature."""
    try:
        parameters = list(inspect.signature(build).parameters.values())
    except (TypeError, ValueError):
        return None
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return None
    return {
        parameter.name: parameter
        for parameter in parameters[1:]
        if parameter.kind
        in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    }


def _type_problem(value: object, default: object) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "a finite number"
    if default is inspect.Parameter.empty or default is None:
        return None
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(default, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "a number" if isinstance(default, float) else "an integer"
        if isinstance(default, int) and not isinstance(value, int):
            return "an integer"
        return None
    if isinstance(default, str) and not isinstance(value, str):
        return "a string"
    return None


def check_builder_options(
    kind: str, name: str, build: Callable[..., Any], options: Mapping[str, Any] | None, source: str
) -> None:
    """Refuse ``options`` that ``build`` (of the ``kind`` called ``name``) does not declare,
    or whose value does not fit the declared default's type; ``source`` says where they came
    from (``head_options``, ``runs/x/best/config.json field head_options``)."""
    declared = declared_options(build)
    if declared is None or not options:
        return
    for option, value in options.items():
        if option not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise InvalidInputError(
                f"{source}: {kind} {name!r} has no option {option!r}; its options are {known}"
            )
        expected = _type_problem(value, declared[option].default)
        if expected is not None:
            raise InvalidInputError(
                f"{source}: {kind} {name!r} option {option} must be {expected}, got {value!r}"
            )
