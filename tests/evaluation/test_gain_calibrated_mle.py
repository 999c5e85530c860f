"""``rfloc calibrate-gains`` then ``rfloc evaluate --gains``: the scenario file it writes, and
the gain-calibrated RSS MLE beside the one that assumes calibrated stations."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rfloc_core.checkpoint import save_checkpoint
from rfloc_core.data import FeatureConfig, load_preset
from rfloc_core.data.scenario import load_scenario
from rfloc_core.data.storage import simulate_to_disk
from rfloc_core.evaluation.evaluate import evaluate
from rfloc_core.model import create_model
from tests.cli_runner import run_rfloc
from tests.conftest import PluginSite


@pytest.fixture
def toy_checkpoint(toy_registry: object, tmp_path: Path) -> Path:
    return save_checkpoint(
        create_model("toynet"),
        tmp_path / "ckpt",
        scenario=load_preset("vhf-uncalibrated"),
        features=FeatureConfig(),
        extra={"train_mean_position_m": [0.0, 0.0]},
    )


def test_calibrated_gains_repair_the_mle_on_uncalibrated_stations(
    tmp_path: Path, plugin_site: PluginSite, toy_checkpoint: Path
) -> None:
    uncalibrated = load_scenario("vhf-uncalibrated")
    simulate_to_disk(uncalibrated, 200, tmp_path / "labelled", seed=11)
    simulate_to_disk(uncalibrated, 300, tmp_path / "test", seed=12)
    calibrated = tmp_path / "calibrated.toml"
    result = run_rfloc(
        "calibrate-gains", str(tmp_path / "labelled"), "--out", str(calibrated), "--fit-exponent",
        site=plugin_site.path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rx3" in result.stdout and "fitted" in result.stdout
    written = load_scenario(calibrated)
    stored = tomllib.loads(calibrated.read_text(encoding="utf-8"))
    assert [r["gain_offset_db"] for r in stored["receivers"]] == [
        r.gain_offset_db for r in written.receivers
    ]
    assert written.receivers[2].gain_offset_db > written.receivers[5].gain_offset_db  # +9 vs -9

    evaluation = evaluate(toy_checkpoint, data=tmp_path / "test", gains=calibrated)
    # Medians: the MLE's RMSE on this network is set by a few estimates at the area's edge.
    rows = {row.name: row.errors.median_m for row in evaluation.rows}
    assert rows["rss_mle_gains"] < 0.9 * rows["rss_mle"]
    assert evaluate(toy_checkpoint, data=tmp_path / "test").row("rss_mle").errors.median_m == (
        pytest.approx(rows["rss_mle"])
    )

    again = run_rfloc(
        "calibrate-gains", str(tmp_path / "labelled"), "--out", str(calibrated), "--overwrite",
        site=plugin_site.path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]


def test_gains_of_another_network_and_foreign_files_are_refused_in_one_line(
    tmp_path: Path, plugin_site: PluginSite, toy_checkpoint: Path
) -> None:
    simulate_to_disk(load_scenario("vhf-uncalibrated"), 16, tmp_path / "test", seed=1)
    gains = tmp_path / "gains.toml"
    assert run_rfloc("calibrate-gains", str(tmp_path / "test"), "--out", str(gains)).returncode == 0
    text = gains.read_text(encoding="utf-8")
    moved = tmp_path / "moved.toml"
    moved.write_text(text.replace("latitude_deg = 47.8955", "latitude_deg = 47.9955"), "utf-8")
    result = run_rfloc(
        "evaluate", str(toy_checkpoint), "--data", str(tmp_path / "test"),
        "--gains", str(moved), site=plugin_site.path,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "are not for the evaluated network 'vhf-uncalibrated'" in result.stderr

    mine = tmp_path / "notes.toml"
    mine.write_text("# my own notes\n", encoding="utf-8")
    result = run_rfloc("calibrate-gains", str(tmp_path / "test"), "--out", str(mine), "--overwrite")
    assert result.returncode == 1 and "rfloc did not write it" in result.stderr
    assert mine.read_text(encoding="utf-8") == "# my own notes\n"
