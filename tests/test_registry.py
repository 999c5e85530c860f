"""Plugin discovery through entry points, isolation of broken plugins, and the env switches."""

from __future__ import annotations

import pytest

from rfloc_core import list_models
from rfloc_core.errors import PluginError, UnknownNameError
from rfloc_core.registry import get_registry
from tests.toy_plugins import BROKEN_ON_IMPORT, TOY_BACKBONE

BAD_SPECS = """
from rfloc_core import BackboneSpec, TrainingRecipe, hookimpl

@hookimpl
def rfloc_backbones():
    return [
        "not a spec",
        BackboneSpec(
            name="bad_recipe", family="bad", feature_dim=8, build=len,
            training=TrainingRecipe(learning_rate=5.0),
        ),
        BackboneSpec(
            name="good_recipe", family="bad", feature_dim=8, build=len,
            training=TrainingRecipe(feature_norm=True),
        ),
        BackboneSpec(name="Bad-Name", family="bad", feature_dim=8, build=len),
        BackboneSpec(name="zero_dim", family="bad", feature_dim=0, build=len),
        BackboneSpec(name="fine_one", family="bad", feature_dim=8, build=len),
    ]
"""

RAISING_HOOK = """
from rfloc_core import hookimpl

@hookimpl
def rfloc_backbones():
    raise RuntimeError("hook exploded")
"""

UNKNOWN_HOOK = """
from rfloc_core import hookimpl

@hookimpl
def rfloc_datasets():
    return []
"""

NOT_A_LIST = """
from rfloc_core import hookimpl

@hookimpl
def rfloc_backbones():
    return 42
"""


def plugin_info(registry, name):
    return next(p for p in registry.plugins if p.name == name)


def test_toy_plugin_is_found_through_its_entry_point(toy_registry):
    spec = toy_registry.backbone("toynet")
    assert (spec.plugin, spec.plugin_version, spec.family) == ("toy", "0.0.1", "toy")
    info = plugin_info(toy_registry, "toy")
    assert info.distribution == "rfloc-toy"
    assert info.state == "loaded"
    assert info.hooks == ("rfloc_backbones",)
    assert info.spec_counts["backbones"] == 1
    assert "toynet" in list_models("toy*")


def test_alias_resolves_to_the_same_spec(toy_registry):
    assert toy_registry.backbone("toynet_small") is toy_registry.backbone("toynet")
    assert [s.name for s in toy_registry.backbones("toynet*")] == ["toynet"]


def test_plugin_that_raises_on_import_is_listed_and_others_keep_working(plugin_site):
    plugin_site.install_toy()
    plugin_site.install(
        "rfloc-broken", {"broken": "rfloc_broken"}, {"rfloc_broken": BROKEN_ON_IMPORT}
    )
    registry = get_registry(refresh=True)
    broken = plugin_info(registry, "broken")
    assert broken.state == "failed"
    assert "broken on purpose" in broken.errors[0]
    assert registry.backbone("toynet").name == "toynet"


def test_strict_mode_makes_a_plugin_failure_fatal(plugin_site, monkeypatch):
    plugin_site.install(
        "rfloc-broken", {"broken": "rfloc_broken"}, {"rfloc_broken": BROKEN_ON_IMPORT}
    )
    monkeypatch.setenv("RFLOC_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match=r"broken on purpose.*RFLOC_STRICT_PLUGINS"):
        get_registry(refresh=True)


def test_invalid_specs_are_reported_one_by_one_and_valid_ones_kept(plugin_site):
    plugin_site.install("rfloc-bad", {"bad": "rfloc_bad"}, {"rfloc_bad": BAD_SPECS})
    registry = get_registry(refresh=True)
    errors = " | ".join(plugin_info(registry, "bad").errors)
    assert "must be a BackboneSpec, got str" in errors
    assert "'Bad-Name'" in errors and "lower-case" in errors
    assert "feature_dim must be a positive int, got 0" in errors
    assert "'bad_recipe': training must be a TrainingRecipe with learning_rate None or in" in errors
    good = [s.name for s in registry.backbones("*") if s.plugin == "bad"]
    assert sorted(good) == ["fine_one", "good_recipe"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (RAISING_HOOK, "rfloc_backbones() raised RuntimeError: hook exploded"),
        (UNKNOWN_HOOK, "'rfloc_datasets', which is not an rfloc hook"),
        (NOT_A_LIST, "must return a list of BackboneSpec, got int"),
    ],
)
def test_hook_problems_are_attributed_to_the_plugin(plugin_site, source, expected):
    plugin_site.install("rfloc-odd", {"odd": "rfloc_odd"}, {"rfloc_odd": source})
    registry = get_registry(refresh=True)
    assert any(expected in e for e in plugin_info(registry, "odd").errors)


