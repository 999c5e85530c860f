"""What plugins built for API 1.x rely on is still there: every hook spec with its arguments,
and every spec field, with any field added since then optional. A change that breaks this
test must raise ``RFLOC_PLUGIN_API``'s major version and start a new record."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from rfloc_core import hookspecs, specs
from rfloc_core.plugin_api import RFLOC_PLUGIN_API

API_1_HOOKS: dict[str, tuple[str, ...]] = {
    "rfloc_backbones": (),
    "rfloc_heads": (),
    "rfloc_exporters": (),
}

API_1_FIELDS: dict[str, tuple[str, ...]] = {
    "BackboneSpec": (
        "name", "family", "feature_dim", "build", "constraints", "pretrained", "references",
        "aliases", "onnx_exporter", "description", "plugin", "plugin_version",
    ),
    "HeadSpec": ("name", "build", "output_names", "description", "plugin", "plugin_version"),
    "ExporterSpec": (
        "name", "file_suffix", "export", "description", "unavailable_reason", "plugin",
        "plugin_version",
    ),
    "InputConstraints": ("min_size", "multiple_of", "fixed_size"),
    "PretrainedWeights": ("source", "licence", "dataset"),
    "ReferenceFigure": ("metric", "value", "source", "note"),
}  # fmt: skip

API_1_1_HOOKS: dict[str, tuple[str, ...]] = {"rfloc_fusions": ()}
"""Hooks added in plugin API 1.1."""

API_1_1_FIELDS: dict[str, tuple[str, ...]] = {
    "BackboneSpec": ("training",),
    "TrainingRecipe": ("learning_rate", "weight_decay", "feature_norm", "source"),
    "FusionSpec": ("name", "build", "description", "plugin", "plugin_version"),
}
"""Added in plugin API 1.1, after the 1.0 fields (a new type's fields in full)."""

API_1_2_FIELDS: dict[str, tuple[str, ...]] = {
    "BackboneSpec": ("imagenet_layout",),
    "ModuleLayout": ("first_conv", "classifier", "build_reference"),
}
"""Added in plugin API 1.2, after the 1.1 fields."""


def test_this_record_is_for_the_current_major() -> None:
    assert RFLOC_PLUGIN_API[0] == 1
    assert RFLOC_PLUGIN_API[1] >= 2, "the record holds 1.2's fields"


@pytest.mark.parametrize("name", sorted(API_1_1_FIELDS))
def test_api_1_1_fields_follow_the_1_0_ones_in_order(name: str) -> None:
    fields = [field.name for field in dataclasses.fields(getattr(specs, name))]
    before = len(API_1_FIELDS.get(name, ()))
    added = API_1_1_FIELDS[name]
    assert tuple(fields[before : before + len(added)]) == added


@pytest.mark.parametrize("name", sorted(API_1_2_FIELDS))
def test_api_1_2_fields_follow_the_1_1_ones_in_order(name: str) -> None:
    fields = [field.name for field in dataclasses.fields(getattr(specs, name))]
    before = len(API_1_FIELDS.get(name, ())) + len(API_1_1_FIELDS.get(name, ()))
    added = API_1_2_FIELDS[name]
    assert tuple(fields[before : before + len(added)]) == added


def test_the_1_2_layout_protocol_keeps_its_members() -> None:
    members = {"first_conv", "classifier", "reference_network"}
    assert members <= set(dir(specs.ImageNetLayout))


@pytest.mark.parametrize("hook", sorted(API_1_HOOKS | API_1_1_HOOKS))
def test_every_api_1_hook_spec_is_still_there_with_its_arguments(hook: str) -> None:
    spec = getattr(hookspecs, hook, None)
    assert spec is not None, f"hook spec {hook} was removed within API major 1"
    assert hasattr(spec, "rfloc_spec"), f"{hook} is no longer marked @hookspec"
    assert tuple(inspect.signature(spec).parameters) == (API_1_HOOKS | API_1_1_HOOKS)[hook]


def test_every_hook_spec_is_in_the_record() -> None:
    assert set(hookspecs.HOOK_NAMES) == set(API_1_HOOKS | API_1_1_HOOKS)


@pytest.mark.parametrize("name", sorted(API_1_FIELDS))
def test_api_1_spec_fields_are_kept_in_order_and_new_ones_are_optional(name: str) -> None:
    fields = dataclasses.fields(getattr(specs, name))
    recorded = API_1_FIELDS[name]
    assert tuple(field.name for field in fields[: len(recorded)]) == recorded
    for field in fields[len(recorded) :]:
        has_default = field.default is not dataclasses.MISSING
        has_factory = field.default_factory is not dataclasses.MISSING
        assert has_default or has_factory, f"{name}.{field.name} was added without a default"
