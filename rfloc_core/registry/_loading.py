"""Finds plugins through entry points and loads each one in isolation."""

from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

from rfloc_core.__about__ import __version__ as core_version
from rfloc_core.hookspecs import ENTRY_POINT_GROUP
from rfloc_core.plugin_api import RFLOC_PLUGIN_API, declared_api, incompatibility
from rfloc_core.registry._selection import PluginSelection

INTERNAL_PLUGIN = "core"
INTERNAL_MODULE = "rfloc_core.builtin_plugin"


@dataclass
class PluginRecord:
    """One plugin as it is being loaded; frozen into ``PluginInfo`` by the registry."""

    name: str
    distribution: str
    version: str
    internal: bool = False
    module: ModuleType | None = None
    skip_reason: str | None = None
    errors: list[str] = field(default_factory=list)
    api: tuple[int, int] | None = None
    """The plugin API the module declares (or is taken to be built for); None until loaded."""
    incompatible: bool = False


def _short_exception(error: BaseException) -> str:
    origin = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    where = f" (at {origin[0].filename}:{origin[0].lineno})" if origin else ""
    return f"{type(error).__name__}: {error}{where}"


def _record_for(entry_point: EntryPoint) -> PluginRecord:
    dist = entry_point.dist
    return PluginRecord(
        name=entry_point.name,
        distribution=dist.name if dist else "?",
        version=dist.version if dist else "?",
    )


def load_plugins(selection: PluginSelection) -> list[PluginRecord]:
    """Import the internal plugin and every selected entry point, catching each failure."""
    records = [
        PluginRecord(
            name=INTERNAL_PLUGIN,
            distribution="rfloc-core",
            version=core_version,
            internal=True,
            module=importlib.import_module(INTERNAL_MODULE),
            api=RFLOC_PLUGIN_API,
        )
    ]
    by_name: dict[str, PluginRecord] = {}
    for entry_point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        record = _record_for(entry_point)
        if entry_point.name in by_name or entry_point.name == INTERNAL_PLUGIN:
            first = by_name.get(entry_point.name)
            other = f"{first.distribution} {first.version}" if first else "rfloc-core"
            record.errors.append(
                f"plugin name {entry_point.name!r} is declared by both {other} and "
                f"{record.distribution} {record.version}; uninstall one of them"
            )
            record.name = f"{entry_point.name}@{record.distribution}"
            records.append(record)
            continue
        by_name[entry_point.name] = record
        records.append(record)
        record.skip_reason = selection.skip_reason(entry_point.name)
        if record.skip_reason:
            continue
        try:
            loaded = entry_point.load()
        except Exception as error:  # a broken plugin must not take the others down
            record.errors.append(
                f"failed to import {entry_point.value!r}: {_short_exception(error)}"
            )
            continue
        if not isinstance(loaded, ModuleType):
            record.errors.append(
                f"entry point {entry_point.value!r} must name a module holding @hookimpl "
                f"functions, got {type(loaded).__name__}"
            )
            continue
        _accept_if_compatible(record, loaded)
    return records


def _accept_if_compatible(record: PluginRecord, module: ModuleType) -> None:
    """Keep ``module`` for hook registration only when its declared plugin API fits."""
    api, problem = declared_api(module)
    record.api = api
    if problem is None and api is not None:
        problem = incompatibility(api, record.distribution)
    if problem is not None:
        record.errors.append(problem)
        record.incompatible = True
        return
    record.module = module


def describe_exception(error: BaseException) -> str:
    return _short_exception(error)
