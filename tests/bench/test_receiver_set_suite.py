"""A suite with receiver_sets trains each backbone also as a receiver-set model on random
networks, tests it on the suite's test set beside the other rows and on a held-out network,
and reports that network's figures in the Markdown and the HTML."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rfloc_core.bench.config import ReceiverSetProtocol, load_suite
from rfloc_core.bench.held_out import held_out_scenario
from rfloc_core.bench.results import validate_results
from rfloc_core.bench.runner import run_suite
from rfloc_core.errors import RflocError
from tests.bench.chromium import CHROMIUM, assert_renders_without_console_errors
from tests.bench.toy_suite import toy_suite_toml

RECEIVER_SETS = """
[receiver_sets]
fusion = "deepsets"
fusion_options = {width = 16, layers = 1}
input_size = [32, 32]
held_out_stations = 4
"""


def test_set_models_run_beside_channel_models_with_a_held_out_network(
    toy_registry: object, tmp_path: Path
) -> None:
    path = tmp_path / "suite.toml"
    path.write_text(toy_suite_toml(backends=("torch",)) + RECEIVER_SETS, encoding="utf-8")
    suite = load_suite(path)
    out = tmp_path / "out"
    results = validate_results(run_suite(suite, out, progress=False, tracking=False).results)
    rows = {row["model"]: row for row in results["accuracy"]}
    assert {"toynet", "toynet+deepsets", "rss_mle", "prior"} <= set(rows)
    channel, receiver_set = rows["toynet"], rows["toynet+deepsets"]
    assert receiver_set["fusion"] == "deepsets" and "fusion" not in channel
    assert receiver_set["test_samples"] == channel["test_samples"] == 40  # the same test set
    assert channel["protocol"]["bare_train_samples_per_s"] > 0
    assert receiver_set["protocol"]["bare_train_samples_per_s"] is None  # not timed bare
    held_out = receiver_set["held_out"]
    assert held_out["stations"] == 4
    assert held_out["network"] == held_out_scenario(suite.receiver_sets).name
    for key in ("error_rmse_m", "rss_mle_rmse_m", "crb_rmse_m", "ratio_to_crb"):
        assert math.isfinite(held_out[key]) and held_out[key] > 0, key
    assert held_out["verdict"] in ("learned", "did not learn")
    assert held_out["prior_median_m"] > 0
    assert held_out["ratio_to_crb"] == pytest.approx(
        held_out["error_rmse_m"] / held_out["crb_rmse_m"]
    )
    assert {row["model"] for row in results["latency"]} == {"toynet"}  # accuracy only
    markdown = (out / "report.md").read_text(encoding="utf-8")
    section = markdown.split("## Held-out network", 1)[1]
    assert f"| toynet+deepsets | {held_out['network']} | 4 |" in section
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="held-out"' in html and "toynet+deepsets" in html
    if CHROMIUM is not None:
        assert_renders_without_console_errors(out / "report.html", tmp_path)


def test_a_training_scenario_without_random_networks_is_refused() -> None:
    with pytest.raises(RflocError, match="has no random_network"):
        held_out_scenario(ReceiverSetProtocol(scenario="rss-ideal"))


def test_a_suite_with_a_fusion_that_is_not_installed_stops_before_any_cell(
    toy_registry: object, tmp_path: Path
) -> None:
    path = tmp_path / "suite.toml"
    path.write_text(
        toy_suite_toml(backends=("torch",)) + RECEIVER_SETS.replace("deepsets", "nosuch"),
        encoding="utf-8",
    )
    with pytest.raises(RflocError, match="suite field receiver_sets: unknown fusion 'nosuch'"):
        run_suite(load_suite(path), tmp_path / "out", progress=False, tracking=False)
    assert not (tmp_path / "out").exists()
