"""Inside tox, each environment installs exactly the plugins it names and nothing else:
the proof that each family installs alone. Tox sets RFLOC_EXPECT_PLUGINS for this."""

from __future__ import annotations

import importlib
import importlib.util
import os

import pytest

from rfloc_core.plugin_api import RFLOC_PLUGIN_API
from rfloc_core.registry import get_registry

FAMILIES = ("convnext", "efficientnet", "resnet", "vit")
EXPECTED = os.environ.get("RFLOC_EXPECT_PLUGINS")

pytestmark = pytest.mark.skipif(
    EXPECTED is None, reason="RFLOC_EXPECT_PLUGINS is set only by the tox environments"
)


def expected_families() -> set[str]:
    return {name for name in (EXPECTED or "").split(",") if name}


def test_exactly_the_expected_plugins_are_loaded():
    registry = get_registry(refresh=True)
    loaded = {p.name for p in registry.plugins if p.state == "loaded"}
    assert loaded == expected_families()
    assert registry.problems() == []


@pytest.mark.parametrize("family", FAMILIES)
def test_other_families_cannot_be_imported(family):
    installed = importlib.util.find_spec(f"rfloc_{family}") is not None
    assert installed == (family in expected_families())


def test_listed_backbones_come_only_from_expected_families():
    families = {spec.family for spec in get_registry(refresh=True).backbones()}
    assert families == expected_families()


def test_each_expected_plugin_declares_the_current_plugin_api():
    for family in expected_families():
        module = importlib.import_module(f"rfloc_{family}")
        assert module.RFLOC_PLUGIN_API == RFLOC_PLUGIN_API, family
