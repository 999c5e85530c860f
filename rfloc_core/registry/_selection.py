"""Which plugins to load, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

STRICT_VAR = "RFLOC_STRICT_PLUGINS"
ONLY_VAR = "RFLOC_PLUGINS"
DISABLE_VAR = "RFLOC_DISABLE_PLUGINS"

_TRUE = {"1", "true", "yes", "on"}


def _names(value: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class PluginSelection:
    """``only`` None means every installed plugin; ``disabled`` always wins."""

    only: frozenset[str] | None = None
    disabled: frozenset[str] = frozenset()
    strict: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PluginSelection:
        env = os.environ if environ is None else environ
        only = _names(env.get(ONLY_VAR)) if env.get(ONLY_VAR, "").strip() else None
        return cls(
            only=only,
            disabled=_names(env.get(DISABLE_VAR)),
            strict=env.get(STRICT_VAR, "").strip().lower() in _TRUE,
        )

    def skip_reason(self, plugin_name: str) -> str | None:
        if plugin_name in self.disabled:
            return f"disabled by {DISABLE_VAR}"
        if self.only is not None and plugin_name not in self.only:
            return f"not named in {ONLY_VAR}"
        return None
