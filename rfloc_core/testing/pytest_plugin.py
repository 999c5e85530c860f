"""The rfloc pytest plugin (entry point ``pytest11``): markers, GPU skips, and the
parametrization behind ``BackboneConformance``. Loading it does not import torch."""

from __future__ import annotations

import functools
from collections.abc import Iterator
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
    from rfloc_core.measure import measure_backbone

    return measure_backbone(spec).params_m


def _selected_specs(cls: type[BackboneConformance]) -> list[Any]:
    from rfloc_core.registry import get_registry

    specs = get_registry().backbones(cls.backbones)
    if cls.plugin is not None:
        specs = [s for s in specs if s.plugin == cls.plugin]
    if not specs:
        raise pytest.UsageError(
            f"{cls.__name__} selects no installed backbone (plugin={cls.plugin!r}, "
            f"backbones={cls.backbones!r}); install the plugin under test, "
            "and check `rfloc plugins` for its errors"
        )
    return specs


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    cls = metafunc.cls
    if cls is None or not issubclass(cls, BackboneConformance):
        return
    if "backbone_spec" not in metafunc.fixturenames:
        return
    heavy = getattr(metafunc.function, "rfloc_builds_weights", False)
    params = []
    for spec in _selected_specs(cls):
        slow = heavy and _params_m(spec) > cls.slow_above_params_m
        params.append(pytest.param(spec, id=spec.name, marks=[pytest.mark.slow] if slow else []))
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
