"""Scenario and feature configuration: presets, load-time validation, geometry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pymap3d.vincenty
import pytest

from rfloc_core.contract import DEFAULT_INPUT_SIZE, DEFAULT_RECEIVERS
from rfloc_core.data.errors import ConfigError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.geometry import enu_to_geodetic, network_origin, receivers_enu_m
from rfloc_core.data.presets import preset_names
from rfloc_core.data.scenario import ScenarioConfig, load_preset, load_scenario
from rfloc_core.errors import RflocError

PRESET_FOLDER = Path(__file__).parents[2] / "rfloc_core" / "data" / "presets"


def test_presets_ship_and_load() -> None:
    assert {"rss-ideal", "vhf-rural", "urban-multipath"} <= set(preset_names())
    for name in preset_names():
        scenario = load_preset(name)
        assert scenario.name == name
        assert len(scenario.receivers) == DEFAULT_RECEIVERS
        if scenario.random_network is None:
            assert scenario.n_receivers == DEFAULT_RECEIVERS
        else:
            assert scenario.n_receivers == scenario.random_network.count_max


def test_the_random_networks_preset_is_rss_ideal_on_other_networks(ideal: ScenarioConfig) -> None:
    random = load_preset("rss-random-networks")
    assert random.random_network is not None
    assert random.receiver_hardware.offline_count_max == 2
    same_world = {"name", "description", "random_network", "receiver_hardware"}
    assert random.model_dump(exclude=same_world) == ideal.model_dump(exclude=same_world)
    hardware = random.receiver_hardware.model_copy(update={"offline_count_max": 0})
    assert hardware == ideal.receiver_hardware


def test_defaults_are_the_vhf_rural_preset(rural: ScenarioConfig) -> None:
    assert ScenarioConfig(name=rural.name, description=rural.description) == rural
    assert 144e6 <= rural.carrier_frequency_hz <= 146e6


def test_rss_ideal_has_only_path_loss_and_shadowing(ideal: ScenarioConfig) -> None:
    assert not ideal.multipath.enabled
    assert ideal.transmitter.carrier_offset_max_hz == 0.0
    assert ideal.receiver_hardware.calibration_error_sigma_db == 0.0
    assert ideal.receiver_hardware.lo_offset_sigma_hz == 0.0
    assert ideal.receiver_hardware.dropout_probability == 0.0
    assert ideal.propagation.shadowing_correlation_distance_m == 0.0


def test_feature_defaults_match_the_contract(features: FeatureConfig) -> None:
    assert (features.mel_bins, features.frames) == DEFAULT_INPUT_SIZE


def _write_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = (PRESET_FOLDER / "vhf-rural.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "scenario.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "path_loss_exponent = 3.0",
            "path_loss_exponent = 9.0",
            ["propagation.path_loss_exponent", "9.0", ">= 1.5", "<= 6.0"],
        ),
        (
            "dropout_probability = 0.05",
            "dropout_probability = -0.1",
            ["receiver_hardware.dropout_probability", ">= 0.0", "<= 0.9"],
        ),
        (
            "latitude_deg = 48.03306",
            "latitude_deg = 98.03306",
            ["receivers.2.latitude_deg", "<= 90.0"],
        ),
        ("taps = 4", "tapz = 4", ["unknown field multipath.tapz", "taps"]),
        ("east_min_m = -20000.0", "east_min_m = 30000.0", ["area", "east_min_m must be below"]),
    ],
)
def test_bad_scenario_values_fail_at_load_with_the_field_path(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    path = _write_variant(tmp_path, old, new)
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert isinstance(caught.value, RflocError)
    assert str(path) in message
    assert "\n" not in message
    for fragment in expected:
        assert fragment in message


def test_bad_feature_config_fails_at_load(tmp_path: Path) -> None:
    path = tmp_path / "features.toml"
    path.write_text("hop_samples = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"hop_samples got 0 but it must be >= 1"):
        FeatureConfig.from_toml(path)
    path.write_text("f_max_hz = 20000.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"f_max_hz <= sample_rate_hz/2"):
        FeatureConfig.from_toml(path)


def test_unknown_preset_and_missing_file_are_clear() -> None:
    with pytest.raises(ConfigError, match="unknown scenario preset 'nowhere'"):
        load_scenario("nowhere")
    with pytest.raises(ConfigError, match="does not exist"):
        load_scenario("/no/such/scenario.toml")


def test_enu_frame_agrees_with_geodesic_distances(rural: ScenarioConfig) -> None:
    enu_m = receivers_enu_m(rural)
    assert np.abs(enu_m[:, :2].mean(axis=0)).max() < 200.0
    first, second = rural.receivers[0], rural.receivers[1]
    geodesic_m, _ = pymap3d.vincenty.vdist(
        first.latitude_deg, first.longitude_deg, second.latitude_deg, second.longitude_deg
    )
    horizontal_m = np.linalg.norm(enu_m[0, :2] - enu_m[1, :2])
    assert horizontal_m == pytest.approx(float(geodesic_m), rel=2e-4)


def test_enu_round_trip(rural: ScenarioConfig) -> None:
    origin = network_origin(rural.receivers)
    lat, lon, alt = enu_to_geodetic(receivers_enu_m(rural), origin)
    np.testing.assert_allclose(lat, [r.latitude_deg for r in rural.receivers], atol=1e-9)
    np.testing.assert_allclose(lon, [r.longitude_deg for r in rural.receivers], atol=1e-9)
    np.testing.assert_allclose(alt, [r.altitude_m for r in rural.receivers], atol=1e-4)


def test_importing_the_core_and_the_data_config_never_imports_torch() -> None:
    code = (
        "import sys, rfloc_core, rfloc_core.data, rfloc_core.data.cli; "
        "rfloc_core.data.load_preset('vhf-rural'); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", preset_names())
def test_a_scenario_written_as_toml_reads_back_equal(name: str, tmp_path: Path) -> None:
    from rfloc_core.data.scenario_toml import scenario_toml

    scenario = load_preset(name)
    path = tmp_path / "scenario.toml"
    path.write_text(scenario_toml(scenario), encoding="utf-8")
    assert load_scenario(path) == scenario
