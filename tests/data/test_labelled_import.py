"""Labelled SigMF recording sets: simulated IQ written as recordings with the transmitter's
position as an rfloc annotation, imported, and read back equal to the direct path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rfloc_core.data.datasets import SyntheticDataset
from rfloc_core.data.disk_dataset import DiskDataset
from rfloc_core.data.errors import DatasetError
from rfloc_core.data.importer import import_recording_sets
from rfloc_core.data.labelled_recordings import write_labelled_recording_sets
from rfloc_core.data.scenario import ScenarioConfig

SETS = 12


@pytest.fixture(scope="module")
def labelled(rural: ScenarioConfig, tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("labelled")
    write_labelled_recording_sets(rural, SETS, source, seed=7, uncertainty_m=12.5)
    return source


def test_imported_sets_equal_the_direct_path(
    labelled: Path, rural: ScenarioConfig, tmp_path: Path
) -> None:
    report = import_recording_sets(labelled, tmp_path / "set", rural, min_receivers=3)
    assert len(report.imported) == SETS and not report.skipped
    stored = DiskDataset(tmp_path / "set").batch(range(SETS))
    direct = SyntheticDataset(rural, SETS, seed=7).batch(range(SETS))
    assert torch.equal(stored["online"], direct["online"])
    for key in ("features", "position_m", "measured_rss_dbm", "receivers_m"):
        torch.testing.assert_close(stored[key], direct[key], rtol=1e-5, atol=1e-5, msg=key)
    assert bool(stored["tx_power_dbm"].isnan().all())
    assert bool((stored["signal_type"] == -1).all())
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["source"] == "sigmf-import"
    assert manifest["position_uncertainty_m"] == [12.5] * SETS


def _edit_meta(path: Path, change: object) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)  # type: ignore[operator]
    path.write_text(json.dumps(document), encoding="utf-8")


def test_unusable_sets_are_skipped_each_with_its_reason(
    labelled: Path, rural: ScenarioConfig, tmp_path: Path
) -> None:
    import shutil

    source = Path(shutil.copytree(labelled, tmp_path / "source"))
    sets = sorted(path for path in source.iterdir())

    def first_meta(folder: Path) -> Path:
        return sorted(folder.glob("*.sigmf-meta"))[0]

    _edit_meta(first_meta(sets[0]), lambda d: d["global"].update({"core:sample_rate": 48000.0}))
    _edit_meta(first_meta(sets[1]), lambda d: d.update({"annotations": []}) or None)
    for meta in sets[1].glob("*.sigmf-meta"):
        _edit_meta(meta, lambda d: d.update({"annotations": []}))
    _edit_meta(
        first_meta(sets[2]),
        lambda d: d["captures"][0].update({"core:datetime": "2026-01-01T00:02:00.500000Z"}),
    )
    _edit_meta(
        first_meta(sets[3]),
        lambda d: d["annotations"][0].update({"rfloc:transmitter_latitude_deg": 48.5}),
    )
    _edit_meta(
        first_meta(sets[5]),
        lambda d: d["annotations"][0].update({"rfloc:position_uncertainty_m": "about 10 m"}),
    )
    for meta in list(sets[4].glob("*.sigmf-meta"))[:5]:
        meta.unlink()
        meta.with_suffix(".sigmf-data").unlink()
    report = import_recording_sets(source, tmp_path / "set", rural, min_receivers=3)
    reasons = {skipped.recording_set: skipped.reason for skipped in report.skipped}
    assert "sampled at 48000 Hz" in reasons[sets[0].name]
    assert "transmitter's position" in reasons[sets[1].name]
    assert "500.0 ms apart" in reasons[sets[2].name]
    assert "label different transmitter positions" in reasons[sets[3].name]
    assert "fewer than 3 (missing" in reasons[sets[4].name]
    assert "rfloc:position_uncertainty_m is 'about 10 m'" in reasons[sets[5].name]
    assert len(report.imported) == SETS - 6
    assert len(DiskDataset(tmp_path / "set")) == SETS - 6


def test_a_folder_without_usable_sets_is_one_error(rural: ScenarioConfig, tmp_path: Path) -> None:
    (tmp_path / "empty" / "set-a").mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"no recording set .* could be imported \(1 skipped"):
        import_recording_sets(tmp_path / "empty", tmp_path / "out", rural)
    with pytest.raises(DatasetError, match="is not a folder"):
        import_recording_sets(tmp_path / "nowhere", tmp_path / "out", rural)


def test_simulated_recordings_import_on_the_command_line(tmp_path: Path) -> None:
    from tests.cli_runner import run_rfloc

    sets, out = tmp_path / "recordings", tmp_path / "imported"
    written = run_rfloc("simulate", "--sigmf", "--n", "6", "--out", str(sets), "--seed", "3")
    assert written.returncode == 0, written.stderr[-3000:]
    imported = run_rfloc(
        "dataset", "import", str(sets), "--out", str(out), "--scenario", "vhf-rural",
        "--min-receivers", "3",
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert "imported 6 of 6 recording sets" in imported.stderr
    assert len(DiskDataset(out)) == 6
