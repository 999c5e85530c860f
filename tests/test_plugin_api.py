"""The plugin API version: a plugin built for another major (or a newer minor) is listed as
incompatible with what to do, and is not loaded; a compatible one loads."""

from __future__ import annotations

import json

import pytest

import rfloc_core
from rfloc_core import plugin_api
from rfloc_core.errors import PluginError, UnknownNameError
from rfloc_core.registry import get_registry
from tests.cli_runner import run_rfloc
from tests.toy_plugins import TOY_BACKBONE


def install_toy_declaring(plugin_site, declaration: str | None) -> None:
    source = TOY_BACKBONE if declaration is None else f"{declaration}\n{TOY_BACKBONE}"
    plugin_site.install("rfloc-toy", {"toy": "rfloc_toy"}, {"rfloc_toy": source})


def toy_info(registry):
    return next(p for p in registry.plugins if p.name == "toy")


def test_core_exports_its_plugin_api_version():
    assert rfloc_core.RFLOC_PLUGIN_API == (1, 2)
    assert "RFLOC_PLUGIN_API" in rfloc_core.__all__


@pytest.mark.parametrize(
    "declaration",
    ["RFLOC_PLUGIN_API = (1, 2)", "RFLOC_PLUGIN_API = (1, 1)", "RFLOC_PLUGIN_API = (1, 0)", None],
)
def test_plugin_built_for_the_current_api_or_declaring_none_is_loaded(plugin_site, declaration):
    install_toy_declaring(plugin_site, declaration)
    registry = get_registry(refresh=True)
    info = toy_info(registry)
    declared = "1.0" if declaration is None else declaration[-5:-1].replace(", ", ".")
    assert (info.state, info.api, info.errors) == ("loaded", declared, ())
    assert registry.backbone("toynet").plugin == "toy"


@pytest.mark.parametrize(
    ("declared", "advice"),
    [
        ((2, 0), "upgrade rfloc-core to a release that provides plugin API 2.0"),
        ((1, 3), "upgrade rfloc-core to a release that provides plugin API 1.3"),
        ((0, 9), "install a release of rfloc-toy built for plugin API 1.x"),
    ],
)
def test_incompatible_plugin_is_listed_with_advice_and_not_loaded(plugin_site, declared, advice):
    install_toy_declaring(plugin_site, f"RFLOC_PLUGIN_API = {declared!r}")
    registry = get_registry(refresh=True)
    info = toy_info(registry)
    assert (info.state, info.api, info.hooks) == (
        "incompatible",
        f"{declared[0]}.{declared[1]}",
        (),
    )
    (message,) = info.errors
    assert f"built for {declared[0]}.{declared[1]} but rfloc-core" in message
    assert "provides 1.2" in message and "not loaded" in message and advice in message
    with pytest.raises(UnknownNameError):
        registry.backbone("toynet")
    assert any("incompatible plugin API" in p for p in registry.problems())


def test_malformed_declaration_is_reported_and_not_loaded(plugin_site):
    install_toy_declaring(plugin_site, 'RFLOC_PLUGIN_API = "1.0"')
    info = toy_info(get_registry(refresh=True))
    assert info.state == "incompatible"
    assert "rfloc_toy.RFLOC_PLUGIN_API must be a (major, minor) tuple of ints" in info.errors[0]
    assert "got '1.0'" in info.errors[0]


def test_a_newer_core_minor_accepts_older_minors_of_its_major(plugin_site, monkeypatch):
    monkeypatch.setattr(plugin_api, "RFLOC_PLUGIN_API", (1, 3))
    install_toy_declaring(plugin_site, "RFLOC_PLUGIN_API = (1, 2)")
    assert toy_info(get_registry(refresh=True)).state == "loaded"
    assert plugin_api.incompatibility((1, 4), "x") is not None
    assert plugin_api.incompatibility((1, 0), "x") is None


def test_strict_mode_makes_an_incompatible_plugin_fatal(plugin_site, monkeypatch):
    install_toy_declaring(plugin_site, "RFLOC_PLUGIN_API = (2, 0)")
    monkeypatch.setenv("RFLOC_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match=r"incompatible plugin API.*RFLOC_STRICT_PLUGINS=1"):
        get_registry(refresh=True)


def test_rfloc_plugins_shows_the_incompatible_plugin_and_the_others_keep_working(plugin_site):
    plugin_site.install(
        "rfloc-future",
        {"future": "rfloc_future"},
        {"rfloc_future": f"RFLOC_PLUGIN_API = (2, 0)\n{TOY_BACKBONE}"},
    )
    plugin_site.install("rfloc-toy2", {"toy2": "rfloc_toy2"}, {"rfloc_toy2": TOY_BACKBONE})
    listing = run_rfloc("plugins", "--format", "json", site=plugin_site.path)
    assert listing.returncode == 0, listing.stderr
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    future = rows["future"]
    assert (future["state"], future["api"], future["backbones"]) == ("incompatible", "2.0", 0)
    assert "built for 2.0" in future["errors"][0]
    assert (rows["toy2"]["state"], rows["toy2"]["api"], rows["toy2"]["backbones"]) == (
        "loaded",
        "1.0",
        1,
    )
    models = run_rfloc("models", "toynet", "--format", "json", site=plugin_site.path)
    assert [row["plugin"] for row in json.loads(models.stdout)] == ["toy2 0.0.1"]
    strict = run_rfloc("models", site=plugin_site.path, env={"RFLOC_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1 and "incompatible plugin API" in strict.stderr
