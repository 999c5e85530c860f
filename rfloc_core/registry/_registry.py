"""The registry: every spec from every loaded plugin, indexed by name."""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import pluggy

from rfloc_core import hookspecs
from rfloc_core.errors import PluginError, UnknownNameError
from rfloc_core.plugin_api import format_api
from rfloc_core.registry._loading import PluginRecord, describe_exception, load_plugins
from rfloc_core.registry._selection import ONLY_VAR, STRICT_VAR, PluginSelection
from rfloc_core.registry._validation import validate_specs
from rfloc_core.specs import AnySpec, BackboneSpec, ExporterSpec, FusionSpec, HeadSpec

SpecT = TypeVar("SpecT", BackboneSpec, HeadSpec, ExporterSpec, FusionSpec)
Kind = Literal["backbone", "head", "exporter", "fusion"]

HOOK_BY_KIND: dict[Kind, str] = {
    "backbone": "rfloc_backbones",
    "head": "rfloc_heads",
    "exporter": "rfloc_exporters",
    "fusion": "rfloc_fusions",
}

KNOWN_FAMILY_PACKAGES = {
    "convnext": "rfloc-convnext",
    "resnet": "rfloc-resnet",
    "vit": "rfloc-vit",
    "efficientnet": "rfloc-efficientnet",
}
"""Families published by the project, so that a missing one can be named for install."""

State = Literal["loaded", "failed", "incompatible", "skipped", "internal"]


@dataclass(frozen=True)
class PluginInfo:
    """What ``rfloc plugins`` shows about one plugin."""

    name: str
    distribution: str
    version: str
    state: State
    hooks: tuple[str, ...]
    spec_counts: dict[str, int]
    errors: tuple[str, ...]
    skip_reason: str | None = None
    api: str = ""
    """The plugin API version it was built for, as "major.minor"; empty when not imported."""


