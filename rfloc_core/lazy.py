"""Module attributes that import their home module on first use (keeps start-up light)."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` resolving each name in ``homes`` from the module it names."""

    def __getattr__(name: str) -> Any:
        if name in homes:
            return getattr(importlib.import_module(homes[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


class LazyClass:
    """A builder that imports ``module`` and calls its class ``name`` on first use. Its
    signature is the class's, so the options it takes can be read without building it."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def _target(self) -> Any:
        return getattr(importlib.import_module(self.module), self.name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._target()(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self._target())

    def __repr__(self) -> str:
        return f"LazyClass({self.module!r}, {self.name!r})"
