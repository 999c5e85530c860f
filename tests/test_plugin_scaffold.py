"""`rfloc plugin new`: the package it writes installs with pip and passes its own tests, it
never overwrites a folder with content, and the example plugin is what it generates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rfloc_core.plugin_api import RFLOC_PLUGIN_API
from rfloc_core.scaffold import ScaffoldError, new_plugin
from tests.cli_runner import run_rfloc
from tests.plugin_packages import pip_install, run_pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "rfloc-mobilenetv3"
FILLED_IN = ("pretrained_dataset=", "description=")
"""Spec fields the tutorial adds by hand to what the scaffold generates."""


def files_under(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    result = run_rfloc("plugin", "new", "mynet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"created {out / 'rfloc-mynet'}/" in result.stdout
    return out / "rfloc-mynet"


def test_generated_package_has_entry_point_api_spec_tests_and_readme(generated):
    files = files_under(generated)
    assert sorted(files) == [
        "README.md",
        "pyproject.toml",
        "rfloc_mynet/__init__.py",
        "tests/test_mynet_plugin.py",
    ]
    assert '[project.entry-points.rfloc]\nmynet = "rfloc_mynet"' in files["pyproject.toml"]
    assert 'name = "rfloc-mynet"' in files["pyproject.toml"]
    assert f"RFLOC_PLUGIN_API = {RFLOC_PLUGIN_API!r}\n" in files["rfloc_mynet/__init__.py"]
    assert "class TestMynetConformance(BackboneConformance):" in files["tests/test_mynet_plugin.py"]
    assert 'pip install -e "./rfloc-mynet[test]"' in files["README.md"]


def test_generated_package_installs_and_passes_its_generated_tests(generated, tmp_path):
    site = tmp_path / "site"
    pip_install(site, generated)
    listing = run_rfloc("plugins", "--format", "json", site=site)
    mynet = next(p for p in json.loads(listing.stdout) if p["name"] == "mynet")
    assert (mynet["state"], mynet["api"], mynet["distribution"], mynet["backbones"]) == (
        "loaded",
        "{}.{}".format(*RFLOC_PLUGIN_API),
        "rfloc-mynet",
        1,
    )
    models = run_rfloc("models", "mynet*", "--format", "json", site=site)
    (row,) = json.loads(models.stdout)
    assert (row["name"], row["family"], row["feature_dim"]) == ("mynet_small", "mynet", 64)
    result = run_pytest(generated, site, "tests", RFLOC_STRICT_PLUGINS="1")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "10 passed, 1 skipped" in result.stdout, result.stdout[-3000:]
    assert "mynet_small declares no imagenet_layout" in result.stdout


def test_an_existing_folder_with_content_is_never_overwritten(generated):
    readme = generated / "README.md"
    readme.write_text("mine\n")
    result = run_rfloc("plugin", "new", "mynet", "--out", str(generated.parent))
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert message.startswith("error: expected a new or empty folder")
    assert "already exists with content" in message and "remove that folder" in message
    assert readme.read_text() == "mine\n"


def test_an_existing_empty_folder_is_filled(tmp_path):
    (tmp_path / "rfloc-mynet").mkdir()
    folder = new_plugin("mynet", tmp_path, family="cnn")
    assert folder == tmp_path / "rfloc-mynet"
    assert 'FAMILY = "cnn"' in (folder / "rfloc_mynet" / "__init__.py").read_text()


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("MyNet", {}, "NAME must be lower-case letters"),
        ("core", {}, "(and not 'core')"),
        ("mynet", {"family": "My-Family"}, "--family must be lower-case"),
        ("mynet", {"timm_model": "Bad.Name"}, "--timm-model must be lower-case"),
    ],
)
def test_bad_names_are_refused_before_anything_is_written(tmp_path, name, options, expected):
    with pytest.raises(ScaffoldError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        new_plugin(name, tmp_path, **options)
    assert list(tmp_path.iterdir()) == []


def test_help_says_what_it_creates_and_what_to_do_next():
    result = run_rfloc("plugin", "new", "--help")
    text = " ".join(result.stdout.split())
    for phrase in ("pyproject.toml", "entry point", "conformance kit", "README.md", "Next:"):
        assert phrase in text
    assert 'pip install -e "./rfloc-NAME[test]"' in text


def test_the_example_plugin_is_what_the_scaffold_generates_plus_the_tutorial_edits(tmp_path):
    pytest.importorskip("timm")
    folder = new_plugin("mobilenetv3", tmp_path, timm_model="mobilenetv3_small_100")
    generated, example = files_under(folder), files_under(EXAMPLE)
    assert sorted(generated) == sorted(example)
    module = "rfloc_mobilenetv3/__init__.py"
    for name in ("pyproject.toml", "tests/test_mobilenetv3_plugin.py"):
        assert generated[name] == example[name]
    assert "feature_dim=1024," in generated[module]
    assert 'pretrained_tag="lamb_in1k",\n            licence="apache-2.0",' in generated[module]
    edited = example[module].splitlines(keepends=True)
    kept = "".join(line for line in edited if not line.strip().startswith(FILLED_IN))
    assert kept == generated[module]
    assert sum(line.strip().startswith(FILLED_IN) for line in edited) == len(FILLED_IN)


def test_an_unknown_timm_model_is_refused_with_close_names(tmp_path):
    pytest.importorskip("timm")
    with pytest.raises(ScaffoldError, match=r"no model named 'mobilenetv3_smal_100'.*close:"):
        new_plugin("mine", tmp_path, timm_model="mobilenetv3_smal_100")
    assert list(tmp_path.iterdir()) == []


def test_a_torchvision_model_is_wrapped_with_its_first_conv_classifier_and_weights(tmp_path):
    pytest.importorskip("torchvision")
    folder = new_plugin("shuffle", tmp_path, torchvision_model="shufflenet_v2_x0_5")
    module = (folder / "rfloc_shuffle" / "__init__.py").read_text()
    for line in (
        "torchvision_backbone_spec(",
        '"shufflenet_v2_x0_5",',
        "feature_dim=1024,",
        'first_conv="conv1.0",',
        'classifier="fc",',
        'weights_tag="IMAGENET1K_V1",',
        "imagenet_top1=60.552,",
    ):
        assert line in module
    assert '"torchvision>=0.19"' in (folder / "pyproject.toml").read_text()
    assert (
        "class TestShuffleConformance(BackboneConformance)"
        in (folder / "tests" / "test_shuffle_plugin.py").read_text()
    )


def test_a_torchvision_model_that_does_not_exist_or_both_libraries_are_refused(tmp_path):
    pytest.importorskip("torchvision")
    with pytest.raises(ScaffoldError, match=r"no model named 'shufflenet_v2_x0_6'.*close:"):
        new_plugin("mine", tmp_path, torchvision_model="shufflenet_v2_x0_6")
    with pytest.raises(ScaffoldError, match="not both"):
        new_plugin("mine", tmp_path, timm_model="resnet18", torchvision_model="resnet18")
    assert list(tmp_path.iterdir()) == []
