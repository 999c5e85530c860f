"""A dataset folder keeps the user's files, survives a write that stops half-way, and refuses a
manifest that was edited or that points outside the folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rfloc_core.data import storage
from rfloc_core.data.dataset_folder import MANIFEST_HASH_KEY, WRITING_NAME, manifest_sha256
from rfloc_core.data.disk_dataset import DiskDataset
from rfloc_core.data.errors import ChecksumError, ConfigError, DatasetError
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.data.storage import simulate_to_disk
from rfloc_core.owned_folder import ForeignFilesError


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def _rewrite(manifest_path: Path, change: dict[str, object], *, rehash: bool) -> None:
    manifest = json.loads(manifest_path.read_text())
    manifest.update(change)
    if rehash:
        manifest[MANIFEST_HASH_KEY] = manifest_sha256(manifest)
    manifest_path.write_text(json.dumps(manifest))


def test_a_users_files_are_never_replaced(tmp_path: Path, rural: ScenarioConfig) -> None:
    (tmp_path / "manifest.json").write_text('{"mine": true}')
    (tmp_path / "notes.txt").write_text("field notes")
    before = _snapshot(tmp_path)
    for overwrite in (False, True):
        with pytest.raises(ForeignFilesError, match=r"manifest\.json, notes\.txt"):
            simulate_to_disk(rural, 2, tmp_path, overwrite=overwrite)
    assert _snapshot(tmp_path) == before


def test_a_dataset_beside_a_users_file_is_not_overwritten(
    tmp_path: Path, rural: ScenarioConfig
) -> None:
    simulate_to_disk(rural, 3, tmp_path, shard_size=2)
    (tmp_path / "README.txt").write_text("who made this")
    before = _snapshot(tmp_path)
    with pytest.raises(ForeignFilesError, match=r"README\.txt"):
        simulate_to_disk(rural, 3, tmp_path, overwrite=True)
    assert _snapshot(tmp_path) == before


def test_a_write_stopped_before_its_manifest_leaves_the_old_dataset(
    tmp_path: Path, rural: ScenarioConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate_to_disk(rural, 4, tmp_path, seed=1, shard_size=2)
    old = DiskDataset(tmp_path).batch(range(4))["features"]

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(storage, "commit_write", stop)
    with pytest.raises(KeyboardInterrupt):
        simulate_to_disk(rural, 6, tmp_path, seed=2, shard_size=2, overwrite=True)
    monkeypatch.undo()
    assert (tmp_path / WRITING_NAME).exists()
    assert DiskDataset(tmp_path).batch(range(4))["features"].equal(old)
    with pytest.raises(DatasetError, match="overwrite"):
        simulate_to_disk(rural, 6, tmp_path, seed=2, shard_size=2)
    simulate_to_disk(rural, 6, tmp_path, seed=2, shard_size=2, overwrite=True)
    assert len(DiskDataset(tmp_path)) == 6
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["manifest.json", *(f"shard-0000{n}-b.h5" for n in range(3))]


def test_a_first_write_stopped_half_way_is_rerun_without_cleanup(
    tmp_path: Path, rural: ScenarioConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stop(*_: object) -> None:
        (tmp_path / ".manifest.json.x1y2.tmp").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(storage, "commit_write", stop)
    with pytest.raises(KeyboardInterrupt):
        simulate_to_disk(rural, 4, tmp_path, shard_size=2)
    monkeypatch.undo()
    with pytest.raises(DatasetError, match=r"no manifest\.json"):
        DiskDataset(tmp_path)
    simulate_to_disk(rural, 4, tmp_path, shard_size=2)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "manifest.json",
        "shard-00000.h5",
        "shard-00001.h5",
    ]


def test_an_edited_manifest_is_refused(tmp_path: Path, rural: ScenarioConfig) -> None:
    simulate_to_disk(rural, 2, tmp_path)
    manifest_path = tmp_path / "manifest.json"
    scenario = json.loads(manifest_path.read_text())["scenario"]
    _rewrite(manifest_path, {"scenario": {**scenario, "name": "urban-multipath"}}, rehash=False)
    with pytest.raises(ChecksumError, match="changed after rfloc wrote it"):
        DiskDataset(tmp_path)


@pytest.mark.parametrize("shard_file", ["../outside.h5", "/etc/passwd", "sub/shard.h5", ""])
def test_shard_paths_stay_inside_the_dataset(
    tmp_path: Path, rural: ScenarioConfig, shard_file: str
) -> None:
    simulate_to_disk(rural, 2, tmp_path / "data")
    manifest_path = tmp_path / "data" / "manifest.json"
    shards = json.loads(manifest_path.read_text())["shards"]
    _rewrite(manifest_path, {"shards": [{**shards[0], "file": shard_file}]}, rehash=True)
    with pytest.raises(DatasetError, match="plain file names inside the dataset folder"):
        DiskDataset(tmp_path / "data")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scenario": [1, 2]}, "field scenario must be a JSON object"),
        ({"seed": "zero"}, "seed and count must be integers"),
        ({"shards": [{"file": "shard-00000.h5"}]}, "field shards must be a non-empty list"),
    ],
)
def test_manifest_fields_of_the_wrong_type_are_named(
    tmp_path: Path, rural: ScenarioConfig, change: dict[str, object], message: str
) -> None:
    simulate_to_disk(rural, 2, tmp_path)
    _rewrite(tmp_path / "manifest.json", change, rehash=True)
    with pytest.raises(DatasetError, match=message):
        DiskDataset(tmp_path)


def test_a_scenario_field_out_of_range_names_the_manifest_field(
    tmp_path: Path, rural: ScenarioConfig
) -> None:
    simulate_to_disk(rural, 2, tmp_path)
    manifest_path = tmp_path / "manifest.json"
    scenario = json.loads(manifest_path.read_text())["scenario"]
    scenario["propagation"]["path_loss_exponent"] = -4
    _rewrite(manifest_path, {"scenario": scenario}, rehash=True)
    with pytest.raises(ConfigError, match=r"manifest\.json field scenario: field propagation"):
        DiskDataset(tmp_path)


def test_a_dataset_larger_than_the_disk_is_refused_before_anything_is_written(
    tmp_path: Path, rural: ScenarioConfig
) -> None:
    with pytest.raises(ConfigError, match=r"samples need about .* GB free"):
        simulate_to_disk(rural, 2**70, tmp_path / "huge")
    assert not (tmp_path / "huge").exists()
