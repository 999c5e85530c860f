"""Checks that what a plugin's hook returned is a sequence of well-formed specs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from rfloc_core.specs import (
    AnySpec,
    BackboneSpec,
    ExporterSpec,
    FusionSpec,
    HeadSpec,
    TrainingRecipe,
)

SPEC_TYPE_BY_HOOK: dict[
    str, type[BackboneSpec] | type[HeadSpec] | type[ExporterSpec] | type[FusionSpec]
] = {
    "rfloc_backbones": BackboneSpec,
    "rfloc_heads": HeadSpec,
    "rfloc_exporters": ExporterSpec,
    "rfloc_fusions": FusionSpec,
}

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def _pair_of_positive_ints(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    )


def _number_in(value: Any, low: float, high: float, *, open_low: bool) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return (low < value if open_low else low <= value) and value <= high


def _valid_recipe(recipe: Any) -> bool:
    if not isinstance(recipe, TrainingRecipe):
        return False
    rate, decay = recipe.learning_rate, recipe.weight_decay
    return (
        (rate is None or _number_in(rate, 0.0, 1.0, open_low=True))
        and (decay is None or _number_in(decay, 0.0, 1.0, open_low=False))
        and (recipe.feature_norm is None or isinstance(recipe.feature_norm, bool))
    )


def _problems(spec: AnySpec) -> list[str]:
    problems = []
    for name in [spec.name, *getattr(spec, "aliases", ())]:
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            problems.append(f"name {name!r} must be lower-case letters, digits and underscores")
    callable_field = "export" if isinstance(spec, ExporterSpec) else "build"
    if not callable(getattr(spec, callable_field)):
        problems.append(f"{callable_field} must be callable")
    if isinstance(spec, BackboneSpec):
        dim = spec.feature_dim
        if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
            problems.append(f"feature_dim must be a positive int, got {dim!r}")
        if not isinstance(spec.family, str) or not spec.family:
            problems.append("family must be a non-empty string")
        c = spec.constraints
        if not (_pair_of_positive_ints(c.min_size) and _pair_of_positive_ints(c.multiple_of)):
            problems.append(
                "constraints.min_size and constraints.multiple_of must be pairs of positive "
                f"ints, got {c.min_size!r} and {c.multiple_of!r}"
            )
        recipe = spec.training
        if recipe is not None and not _valid_recipe(recipe):
            problems.append(
                "training must be a TrainingRecipe with learning_rate None or in (0, 1], "
                f"weight_decay None or in [0, 1] and feature_norm None or a bool, got {recipe!r}"
            )
        if spec.onnx_exporter not in ("dynamo", "legacy"):
            problems.append(
                f"onnx_exporter must be 'dynamo' or 'legacy', got {spec.onnx_exporter!r}"
            )
    if isinstance(spec, HeadSpec) and (
        not spec.output_names or spec.output_names[0] != "position_m"
    ):
        problems.append(f"output_names must start with 'position_m', got {spec.output_names!r}")
    return problems


def validate_specs(hook_name: str, returned: Any) -> tuple[list[AnySpec], list[str]]:
    """Split a hook's return value into valid specs and one message per problem."""
    expected = SPEC_TYPE_BY_HOOK[hook_name]
    if not isinstance(returned, Sequence) or isinstance(returned, str | bytes):
        return [], [
            f"{hook_name}() must return a list of {expected.__name__}, "
            f"got {type(returned).__name__}"
        ]
    valid: list[AnySpec] = []
    errors: list[str] = []
    seen: set[str] = set()
    for index, spec in enumerate(returned):
        if not isinstance(spec, expected):
            errors.append(
                f"{hook_name}()[{index}] must be a {expected.__name__}, got {type(spec).__name__}"
            )
            continue
        problems = _problems(spec)
        names = {spec.name, *getattr(spec, "aliases", ())}
        if names & seen:
            problems.append(f"name(s) {sorted(names & seen)} returned twice by the same hook")
        if problems:
            errors.append(f"{expected.__name__} {spec.name!r}: " + "; ".join(problems))
            continue
        seen |= names
        valid.append(spec)
    return valid, errors


SPEC_FIELDS = {t.__name__: [f.name for f in fields(t)] for t in SPEC_TYPE_BY_HOOK.values()}
