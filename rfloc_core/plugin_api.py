"""The plugin API version: which plugins this core can load.

A plugin module declares the API it was built for as ``RFLOC_PLUGIN_API = (major, minor)``
next to its ``@hookimpl`` functions. It is compatible when its major equals the core's and
its minor is not newer than the core's. A module that declares nothing predates versioned
declarations and is taken as built for ``(1, 0)``.

Within a major version hooks and spec fields are only added, never removed or changed in
meaning; a minor version adds hooks or optional spec fields.
"""

from __future__ import annotations

from types import ModuleType

from rfloc_core.__about__ import __version__ as core_version

RFLOC_PLUGIN_API: tuple[int, int] = (1, 2)
"""The plugin API this core provides, as (major, minor)."""

API_ATTRIBUTE = "RFLOC_PLUGIN_API"
UNDECLARED_API: tuple[int, int] = (1, 0)
"""What a plugin module that declares no ``RFLOC_PLUGIN_API`` is taken to be built for."""


def format_api(api: tuple[int, int]) -> str:
    return f"{api[0]}.{api[1]}"


def _is_version(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    )


def declared_api(module: ModuleType) -> tuple[tuple[int, int] | None, str | None]:
    """The API version ``module`` declares (or the undeclared default), or a problem."""
    value = getattr(module, API_ATTRIBUTE, UNDECLARED_API)
    if not _is_version(value):
        return None, (
            f"{module.__name__}.{API_ATTRIBUTE} must be a (major, minor) tuple of ints such as "
            f"{RFLOC_PLUGIN_API!r}, got {value!r}; set it to the plugin API the plugin targets"
        )
    return (int(value[0]), int(value[1])), None


def incompatibility(plugin_api: tuple[int, int], distribution: str) -> str | None:
    """Why a plugin built for ``plugin_api`` cannot load in this core, or None when it can."""
    major, minor = RFLOC_PLUGIN_API
    if plugin_api[0] == major and plugin_api[1] <= minor:
        return None
    needed = (
        f"upgrade rfloc-core to a release that provides plugin API {format_api(plugin_api)}"
        if plugin_api > RFLOC_PLUGIN_API
        else f"install a release of {distribution} built for plugin API {major}.x"
    )
    return (
        f"incompatible plugin API: built for {format_api(plugin_api)} but rfloc-core "
        f"{core_version} provides {format_api(RFLOC_PLUGIN_API)}, which loads plugins built "
        f"for {major}.0 to {major}.{minor}, so it was not loaded; {needed}"
    )
