"""A small on-disk cache of backbone measurements, so ``rfloc models`` stays quick.

Entries are keyed by plugin, plugin version, a fingerprint of the plugin's installed source
files (their paths, sizes and modification times, so an edit to an editable install counts),
backbone, input and torch version; ``rfloc models --refresh`` re-measures. The cache lives
in ``$RFLOC_CACHE_DIR`` (default ``$XDG_CACHE_HOME/rfloc``, else ``~/.cache/rfloc``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, entry_points, version
from pathlib import Path

from rfloc_core.atomic import write_text_atomic
from rfloc_core.measure import BackboneMeasurement
from rfloc_core.specs import BackboneSpec, InputSize

CACHE_FILE = "measurements.json"


def cache_dir() -> Path:
    if os.environ.get("RFLOC_CACHE_DIR"):
        return Path(os.environ["RFLOC_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rfloc"


def _torch_version() -> str:
    try:
        return version("torch")
    except PackageNotFoundError:
        return "unknown"


def _source_files(module: str) -> list[Path]:
    try:
        found = importlib.util.find_spec(module.split(".")[0])
    except (ImportError, ValueError):
        return []
    if found is None:
        return []
    if found.submodule_search_locations:
        return sorted(
            path
            for folder in found.submodule_search_locations
            for path in Path(folder).rglob("*.py")
        )
    return [Path(found.origin)] if found.origin else []


@functools.cache
def source_fingerprint(*modules: str) -> str:
    """A short hash of the paths, sizes and modification times of the Python files of the
    top-level packages of ``modules``."""
    digest = hashlib.sha256()
    for module in modules:
        for path in _source_files(module):
            with contextlib.suppress(OSError):
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def _spec_modules(spec: BackboneSpec) -> tuple[str, ...]:
    from rfloc_core.hookspecs import ENTRY_POINT_GROUP

    plugin_modules = [ep.module for ep in entry_points(group=ENTRY_POINT_GROUP, name=spec.plugin)]
    build = spec.build
    build_module = getattr(build, "__module__", None) or type(build).__module__
    return tuple(sorted({*plugin_modules, build_module}))


def cache_key(spec: BackboneSpec, receivers: int, input_size: InputSize) -> str:
    return (
        f"{spec.plugin}:{spec.plugin_version}:{source_fingerprint(*_spec_modules(spec))}:"
        f"{spec.name}:{receivers}x{input_size[0]}x{input_size[1]}:torch{_torch_version()}"
    )


class MeasurementCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir() / CACHE_FILE
        self._entries = self._read()
        self._dirty = False

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # a missing or damaged cache is only re-measured
        return loaded if isinstance(loaded, dict) else {}

    def get(self, key: str) -> BackboneMeasurement | None:
        entry = self._entries.get(key)
        try:
            return BackboneMeasurement(**entry) if isinstance(entry, dict) else None  # type: ignore[arg-type]
        except TypeError:
            return None

    def put(self, key: str, measurement: BackboneMeasurement) -> None:
        self._entries[key] = asdict(measurement)
        self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        with contextlib.suppress(OSError):  # an unwritable cache costs speed, not correctness
            write_text_atomic(self.path, json.dumps(self._entries, indent=1, sort_keys=True))
        self._dirty = False
