"""The rfloc command line, run as a subprocess."""

from __future__ import annotations

import csv
import io
import json
from importlib.metadata import entry_points

import pytest

from tests.cli_runner import run_rfloc
from tests.toy_plugins import BROKEN_ON_IMPORT


def imported_modules(importtime_stderr: str) -> set[str]:
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


@pytest.mark.parametrize("args", [("--help",), ("plugins",)])
def test_help_and_plugins_do_not_import_torch(args):
    result = run_rfloc(*args, python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr[-2000:]
    modules = imported_modules(result.stderr)
    assert "rfloc_core.cli" in modules, "the importtime listing was not captured"
    heavy = sorted(
        m
        for m in modules
        if m.split(".")[0]
        in {
            "torch",
            "timm",
            "torchvision",
            "onnx",
            "onnxruntime",
            "lightning",
            "mlflow",
        }
    )
    assert not heavy, f"{' '.join(args)} imported {heavy[:5]}"


def test_help_lists_the_commands():
    result = run_rfloc("--help")
    for command in ("plugins", "models", "simulate", "train", "evaluate"):
        assert command in result.stdout


def test_plugins_lists_the_internal_core_plugin_with_its_hooks():
    result = run_rfloc("plugins", "--format", "json")
    assert result.returncode == 0, result.stderr
    core = next(p for p in json.loads(result.stdout) if p["name"] == "core")
    assert core["state"] == "internal"
    assert core["hooks"] == ["heads", "exporters", "fusions"]
    assert (core["heads"], core["exporters"], core["fusions"]) == (3, 4, 2)


def test_models_without_any_backbone_plugin_says_how_to_install_one():
    installed = sorted({ep.name for ep in entry_points(group="rfloc")})
    env = {"RFLOC_DISABLE_PLUGINS": ",".join(installed)} if installed else {}
    result = run_rfloc("models", env=env)
    assert result.returncode == 0, result.stderr
    assert "No backbone plugin is" in result.stdout
    assert "pip install rfloc-resnet" in result.stdout


def test_models_lists_the_toy_plugin_with_measured_figures(plugin_site):
    plugin_site.install_toy()
    result = run_rfloc("models", "toy*", "--format", "json", site=plugin_site.path)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["name"] == "toynet" and row["family"] == "toy"
    assert row["feature_dim"] == 16
    assert row["params_m"] == round((8 * 7 * 9 + 8 + 16 + 16 * 8 * 9 + 16) / 1e6, 2)
    assert row["gflops"] == round(((8 * 64 * 16) * 63 + (16 * 32 * 8) * 72) * 2 / 1e9, 3)

    csv_result = run_rfloc("models", "toynet", "--format", "csv", site=plugin_site.path)
    rows = list(csv.DictReader(io.StringIO(csv_result.stdout)))
    assert [r["name"] for r in rows] == ["toynet"]
    table = run_rfloc("models", "toynet", site=plugin_site.path)
    assert "toynet" in table.stdout and "feature dim" in table.stdout
    assert "receiver-set fusions" in table.stdout
    assert "attention (core), deepsets (core)" in " ".join(table.stdout.split())


def test_models_measures_at_the_requested_input(plugin_site):
    plugin_site.install_toy()
    result = run_rfloc(
        "models",
        "toynet",
        "--format",
        "json",
        "--receivers",
        "3",
        "--input-size",
        "64x16",
        site=plugin_site.path,
    )
    (row,) = json.loads(result.stdout)
    expected = ((8 * 32 * 8) * (3 * 9) + (16 * 16 * 4) * 72) * 2 / 1e9
    assert row["gflops"] == round(expected, 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("models", "--input-size", "12"), "--input-size must look like MELSxFRAMES"),
        (("models", "no_such_model*"), "no backbone matches"),
    ],
)
def test_errors_are_one_line_without_traceback(plugin_site, args, message):
    plugin_site.install_toy()
    result = run_rfloc(*args, site=plugin_site.path)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_broken_plugin_is_reported_other_commands_work_and_strict_mode_fails(plugin_site):
    plugin_site.install_toy()
    plugin_site.install(
        "rfloc-broken", {"broken": "rfloc_broken"}, {"rfloc_broken": BROKEN_ON_IMPORT}
    )
    listing = run_rfloc("plugins", "--format", "json", site=plugin_site.path)
    broken = next(p for p in json.loads(listing.stdout) if p["name"] == "broken")
    assert broken["state"] == "failed" and "broken on purpose" in broken["errors"][0]
    models = run_rfloc("models", "toynet", site=plugin_site.path)
    assert models.returncode == 0 and "toynet" in models.stdout
    for command in (("plugins",), ("models",)):
        strict = run_rfloc(*command, site=plugin_site.path, env={"RFLOC_STRICT_PLUGINS": "1"})
        assert strict.returncode == 1
        assert "broken on purpose" in strict.stderr and "Traceback" not in strict.stderr
