"""simulate_to_disk and DiskDataset: identical read-back, manifest checks, atomic writes, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import typer
from typer.testing import CliRunner

from rfloc_core.data.cli import simulate
from rfloc_core.data.datasets import ITEM_DTYPES, SyntheticDataset
from rfloc_core.data.disk_dataset import DiskDataset
from rfloc_core.data.errors import ChecksumError, ConfigError, DatasetError, FeatureMismatchError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.data.storage import simulate_to_disk
from rfloc_core.hashing import sha256_file
from rfloc_core.owned_folder import ForeignFilesError


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, rural: ScenarioConfig) -> Path:
    out = tmp_path_factory.mktemp("dataset")
    simulate_to_disk(rural, 30, out, seed=5, shard_size=12, batch_size=12)
    return out


def test_read_back_is_identical(written: Path, rural: ScenarioConfig) -> None:
    dataset = DiskDataset(written)
    synthetic = SyntheticDataset(rural, 30, seed=5)
    assert len(dataset) == 30
    for first in (0, 12, 24):
        indices = list(range(first, min(first + 12, 30)))
        expected = synthetic.batch(indices)
        stored = dataset.batch(indices)
        for key in ITEM_DTYPES:
            assert stored[key].dtype == ITEM_DTYPES[key]
            assert torch.equal(stored[key], expected[key]), key
    single = dataset[13]
    assert torch.equal(single["features"], dataset.batch([13])["features"][0])
    assert dataset.batch([29, 0, 29])["index"].tolist() == [29, 0, 29]


def test_manifest_records_everything(written: Path, rural: ScenarioConfig) -> None:
    manifest = json.loads((written / "manifest.json").read_text())
    assert manifest["count"] == 30 and manifest["seed"] == 5
    assert ScenarioConfig.model_validate(manifest["scenario"]) == rural
    assert FeatureConfig.model_validate(manifest["feature_config"]) == FeatureConfig()
    assert [shard["count"] for shard in manifest["shards"]] == [12, 12, 6]
    for shard in manifest["shards"]:
        assert sha256_file(written / shard["file"]) == shard["sha256"]
    assert not [p for p in written.iterdir() if p.name.endswith(".tmp")]


def test_same_seed_gives_byte_identical_shards(
    written: Path, tmp_path: Path, rural: ScenarioConfig
) -> None:
    simulate_to_disk(rural, 30, tmp_path, seed=5, shard_size=12, batch_size=12)
    assert (tmp_path / "manifest.json").read_text() == (written / "manifest.json").read_text()


def test_feature_mismatch_is_refused(written: Path) -> None:
    with pytest.raises(FeatureMismatchError, match=r"mel_bins=128 \(requested 64\)"):
        DiskDataset(written, FeatureConfig(mel_bins=64))


def test_corrupt_shard_is_refused(written: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in written.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    shard = copy / "shard-00001.h5"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match=r"shard-00001\.h5 is corrupt"):
        DiskDataset(copy)
    (copy / "shard-00002.h5").unlink()
    with pytest.raises(DatasetError, match="missing"):
        DiskDataset(copy, verify_checksums=False)


def test_unfinished_or_foreign_folders_are_refused(tmp_path: Path, rural: ScenarioConfig) -> None:
    with pytest.raises(DatasetError, match=r"no manifest\.json"):
        DiskDataset(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ForeignFilesError, match=r"holds files rfloc did not write \(notes\.txt\)"):
        simulate_to_disk(rural, 2, tmp_path)
    with pytest.raises(ConfigError, match="at least 1 sample"):
        simulate_to_disk(rural, 0, tmp_path / "new")


def test_existing_dataset_needs_overwrite(tmp_path: Path, rural: ScenarioConfig) -> None:
    simulate_to_disk(rural, 3, tmp_path, shard_size=2)
    with pytest.raises(DatasetError, match="overwrite"):
        simulate_to_disk(rural, 3, tmp_path)
    simulate_to_disk(rural, 1, tmp_path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "shard-00000-b.h5"]
    simulate_to_disk(rural, 1, tmp_path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "shard-00000.h5"]


def test_dataloader_workers_read_the_same_items(written: Path) -> None:
    dataset = DiskDataset(written)
    loader = torch.utils.data.DataLoader(dataset, batch_size=8, num_workers=2)
    batches = list(loader)
    assert torch.equal(
        torch.cat([b["features"] for b in batches]), dataset.batch(range(30))["features"]
    )


def test_synthetic_dataset_items_are_reproducible(rural: ScenarioConfig) -> None:
    dataset = SyntheticDataset(rural, 10, seed=3)
    first, again = dataset[4], SyntheticDataset(rural, 10, seed=3)[4]
    assert torch.equal(first["position_m"], again["position_m"])
    assert first["features"].shape == (7, 128, 32)
    with pytest.raises(IndexError):
        dataset[10]


def test_simulate_command(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("simulate")(simulate)
    app.command("noop")(lambda: None)
    runner = CliRunner()
    help_text = runner.invoke(app, ["simulate", "--help"]).output
    assert "--scenario" in help_text and "vhf-rural" in help_text
    out = tmp_path / "cli"
    result = runner.invoke(
        app, ["simulate", "--scenario", "urban-multipath", "--n", "5", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert DiskDataset(out).scenario.name == "urban-multipath"
    failed = runner.invoke(app, ["simulate", "--scenario", "nope", "--n", "5", "--out", str(out)])
    assert isinstance(failed.exception, ConfigError)


def test_a_version_1_dataset_reads_with_its_scenarios_network(
    tmp_path: Path, rural: ScenarioConfig
) -> None:
    """Format 1 shards have no receivers_m: the reader fills in the manifest's network, which
    is what format 2 stores for a fixed network. Formats before 4 have no measured RSS, which
    reads as NaN."""
    import h5py

    out = tmp_path / "v1"
    simulate_to_disk(rural, 10, out, seed=2, shard_size=10)
    current = DiskDataset(out).batch(range(10))
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    shard = out / manifest["shards"][0]["file"]
    with h5py.File(shard, "a") as handle:
        del handle["receivers_m"]
    manifest["shards"][0]["sha256"] = sha256_file(shard)
    manifest["format_version"] = 1
    del manifest["items"]["receivers_m"]
    manifest_path.write_text(json.dumps(manifest))
    old_set = DiskDataset(out)
    assert not old_set.measures_rss
    old = old_set.batch(range(10))
    for key in ITEM_DTYPES:
        if key == "measured_rss_dbm":
            assert old[key].shape == current[key].shape and bool(old[key].isnan().all())
        else:
            assert torch.equal(old[key], current[key]), key
    manifest["format_version"] = 9
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="reads 'rfloc-simulated-dataset' versions 1, 2, 3, 4"):
        DiskDataset(out)
