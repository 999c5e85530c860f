"""``rfloc train`` and ``rfloc evaluate`` from the command line: errors, and a real evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rfloc_core.checkpoint import save_checkpoint
from rfloc_core.data.scenario import load_scenario
from rfloc_core.model import create_model
from tests.cli_runner import run_rfloc
from tests.conftest import PluginSite


def _one_line_error(result: object) -> str:
    assert result.returncode == 1, result.stdout  # type: ignore[attr-defined]
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    return stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--backbone", "no_such_net"), "field model.backbone"),
        (("--preset", "dev_test", "learning_rate=-1"), "learning_rate"),
        (("--config", "missing.toml"), "missing.toml"),
        (("--preset", "dev_test", "epoch=3"), "unknown key 'epoch'; did you mean epochs"),
        (("--preset", "dev_test", "--config", "x.toml"), "give --preset or --config, not both"),
        (("--preset", "no_such_preset"), "dev_test"),
    ],
)
def test_bad_configs_get_one_line_naming_the_field(
    args: tuple[str, ...], expected: str, plugin_site: PluginSite
) -> None:
    plugin_site.install_toy()
    stderr = _one_line_error(run_rfloc("train", "--no-tracking", *args, site=plugin_site.path))
    assert expected in stderr
    if "learning_rate" in expected:
        assert "greater than 0" in stderr or "> 0" in stderr


def test_evaluate_prints_model_baselines_and_bound_and_writes_plots(
    tmp_path: Path, plugin_site: PluginSite, toy_registry: object
) -> None:
    torch.manual_seed(0)
    model = create_model("toynet", head_options={"position_scale_m": 20_000.0})
    checkpoint = save_checkpoint(model, tmp_path / "ckpt", scenario=load_scenario("rss-ideal"))
    out = tmp_path / "eval"
    result = run_rfloc(
        "evaluate", str(checkpoint), "--n", "64", "--scenario", "vhf-rural", "--out", str(out),
        site=plugin_site.path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for row in ("model", "rss_mle", "weighted_centroid", "Cramér–Rao bound"):
        assert row in result.stdout
    assert "toynet/gaussian on vhf-rural" in result.stdout
    stored = json.loads((out / "evaluation.json").read_text())
    assert stored["samples"] == 64
    assert stored["context"]["scenario"] == "vhf-rural"
    assert [row["name"] for row in stored["rows"]] == ["model", "rss_mle", "weighted_centroid"]
    assert stored["crb_rmse_m"] > 0
    for name in ("error_cdf.png", "positions_map.png", "calibration.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def test_evaluate_missing_checkpoint_is_one_line(tmp_path: Path) -> None:
    stderr = _one_line_error(run_rfloc("evaluate", str(tmp_path / "nothing")))
    assert "expected a checkpoint folder" in stderr


def test_evaluate_refuses_a_scenario_with_another_receiver_count(
    tmp_path: Path, plugin_site: PluginSite, toy_registry: object
) -> None:
    model = create_model("toynet", receivers=4)
    checkpoint = save_checkpoint(model, tmp_path / "ckpt")
    stderr = _one_line_error(
        run_rfloc("evaluate", str(checkpoint), "--scenario", "vhf-rural", site=plugin_site.path)
    )
    assert "has 7 receivers but the model was built for 4" in stderr
