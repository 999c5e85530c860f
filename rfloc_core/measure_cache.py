"""A small on-disk cache of backbone measurements, so ``rfloc models`` stays quick.

Entries are keyed by plugin, plugin version, backbone, input and torch version; ``rfloc models
--refresh`` re-measures. The cache lives in ``$RFLOC_CACHE_DIR`` (default
``$XDG_CACHE_HOME/rfloc``, else ``~/.cache/rfloc``).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
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


def cache_key(spec: BackboneSpec, receivers: int, input_size: InputSize) -> str:
    return (
        f"{spec.plugin}:{spec.plugin_version}:{spec.name}:{receivers}x"
        f"{input_size[0]}x{input_size[1]}:torch{_torch_version()}"
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
