"""Class 1c: dataset folders that do not suit the run, each refused in one line naming the
folder or the field, before any training or evaluation starts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rfloc_core.data.dataset_folder import MANIFEST_HASH_KEY, MANIFEST_NAME, manifest_sha256
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import load_scenario
from rfloc_core.data.storage import simulate_to_disk
from tests.bad_inputs.conftest import Case, run_case
from tests.training.toy_run import write_toy_config


@pytest.fixture(scope="module")
def stored_sets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stored-sets")
    simulate_to_disk(load_scenario("vhf-rural"), 24, root / "vhf")
    simulate_to_disk(load_scenario("rss-random-networks"), 24, root / "random")
    simulate_to_disk(
        load_scenario("vhf-rural"), 24, root / "narrow", feature_config=FeatureConfig(mel_bins=64)
    )
    return root


def _copy(stored_sets: Path, name: str, workspace: Path) -> Path:
    return Path(shutil.copytree(stored_sets / name, workspace / name))


def _train(workspace: Path, *overrides: str) -> list[str]:
    return ["train", "--config", str(write_toy_config(workspace)), "--no-tracking", *overrides]


def _rewrite_manifest(folder: Path, **changes: object) -> None:
    path = folder / MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8")) | changes
    manifest[MANIFEST_HASH_KEY] = manifest_sha256(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def cases(stored_sets: Path) -> list[Case]:
    def missing_folder(workspace: Path, checkpoint: Path) -> list[str]:
        return _train(workspace, f"data={workspace / 'no-such-set'}")

    def random_networks_for_channels(workspace: Path, checkpoint: Path) -> list[str]:
        return _train(workspace, f"data={_copy(stored_sets, 'random', workspace)}")

    def other_spectrogram_size(workspace: Path, checkpoint: Path) -> list[str]:
        return _train(workspace, f"data={_copy(stored_sets, 'narrow', workspace)}")

    def fewer_samples_than_a_batch(workspace: Path, checkpoint: Path) -> list[str]:
        return _train(workspace, f"data={_copy(stored_sets, 'vhf', workspace)}", "batch_size=32")

    def edited_manifest(workspace: Path, checkpoint: Path) -> list[str]:
        folder = _copy(stored_sets, "vhf", workspace)
        path = folder / MANIFEST_NAME
        path.write_text(path.read_text(encoding="utf-8").replace('"count": 24', '"count": 25'))
        return _train(workspace, f"val_data={folder}")

    def old_format_for_evaluation(workspace: Path, checkpoint: Path) -> list[str]:
        folder = _copy(stored_sets, "vhf", workspace)
        _rewrite_manifest(folder, format_version=3)
        return ["evaluate", str(checkpoint), "--data", str(folder)]

    def scenario_and_data(workspace: Path, checkpoint: Path) -> list[str]:
        folder = _copy(stored_sets, "vhf", workspace)
        return ["evaluate", str(checkpoint), "--data", str(folder), "--scenario", "vhf-rural"]

    def other_features_for_evaluation(workspace: Path, checkpoint: Path) -> list[str]:
        folder = _copy(stored_sets, "narrow", workspace)
        return ["evaluate", str(checkpoint), "--data", str(folder)]

    return [
        Case("a data folder that does not exist", missing_folder, ("field data", "no-such-set")),
        Case(
            "random networks for a channel model",
            random_networks_for_channels,
            ("field data", "random", "model.fusion"),
        ),
        Case("another spectrogram size", other_spectrogram_size, ("64x32", "model.input_size")),
        Case(
            "fewer samples than a batch", fewer_samples_than_a_batch, ("24 samples", "batch_size")
        ),
        Case("an edited manifest", edited_manifest, ("field val_data", "changed after rfloc")),
        Case("a format without measured RSS", old_format_for_evaluation, ("vhf", "rfloc simulate")),
        Case("a scenario beside a dataset", scenario_and_data, ("not both",)),
        Case("a dataset of other features", other_features_for_evaluation, ("narrow", "mel_bins")),
    ]


CASE_NAMES = [case.name for case in cases(Path("."))]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_datasets(
    name: str, stored_sets: Path, checkpoint: Path, toy_site: Path, tmp_path: Path
) -> None:
    case = next(case for case in cases(stored_sets) if case.name == name)
    run_case(case, checkpoint, toy_site, tmp_path)


def _import_from_a_file(workspace: Path, checkpoint: Path) -> list[str]:
    path = workspace / "recordings.zip"
    path.write_bytes(b"PK\x03\x04")
    return [
        "dataset",
        "import",
        str(path),
        "--out",
        str(workspace / "set"),
        "--scenario",
        "vhf-rural",
    ]


def _import_random_networks(workspace: Path, checkpoint: Path) -> list[str]:
    (workspace / "recordings" / "set-a").mkdir(parents=True)
    return [
        "dataset", "import", str(workspace / "recordings"), "--out", str(workspace / "set"),
        "--scenario", "rss-random-networks",
    ]  # fmt: skip


def _recordings_into_a_full_folder(workspace: Path, checkpoint: Path) -> list[str]:
    (workspace / "mine").mkdir()
    (workspace / "mine" / "notes.txt").write_text("keep", encoding="utf-8")
    return ["simulate", "--sigmf", "--n", "2", "--out", str(workspace / "mine")]


IMPORT_CASES = [
    Case("import from a file", _import_from_a_file, ("recordings.zip", "not a folder")),
    Case(
        "import random networks", _import_random_networks, ("rss-random-networks", "[[receivers]]")
    ),
    Case("recordings into a full folder", _recordings_into_a_full_folder, ("mine", "not empty")),
]


@pytest.mark.parametrize("case", IMPORT_CASES, ids=[case.name for case in IMPORT_CASES])
def test_imports(case: Case, checkpoint: Path, toy_site: Path, tmp_path: Path) -> None:
    run_case(case, checkpoint, toy_site, tmp_path)
