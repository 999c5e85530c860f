"""docs/plugins/tutorial.md works as written: its commands run verbatim in a fresh virtual
environment, and the code it shows is the example package's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.tutorial_blocks import fenced_blocks, shell_blocks

REPO = Path(__file__).resolve().parents[1]
TUTORIAL = REPO / "docs" / "plugins" / "tutorial.md"
TORCHVISION_TUTORIAL = REPO / "docs" / "plugins" / "tutorial-torchvision.md"
EXAMPLE = REPO / "examples" / "rfloc-mobilenetv3"


def test_the_tutorial_shows_the_example_module_and_entry_point_verbatim():
    blocks = fenced_blocks(TUTORIAL)
    (python,) = [b.text for b in blocks if b.language == "python"]
    assert python == (EXAMPLE / "rfloc_mobilenetv3" / "__init__.py").read_text()
    pyproject = (EXAMPLE / "pyproject.toml").read_text()
    tomls = [b.text for b in blocks if b.language == "toml"]
    assert tomls and all(text in pyproject for text in tomls)


def test_only_the_setup_and_benchmark_steps_are_skipped():
    skipped = [b.script for b in shell_blocks(TUTORIAL) if b.skipped]
    assert len(skipped) == 2
    assert "pip install rfloc-core" in skipped[0] and skipped[1].startswith("rfloc bench ")
    run = " ".join(b.script for b in shell_blocks(TUTORIAL) if not b.skipped)
    for command in ("rfloc plugin new", "pip install", "rfloc models", "pytest", "rfloc train"):
        assert command in run


def run_checked(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding rfloc-core (built from this checkout), the resnet
    plugin, timm and torchvision: what the tutorials' skipped setup steps install. torch is
    hard-linked from uv's cache."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("needs uv to build the fresh virtual environment; install it with pip")
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    env = dict(os.environ, UV_CONSTRAINT=str(REPO / "constraints.txt"), UV_LINK_MODE="hardlink")
    env.pop("VIRTUAL_ENV", None)
    run_checked([uv, "venv", "--seed", "--python", sys.executable, str(venv)], env=env, timeout=300)
    python = venv / "bin" / "python"
    core = os.path.relpath(REPO, Path(__file__).parent)
    resnet = os.path.relpath(REPO / "plugins" / "resnet", Path(__file__).parent)
    packages = [core, resnet, "timm", "torchvision", "pytest"]
    run_checked(
        [uv, "pip", "install", "--python", str(python), *packages],
        env=env,
        cwd=Path(__file__).parent,
        timeout=900,
    )
    return venv


def run_tutorial(tutorial: Path, venv: Path, workdir: Path) -> dict[str, str]:
    """Run every shell block of ``tutorial`` not marked skip, in order, in ``workdir`` with
    ``venv`` active; return what each printed, by its script."""
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env |= {
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "PIP_CONSTRAINT": str(REPO / "constraints.txt"),
        "COLUMNS": "200",
    }
    printed: dict[str, str] = {}
    for block in shell_blocks(tutorial):
        if block.skipped:
            continue
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.script],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert result.returncode == 0, (
            f"tutorial block at line {block.line} failed:\n{block.script}\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
        printed[block.script] = result.stdout
    return printed


@pytest.mark.slow
def test_tutorial_commands_run_verbatim_in_a_fresh_environment(fresh_venv, tmp_path):
    workdir = tmp_path / "empty"
    printed = run_tutorial(TUTORIAL, fresh_venv, workdir)

    def output_of(command: str) -> str:
        return next(out for script, out in printed.items() if script.startswith(command))

    installed = output_of("pip install")
    assert "mobilenetv3" in installed and "loaded" in installed
    assert "mobilenetv3_small_100" in installed
    kit = output_of("pytest")
    assert " passed" in kit and " failed" not in kit and " error" not in kit
    assert "best checkpoint: runs/mine/best" in output_of("rfloc train")
    assert "validation passed" in output_of("rfloc export")
    config = json.loads((workdir / "runs" / "mine" / "best" / "config.json").read_text())
    assert (config["backbone"], config["backbone_distribution"]) == (
        "mobilenetv3_small_100",
        "rfloc-mobilenetv3",
    )
    assert (workdir / "mobilenetv3.onnx").stat().st_size > 1_000_000
    assert package_files(workdir / "rfloc-mobilenetv3") == package_files(EXAMPLE)


def package_files(folder: Path) -> list[str]:
    relative = [p.relative_to(folder) for p in folder.rglob("*") if p.is_file()]
    return sorted(
        str(p)
        for p in relative
        if not any(part.startswith((".", "__pycache__")) for part in p.parts)
    )


def test_the_torchvision_tutorial_skips_only_its_setup():
    skipped = [b.script for b in shell_blocks(TORCHVISION_TUTORIAL) if b.skipped]
    assert len(skipped) == 1 and "pip install rfloc-core" in skipped[0]
    run = " ".join(b.script for b in shell_blocks(TORCHVISION_TUTORIAL) if not b.skipped)
    for command in ("rfloc plugin new", "--torchvision-model", "pytest", "rfloc bench"):
        assert command in run


@pytest.mark.slow
def test_torchvision_tutorial_runs_verbatim_and_benchmarks_beside_a_built_in(fresh_venv, tmp_path):
    """A plugin around a torchvision model the project does not ship: generated, installed
    with pip from its own pyproject.toml, through the whole kit (weights and first-conv checks
    included, none skipped), then benchmarked beside resnet18 with `--only`."""
    workdir = tmp_path / "empty"
    printed = run_tutorial(TORCHVISION_TUTORIAL, fresh_venv, workdir)

    def output_of(command: str) -> str:
        return next(out for script, out in printed.items() if script.startswith(command))

    (python,) = [b.text for b in fenced_blocks(TORCHVISION_TUTORIAL) if b.language == "python"]
    assert python == (workdir / "rfloc-shufflenet" / "rfloc_shufflenet" / "__init__.py").read_text()
    kit = output_of("pip install")
    assert "shufflenet_v2_x0_5" in kit
    assert " passed" in kit and " failed" not in kit and " error" not in kit
    assert "skipped" not in kit, kit[-2000:]
    results = json.loads((workdir / "reports" / "mine" / "results.json").read_text())
    trained = {row["model"] for row in results["accuracy"] if row["kind"] == "model"}
    timed = {row["model"] for row in results["latency"] if row["status"] == "ok"}
    assert trained == timed == {"shufflenet_v2_x0_5", "resnet18"}
    report = (workdir / "reports" / "mine" / "report.md").read_text()
    assert "shufflenet_v2_x0_5" in report and "resnet18" in report
