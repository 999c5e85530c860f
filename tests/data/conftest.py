"""Shared fixtures of the data-side tests."""

from __future__ import annotations

import pytest

from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import ScenarioConfig, load_preset


@pytest.fixture(scope="session")
def rural() -> ScenarioConfig:
    return load_preset("vhf-rural")


@pytest.fixture(scope="session")
def ideal() -> ScenarioConfig:
    return load_preset("rss-ideal")


@pytest.fixture(scope="session")
def features() -> FeatureConfig:
    return FeatureConfig()