class _Index(Generic[SpecT]):
    """Specs of one kind, by name and alias; a name claimed by two plugins is withheld."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.ordered: list[SpecT] = []
        self.by_name: dict[str, SpecT] = {}
        self.conflicts: dict[str, str] = {}

    def add(self, spec: SpecT, owner: PluginRecord, records: dict[str, PluginRecord]) -> None:
        names = [spec.name, *getattr(spec, "aliases", ())]
        clash = next((n for n in names if n in self.by_name or n in self.conflicts), None)
        if clash is None:
            self.ordered.append(spec)
            self.by_name.update(dict.fromkeys(names, spec))
            return
        holder = self.by_name.get(clash)
        if holder is None:
            message = self.conflicts[clash]
        else:
            message = (
                f"{self.kind} name {clash!r} is registered by both plugin {holder.plugin!r} "
                f"({records[holder.plugin].distribution}) and plugin {owner.name!r} "
                f"({owner.distribution}); uninstall one, or skip one with RFLOC_DISABLE_PLUGINS"
            )
            self.ordered.remove(holder)
            for name in [n for n, s in self.by_name.items() if s is holder]:
                del self.by_name[name]
                self.conflicts[name] = message
            records[holder.plugin].errors.append(message)
        self.conflicts.update(dict.fromkeys(names, message))
        owner.errors.append(message)

    def select(self, patterns: Sequence[str]) -> list[SpecT]:
        return [s for s in self.ordered if any(fnmatch.fnmatchcase(s.name, p) for p in patterns)]

    def get(self, name: str) -> SpecT:
        if name in self.by_name:
            return self.by_name[name]
        if name in self.conflicts:
            raise PluginError(self.conflicts[name])
        raise UnknownNameError(self._unknown_message(name))

    def _unknown_message(self, name: str) -> str:
        known = sorted({s.name for s in self.ordered})
        family = name.split("_")[0].rstrip("0123456789")
        package = KNOWN_FAMILY_PACKAGES.get(family)
        if (
            self.kind == "backbone"
            and package
            and not any(getattr(s, "family", None) == family for s in self.ordered)
        ):
            return (
                f"unknown backbone {name!r}: the {family} family is not installed; "
                f"install it with `pip install {package}` (from a checkout: "
                f"`pip install ./plugins/{family}`)"
            )
        close = difflib.get_close_matches(name, list(self.by_name), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        listing = ", ".join(known) if known else "none"
        where = "`rfloc models` lists them" if self.kind == "backbone" else "`rfloc plugins`"
        return (
            f"unknown {self.kind} {name!r}{hint}; installed {self.kind}s: {listing}. Use one "
            f"of these ({where}), or install the plugin that provides {name!r}"
        )


class Registry:
    """Backbones, heads, exporters and fusions from every loaded plugin. Build it with
    ``get_registry``."""

    def __init__(
        self,
        plugins: tuple[PluginInfo, ...],
        indexes: tuple[
            _Index[BackboneSpec], _Index[HeadSpec], _Index[ExporterSpec], _Index[FusionSpec]
        ],
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.plugins = plugins
        self._backbones, self._heads, self._exporters, self._fusions = indexes
        self.warnings = warnings

    def backbones(self, patterns: str | Sequence[str] = "*") -> list[BackboneSpec]:
        """Backbones whose name matches any fnmatch pattern, in plugin declaration order."""
        return self._backbones.select([patterns] if isinstance(patterns, str) else patterns)

    def backbone(self, name: str) -> BackboneSpec:
        """The backbone registered under ``name`` or one of its aliases."""
        return self._backbones.get(name)

    def heads(self) -> list[HeadSpec]:
        return list(self._heads.ordered)

    def head(self, name: str) -> HeadSpec:
        return self._heads.get(name)

    def exporters(self) -> list[ExporterSpec]:
        return list(self._exporters.ordered)

    def exporter(self, name: str) -> ExporterSpec:
        return self._exporters.get(name)

    def fusions(self) -> list[FusionSpec]:
        return list(self._fusions.ordered)

    def fusion(self, name: str) -> FusionSpec:
        """The set fusion registered under ``name`` (see ``create_model(..., fusion=...)``)."""
        return self._fusions.get(name)

    def problems(self) -> list[str]:
        """Every plugin error, prefixed with the plugin it concerns."""
        found = [
            f"plugin {p.name!r} ({p.distribution} {p.version}): {e}"
            for p in self.plugins
            for e in p.errors
        ]
        return found + list(self.warnings)


def _register_hooks(manager: pluggy.PluginManager, record: PluginRecord) -> None:
    try:
        manager.register(record.module, name=record.name)
    except Exception as error:
        record.errors.append(f"invalid hook implementation: {describe_exception(error)}")
        record.module = None
        return
    unknown = [i for i in manager.get_hookcallers(record.module) or [] if i.spec is None]
    for caller in unknown:
        record.errors.append(
            f"implements {caller.name!r}, which is not an rfloc hook "
            f"(known: {', '.join(hookspecs.HOOK_NAMES)})"
        )


def _collect(
    manager: pluggy.PluginManager, records: dict[str, PluginRecord]
) -> tuple[dict[str, list[str]], dict[str, dict[str, list[AnySpec]]]]:
    hooks_by_plugin: dict[str, list[str]] = {name: [] for name in records}
    specs_by_plugin: dict[str, dict[str, list[AnySpec]]] = {name: {} for name in records}
    for kind, hook_name in HOOK_BY_KIND.items():
        for impl in getattr(manager.hook, hook_name).get_hookimpls():
            record = records[impl.plugin_name]
            hooks_by_plugin[record.name].append(hook_name)
            try:
                returned = impl.function()
            except Exception as error:
                record.errors.append(f"{hook_name}() raised {describe_exception(error)}")
                continue
            specs, errors = validate_specs(hook_name, returned)
            record.errors.extend(errors)
            specs_by_plugin[record.name][kind] = [
                dataclasses.replace(s, plugin=record.name, plugin_version=record.version)
                for s in specs
            ]
    return hooks_by_plugin, specs_by_plugin


def _state(record: PluginRecord) -> State:
    if record.internal:
        return "internal"
    if record.skip_reason:
        return "skipped"
    if record.incompatible:
        return "incompatible"
    return "failed" if record.errors and record.module is None else "loaded"


def build_registry(selection: PluginSelection) -> Registry:
    """Load plugins as ``selection`` says; raise on any plugin problem if it is strict."""
    records = {r.name: r for r in load_plugins(selection)}
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for record in records.values():
        if record.module is not None:
            _register_hooks(manager, record)
    hooks_by_plugin, specs_by_plugin = _collect(manager, records)
    indexes = (
        _Index[BackboneSpec]("backbone"),
        _Index[HeadSpec]("head"),
        _Index[ExporterSpec]("exporter"),
        _Index[FusionSpec]("fusion"),
    )
    for record in records.values():
        for index in indexes:
            for spec in specs_by_plugin[record.name].get(index.kind, []):
                index.add(spec, record, records)  # type: ignore[arg-type]
    warnings = _selection_warnings(selection, records)
    infos = tuple(
        PluginInfo(
            name=r.name,
            distribution=r.distribution,
            version=r.version,
            state=_state(r),
            hooks=tuple(hooks_by_plugin.get(r.name, [])),
            spec_counts={
                f"{index.kind}s": sum(1 for s in index.ordered if s.plugin == r.name)
                for index in indexes
            },
            errors=tuple(r.errors),
            skip_reason=r.skip_reason,
            api=format_api(r.api) if r.api else "",
        )
        for r in records.values()
    )
    registry = Registry(infos, indexes, warnings)
    if selection.strict and registry.problems():
        raise PluginError(
            f"{registry.problems()[0]} ({STRICT_VAR}=1 makes plugin problems fatal; fix or "
            "uninstall the plugin, or unset it to load the others)"
        )
    return registry


def _selection_warnings(
    selection: PluginSelection, records: dict[str, PluginRecord]
) -> tuple[str, ...]:
    named: Iterable[str] = selection.only or ()
    missing = sorted(set(named) - set(records))
    if not missing:
        return ()
    installed = ", ".join(sorted(n for n, r in records.items() if not r.internal)) or "none"
    return (
        f"{ONLY_VAR} names {', '.join(missing)}, which is not installed "
        f"(installed plugins: {installed})",
    )
