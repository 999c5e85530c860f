"""A plugin written from scratch, installed by pip from its own pyproject.toml, works like
the built-in families: listed, conformant, and buildable through create_model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli_runner import run_rfloc
from tests.plugin_packages import pip_install, run_pytest, write_package
from tests.toy_plugins import BROKEN_ON_IMPORT, TOY_BACKBONE

KIT_TEST = """
from rfloc_core.testing import BackboneConformance


class TestToyConformance(BackboneConformance):
    plugin = "acme"
"""


@pytest.fixture(scope="module")
def installed_site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("packages")
    site = tmp_path_factory.mktemp("site")
    pip_install(
        site,
        write_package(root, "acme-rfloc", "acme", "acme_rfloc", TOY_BACKBONE),
        write_package(root, "broken-rfloc", "broken", "broken_rfloc", BROKEN_ON_IMPORT),
    )
    assert (site / "acme_rfloc-1.2.3.dist-info" / "entry_points.txt").is_file()
    return site


def test_installed_plugin_appears_in_rfloc_models(installed_site):
    result = run_rfloc("models", "toy*", "--format", "json", site=installed_site)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["name"], row["plugin"], row["feature_dim"]) == ("toynet", "acme 1.2.3", 16)


def test_installed_plugin_passes_the_conformance_kit(installed_site, tmp_path):
    (tmp_path / "test_acme.py").write_text(KIT_TEST)
    result = run_pytest(tmp_path, installed_site, RFLOC_DISABLE_PLUGINS="broken")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "9 passed, 2 skipped" in result.stdout, result.stdout[-3000:]


def test_installed_plugin_builds_through_create_model(installed_site):
    script = textwrap.dedent(
        """
        import torch
        from rfloc_core import create_model
        model = create_model("toynet", head="gaussian_full", receivers=5)
        out = model(torch.randn(2, 5, 128, 32))
        print(model.backbone_spec.plugin, model.backbone_spec.plugin_version,
              tuple(out["scale_tril_m"].shape))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(installed_site)),
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["acme", "1.2.3", "(2,", "2,", "2)"]


def test_plugin_broken_on_import_is_reported_and_strict_mode_fails(installed_site):
    listing = run_rfloc("plugins", "--format", "json", site=installed_site)
    broken = next(p for p in json.loads(listing.stdout) if p["name"] == "broken")
    assert (broken["distribution"], broken["state"]) == ("broken-rfloc", "failed")
    assert "broken on purpose" in broken["errors"][0]
    assert run_rfloc("models", "toynet", site=installed_site).returncode == 0
    strict = run_rfloc("models", site=installed_site, env={"RFLOC_STRICT_PLUGINS": "1"})
    assert strict.returncode == 1 and "broken on purpose" in strict.stderr
