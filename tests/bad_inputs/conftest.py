"""The bad-input corpus: bad files made from good ones at test time, run through the real CLI.

Every case asserts what a user is promised: exit status other than 0, one line on stderr
without a traceback that names the file or field at fault, and every file that existed before
the command still there, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from rfloc_core.checkpoint import CONFIG_NAME, checkpoint_sha256, save_checkpoint
from rfloc_core.data import FeatureConfig, load_preset
from rfloc_core.model import create_model
from tests.cli_runner import run_rfloc
from tests.conftest import PluginSite


@dataclass(frozen=True)
class Case:
    """One bad input: ``make`` writes it under a folder and returns the command's arguments."""

    name: str
    make: Callable[[Path, Path], list[str]]
    """(workspace, good checkpoint) -> rfloc arguments."""
    names: tuple[str, ...]
    """What the one-line message must mention: the file, the field."""


def snapshot(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def assert_refused_in_one_line(
    args: list[str], workspace: Path, names: tuple[str, ...], site: Path | None
) -> str:
    before = snapshot(workspace)
    result = run_rfloc(*args, site=site, env={"COLUMNS": "1000"})
    message = result.stderr.strip()
    if result.returncode in (0, 2) or "Traceback" in result.stderr:
        pytest.fail(f"exit status {result.returncode}, stderr:\n{result.stderr[-4000:]}")
    lines = [line for line in message.splitlines() if line.strip()]
    assert len(lines) == 1, message
    for name in names:
        assert name in message, (name, message)
    for path, content in before.items():
        assert path.is_file() and path.read_bytes() == content, f"{path} was changed or removed"
    return message


def run_case(case: Case, checkpoint: Path, site: Path, tmp_path: Path) -> None:
    """Make the case's bad input in a fresh workspace and check the command refuses it."""
    workspace = tmp_path / "work"
    workspace.mkdir()
    assert_refused_in_one_line(case.make(workspace, checkpoint), tmp_path, case.names, site)


@pytest.fixture
def checkpoint(toy_registry: object, tmp_path: Path) -> Path:
    """A toy checkpoint of the vhf-rural network, as `rfloc train` would save it."""
    model = create_model("toynet")
    return save_checkpoint(
        model,
        tmp_path / "ckpt",
        scenario=load_preset("vhf-rural"),
        features=FeatureConfig(),
        extra={"train_mean_position_m": [0.0, 0.0]},
    )


@pytest.fixture
def toy_site(plugin_site: PluginSite, toy_registry: object) -> Path:
    return plugin_site.path


def edit_checkpoint_config(folder: Path, edit: Callable[[dict], None]) -> None:
    """Change config.json as a tool that knows the format would: the hash is updated, so the
    change reaches the field checks instead of the integrity check."""
    config = json.loads((folder / CONFIG_NAME).read_text())
    edit(config)
    config["checkpoint_sha256"] = checkpoint_sha256(config)
    (folder / CONFIG_NAME).write_text(json.dumps(config))
