"""Write throwaway plugin packages, pip-install them into a private folder, and run pytest
against that folder, as a plugin author's CI would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "{dist}"
version = "1.2.3"
dependencies = ["rfloc-core"]

[project.entry-points.rfloc]
{plugin} = "{module}"

[tool.hatch.build.targets.wheel]
packages = ["{module}"]
"""


def write_package(root: Path, dist: str, plugin: str, module: str, source: str) -> Path:
    package = root / dist
    (package / module).mkdir(parents=True)
    (package / "pyproject.toml").write_text(
        PYPROJECT.format(dist=dist, plugin=plugin, module=module)
    )
    (package / module / "__init__.py").write_text(source)
    return package


def pip_install(target: Path, *packages: Path) -> None:
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
            str(target),
            *map(str, packages),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_pytest(
    folder: Path, site: Path, target: str = ".", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``pytest -q target`` inside ``folder`` with ``site`` on the path and ``env`` set."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", target],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(site), **env),
        cwd=folder,
        timeout=600,
        check=False,
    )
