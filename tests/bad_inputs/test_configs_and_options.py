"""Classes 1b and 4: configuration files, overrides and options that are wrong, each refused in
one line naming the file or the field, before any work starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_inputs.conftest import Case, run_case
from tests.cli_runner import run_rfloc
from tests.data.test_data_config import PRESET_FOLDER
from tests.training.toy_run import write_toy_config


def _binary_toml(workspace: Path, checkpoint: Path) -> list[str]:
    path = workspace / "train.toml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    return ["train", "--config", str(path)]


def _folder_as_config(workspace: Path, checkpoint: Path) -> list[str]:
    (workspace / "configs").mkdir()
    return ["train", "--config", str(workspace / "configs")]


def _gpu_on_a_cpu_machine(workspace: Path, checkpoint: Path) -> list[str]:
    return ["train", "--config", str(write_toy_config(workspace)), "accelerator=gpu", "devices=1"]


def _unknown_strategy(workspace: Path, checkpoint: Path) -> list[str]:
    return ["train", "--config", str(write_toy_config(workspace)), "strategy=warp_drive"]


def _table_replaced_by_a_name(workspace: Path, checkpoint: Path) -> list[str]:
    return ["train", "--config", str(write_toy_config(workspace)), "model=resnet18"]


def _head_option_in_an_override(workspace: Path, checkpoint: Path) -> list[str]:
    return ["train", "--config", str(write_toy_config(workspace)), "model.head_options.wings=2"]


def _sets_too_large_for_memory(workspace: Path, checkpoint: Path) -> list[str]:
    config = str(write_toy_config(workspace))
    return ["train", "--config", config, "train_samples=1000000000", "data_in_memory=true"]


def _device_nonsense(workspace: Path, checkpoint: Path) -> list[str]:
    return ["predict", str(checkpoint), "--simulate", "1", "--device", "nonsense"]


def _cuda_without_a_gpu(workspace: Path, checkpoint: Path) -> list[str]:
    return ["evaluate", str(checkpoint), "--n", "4", "--device", "cuda:3"]


def _scenario_without_receivers(workspace: Path, checkpoint: Path) -> list[str]:
    text = (PRESET_FOLDER / "vhf-rural.toml").read_text(encoding="utf-8")
    path = workspace / "no-receivers.toml"
    path.write_text(text.split("[[receivers]]")[0], encoding="utf-8")
    return ["simulate", "--scenario", str(path), "--n", "2", "--out", str(workspace / "data")]


def _empty_scenario(workspace: Path, checkpoint: Path) -> list[str]:
    path = workspace / "empty.toml"
    path.write_text("", encoding="utf-8")
    return ["simulate", "--scenario", str(path), "--n", "2", "--out", str(workspace / "data")]


CASES = [
    Case("a binary file as the training config", _binary_toml, ("train.toml", "UTF-8")),
    Case("a folder as the training config", _folder_as_config, ("configs", "folder")),
    Case("accelerator=gpu without a GPU", _gpu_on_a_cpu_machine, ("accelerator='gpu'",)),
    Case("an unknown strategy", _unknown_strategy, ("strategy='warp_drive'",)),
    Case("a table replaced by a name", _table_replaced_by_a_name, ("model=resnet18", "table")),
    Case("a head option in an override", _head_option_in_an_override, ("head_options", "wings")),
    Case("sets too large for memory", _sets_too_large_for_memory, ("data_in_memory", "GiB")),
    Case("--device nonsense", _device_nonsense, ("--device", "nonsense")),
    Case("--device cuda:3 without a GPU", _cuda_without_a_gpu, ("--device cuda:3",)),
    Case("a scenario without receivers", _scenario_without_receivers, ("no-receivers.toml",)),
    Case("an empty scenario file", _empty_scenario, ("empty.toml", "[[receivers]]")),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_configs_and_options(case: Case, checkpoint: Path, toy_site: Path, tmp_path: Path) -> None:
    run_case(case, checkpoint, toy_site, tmp_path)


def test_a_network_at_one_point_is_reported_unobservable(
    checkpoint: Path, toy_site: Path, tmp_path: Path
) -> None:
    """Class 4: a degenerate network is evaluated with a warning, and its bound is shown as
    unobservable instead of a number such as 1e12 m."""
    text = (PRESET_FOLDER / "vhf-rural.toml").read_text(encoding="utf-8")
    head, *stations = text.split("[[receivers]]")
    first = stations[0].splitlines()
    place = [line for line in first if line.startswith(("latitude_deg", "longitude_deg"))]
    same = []
    for station in stations:
        kept = [line for line in station.splitlines() if not line.startswith(tuple(place))]
        kept = [line for line in kept if not line.startswith(("latitude_deg", "longitude_deg"))]
        same.append("\n".join([*kept[:2], *place, *kept[2:]]))
    path = tmp_path / "one-point.toml"
    path.write_text(head + "".join(f"[[receivers]]{station}\n" for station in same))
    result = run_rfloc(
        "evaluate", str(checkpoint), "--scenario", str(path), "--n", "8",
        "--out", str(tmp_path / "evaluation"), site=toy_site, env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "unobservable" in result.stdout
    assert "warning: the receivers' geometry leaves the position unobservable" in result.stdout
