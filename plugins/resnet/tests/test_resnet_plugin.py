"""The resnet plugin: its variants, their weights, and the rfloc conformance kit."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rfloc_core.testing import TimmBackboneConformance

VARIANTS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
PLUGINS = Path(__file__).resolve().parents[2]


class TestResnetConformance(TimmBackboneConformance):
    plugin = "resnet"
    variants = VARIANTS


def test_resnet_in_rfloc_models_and_adding_vit_changes_nothing_else(tmp_path):
    """In an environment with only resnet installed, `rfloc models` lists exactly its five
    variants; installing ./plugins/vit adds the vit variants and changes no resnet row."""
    if importlib.util.find_spec("rfloc_vit") is not None:
        pytest.skip("rfloc-vit is already installed here; this runs in the resnet environment")
    before = rfloc_models_json()
    assert [row["name"] for row in before] == VARIANTS
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(site),
            str(PLUGINS / "vit"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    after = rfloc_models_json(site)
    vit_names = ["vit_tiny_patch16", "vit_small_patch16", "vit_base_patch16", "vit_large_patch16"]
    assert [row["name"] for row in after] == VARIANTS + vit_names
    assert [row for row in after if row["family"] == "resnet"] == before


def rfloc_models_json(site=None):
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    result = subprocess.run(
        [sys.executable, "-m", "rfloc_core", "models", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    return json.loads(result.stdout)


def test_an_imagenet_file_loads_with_the_exact_first_conv_rule_for_1_to_12_receivers(tmp_path):
    """docs/models.md: the first layer's response to an input equal on every channel is
    unchanged for any receiver count, through timm's loader (the built-in families' path)."""
    from rfloc_core.registry import get_registry
    from rfloc_core.testing.weights_checks import check_local_pretrained

    spec = get_registry().backbone("resnet18")
    for receivers in range(1, 13):
        check_local_pretrained(spec, tmp_path, receivers=receivers)
