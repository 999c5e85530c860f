"""Plugin discovery and the spec registry.

``get_registry()`` loads every plugin of the ``rfloc`` entry-point group once per process and
per plugin selection (``RFLOC_PLUGINS``, ``RFLOC_DISABLE_PLUGINS``, ``RFLOC_STRICT_PLUGINS``).
"""

from __future__ import annotations

from rfloc_core.registry._registry import PluginInfo, Registry, build_registry
from rfloc_core.registry._selection import PluginSelection

_cache: dict[PluginSelection, Registry] = {}


def get_registry(*, refresh: bool = False) -> Registry:
    """The registry for the current environment; ``refresh`` re-reads installed plugins."""
    selection = PluginSelection.from_environment()
    if refresh:
        _cache.clear()
    if selection not in _cache:
        _cache[selection] = build_registry(selection)
    return _cache[selection]


__all__ = ["PluginInfo", "PluginSelection", "Registry", "get_registry"]
