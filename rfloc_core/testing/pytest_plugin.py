"""The rfloc pytest plugin (entry point ``pytest11``): markers, GPU skips, and the
parametrization behind ``BackboneConformance``. Loading it does not import torch."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from rfloc_core.testing.conformance import BackboneConformance

MARKERS = {
    "slow": "builds, runs or exports the largest variants; deselect with -m 'not slow'",
    "gpu": "needs a CUDA GPU; skipped where none is present",
    "tensorrt": "needs TensorRT and a CUDA GPU; skipped where absent",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


@functools.cache
def _params_m(spec: Any) -> float:
    """Millions of parameters, or 0 where the backbone does not build: then every check runs
    (none is deselected as slow) and reports the build error itself."""
    from rfloc_core.measure import measure_backbone

    try:
        return measure_backbone(spec).params_m
    except Exception:
        return 0.0


def backbone_params(
    plugin: str | None = None,
    patterns: str | Sequence[str] = "*",
    slow_above_params_m: float | None = None,
) -> list[Any]:
    """``pytest.param`` for each installed backbone selected by plugin and patterns, marked
    ``slow`` above ``slow_above_params_m`` million parameters; for ``parametrize``."""
    from rfloc_core.registry import get_registry

    specs = get_registry().backbones(patterns)
    if plugin is not None:
        specs = [s for s in specs if s.plugin == plugin]
    if not specs:
        raise pytest.UsageError(
            f"no installed backbone is selected by plugin={plugin!r}, patterns={patterns!r}; "
            "install the plugin under test, and check `rfloc plugins` for its errors"
        )
    return [
        pytest.param(
            spec,
            id=spec.name,
            marks=[pytest.mark.slow]
            if slow_above_params_m is not None and _params_m(spec) > slow_above_params_m
            else [],
        )
        for spec in specs
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    cls = metafunc.cls
    if cls is None or not issubclass(cls, BackboneConformance):
        return
    if "backbone_spec" not in metafunc.fixturenames:
        return
    heavy = getattr(metafunc.function, "rfloc_builds_weights", False)
    threshold = cls.slow_above_params_m if heavy else None
    params = backbone_params(cls.plugin, cls.backbones, threshold)
    metafunc.parametrize("backbone_spec", params, scope="class")


@pytest.fixture(scope="class")
def rfloc_model(backbone_spec: Any) -> Iterator[Any]:
    """The backbone under test with the core's gaussian head, built once per class."""
    from rfloc_core.testing.checks import build_for_checks

    model = build_for_checks(backbone_spec)
    yield model
    del model


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("gpu") or item.get_closest_marker("tensorrt"):
        import torch

        if not torch.cuda.is_available():
            pytest.skip("needs a CUDA GPU; torch.cuda.is_available() is False on this machine")
