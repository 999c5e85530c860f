from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rfloc_core.registry import get_registry
from tests.toy_plugins import TOY_BACKBONE, forget_modules, install_distribution


class PluginSite:
    """A folder on sys.path holding plugins installed for one test."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = path
        self.modules: list[str] = []
        monkeypatch.syspath_prepend(str(path))

    def install(
        self, dist_name: str, entry_points: dict[str, str], modules: dict[str, str]
    ) -> None:
        install_distribution(self.path, dist_name, entry_points, modules)
        self.modules += list(modules)
        forget_modules(list(modules))
        importlib.invalidate_caches()

    def install_toy(self) -> None:
        self.install("rfloc-toy", {"toy": "rfloc_toy"}, {"rfloc_toy": TOY_BACKBONE})


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginSite]:
    site = PluginSite(tmp_path / "site", monkeypatch)
    site.path.mkdir()
    yield site
    forget_modules(site.modules)
    monkeypatch.undo()
    importlib.invalidate_caches()
    get_registry(refresh=True)


@pytest.fixture
def toy_registry(plugin_site: PluginSite) -> object:
    plugin_site.install_toy()
    return get_registry(refresh=True)


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test starts from the default plugin selection, an empty measurement cache and its
    own MLflow store, and is not a DDP worker."""
    for variable in ("RFLOC_STRICT_PLUGINS", "RFLOC_PLUGINS", "RFLOC_DISABLE_PLUGINS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("RFLOC_CACHE_DIR", str(tmp_path_factory.mktemp("rfloc-cache")))
    mlflow_store = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{mlflow_store}")
    for variable in ("RFLOC_RUN_DIR", "RFLOC_RESUME", "LOCAL_RANK", "NODE_RANK", "RANK"):
        monkeypatch.delenv(variable, raising=False)


def pytest_configure() -> None:
    sys.dont_write_bytecode = True
