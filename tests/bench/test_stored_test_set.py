"""The accuracy protocol on a stored test set (``accuracy.test_data``): written once by
``rfloc simulate``, it gives every row the figures the simulated test split gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfloc_core.bench.config import load_suite
from rfloc_core.bench.runner import run_suite
from rfloc_core.data.errors import ConfigError
from rfloc_core.data.scenario import load_scenario
from rfloc_core.data.splits import split_seed
from rfloc_core.data.storage import simulate_to_disk
from rfloc_core.registry import get_registry
from tests.bench.toy_suite import write_toy_suite
from tests.conftest import PluginSite

TEST_SAMPLES = 40


def _accuracy(suite_path: Path, out: Path, *overrides: str) -> dict[str, dict[str, object]]:
    suite = load_suite(suite_path, ['latency.backends=["torch"]', *overrides])
    run = run_suite(suite, out, progress=False, tracking=False)
    return {row["model"]: row for row in run.results["accuracy"]}


def test_a_stored_test_set_gives_the_rows_of_the_simulated_one(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    plugin_site.install_toy()
    get_registry(refresh=True)
    stored = tmp_path / "test-set"
    simulate_to_disk(
        load_scenario("rss-ideal"), TEST_SAMPLES + 10, stored, seed=split_seed(0, "test")
    )
    suite_path = write_toy_suite(tmp_path)
    simulated = _accuracy(suite_path, tmp_path / "simulated")
    from_disk = _accuracy(suite_path, tmp_path / "stored", f"accuracy.test_data={stored}")
    assert simulated.keys() == from_disk.keys() >= {"toynet", "rss_mle", "weighted_centroid"}
    for name, row in simulated.items():
        assert from_disk[name]["test_samples"] == TEST_SAMPLES
        for key in ("error_median_m", "error_rmse_m", "ratio_to_crb"):
            assert from_disk[name][key] == pytest.approx(row[key], rel=1e-4), (name, key)
    # Another stored set is really what gets tested: its baselines' errors differ.
    other = tmp_path / "other-test-set"
    simulate_to_disk(load_scenario("rss-ideal"), TEST_SAMPLES, other, seed=split_seed(1, "test"))
    from_other = _accuracy(suite_path, tmp_path / "other", f"accuracy.test_data={other}")
    assert from_other["rss_mle"]["error_median_m"] != pytest.approx(
        simulated["rss_mle"]["error_median_m"], rel=1e-3
    )


def test_a_stored_test_set_of_another_scenario_or_too_small_is_refused_at_load(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    plugin_site.install_toy()
    suite_path = write_toy_suite(tmp_path)
    rural, small = tmp_path / "rural", tmp_path / "small"
    simulate_to_disk(load_scenario("vhf-rural"), TEST_SAMPLES, rural)
    simulate_to_disk(load_scenario("rss-ideal"), TEST_SAMPLES - 1, small)
    with pytest.raises(ConfigError, match=r"holds scenario 'vhf-rural', not accuracy.scenario"):
        load_suite(suite_path, [f"accuracy.test_data={rural}"])
    with pytest.raises(ConfigError, match=r"39 samples, fewer than accuracy.test_samples"):
        load_suite(suite_path, [f"accuracy.test_data={small}"])
    with pytest.raises(ConfigError, match=r"field accuracy.test_data: .*is not a folder"):
        load_suite(suite_path, [f"accuracy.test_data={tmp_path / 'none'}"])