def test_duplicate_names_are_an_error_naming_both_plugins(plugin_site):
    plugin_site.install_toy()
    plugin_site.install("rfloc-twin", {"twin": "rfloc_twin"}, {"rfloc_twin": TOY_BACKBONE})
    registry = get_registry(refresh=True)
    for plugin in ("toy", "twin"):
        assert any("'toy'" in e and "'twin'" in e for e in plugin_info(registry, plugin).errors)
    with pytest.raises(PluginError, match=r"registered by both plugin 'toy'.*plugin 'twin'"):
        registry.backbone("toynet")
    with pytest.raises(PluginError):
        registry.backbone("toynet_small")
    assert registry.backbones("toynet*") == []


def test_only_and_disable_switches_select_plugins(plugin_site, monkeypatch):
    plugin_site.install_toy()
    plugin_site.install(
        "rfloc-twin",
        {"twin": "rfloc_twin"},
        {"rfloc_twin": TOY_BACKBONE.replace('"toynet', '"twinnet')},
    )
    monkeypatch.setenv("RFLOC_PLUGINS", "twin")
    registry = get_registry(refresh=True)
    assert {s.name for s in registry.backbones()} == {"twinnet"}
    assert plugin_info(registry, "toy").skip_reason == "not named in RFLOC_PLUGINS"
    assert plugin_info(registry, "core").state == "internal"
    monkeypatch.delenv("RFLOC_PLUGINS")
    monkeypatch.setenv("RFLOC_DISABLE_PLUGINS", "twin")
    registry = get_registry(refresh=True)
    assert "twinnet" not in {s.name for s in registry.backbones()}
    assert "toynet" in {s.name for s in registry.backbones()}
    assert plugin_info(registry, "twin").state == "skipped"


def test_naming_a_missing_plugin_in_the_only_switch_is_a_warning(monkeypatch):
    monkeypatch.setenv("RFLOC_PLUGINS", "nonexistent")
    registry = get_registry(refresh=True)
    assert any("nonexistent" in w for w in registry.warnings)
    monkeypatch.setenv("RFLOC_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="nonexistent"):
        get_registry(refresh=True)


def test_unknown_backbone_of_an_uninstalled_family_names_the_package(monkeypatch):
    monkeypatch.setenv("RFLOC_PLUGINS", "nothing_at_all")
    registry = get_registry(refresh=True)
    with pytest.raises(UnknownNameError, match=r"pip install rfloc-convnext"):
        registry.backbone("convnext_tiny")


def test_unknown_name_suggests_close_matches(toy_registry):
    with pytest.raises(UnknownNameError, match="did you mean toynet"):
        toy_registry.backbone("toynte")
    with pytest.raises(UnknownNameError, match=r"unknown head 'gausian'.*gaussian"):
        toy_registry.head("gausian")


def test_core_registers_its_heads_exporters_and_fusions_through_the_hooks():
    registry = get_registry(refresh=True)
    core = plugin_info(registry, "core")
    assert set(core.hooks) == {"rfloc_heads", "rfloc_exporters", "rfloc_fusions"}
    assert core.spec_counts == {"backbones": 0, "heads": 3, "exporters": 4, "fusions": 2}
    assert [e.name for e in registry.exporters()] == ["torch", "onnx", "onnx_int8", "tensorrt"]
    assert registry.exporter("onnx").plugin == "core"
    assert registry.exporter("onnx").unavailable_reason() is None
    reason = registry.exporter("tensorrt").unavailable_reason()
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        assert reason is not None and "tensorrt Python package is not installed" in reason
