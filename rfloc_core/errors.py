"""The one error family the project raises on purpose.

Every message says what was expected, what came instead, and what to do; the CLI prints it
on one line without a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rfloc_core.specs import BackboneSpec


class RflocError(Exception):
    """Base class of every error rfloc raises on purpose."""


class PluginError(RflocError):
    """A plugin failed to load, returned invalid specs, or clashes with another plugin."""


class UnknownNameError(RflocError, LookupError):
    """A backbone, head or exporter name that no loaded plugin registers."""


class InvalidInputError(RflocError, ValueError):
    """A tensor or argument that does not meet the documented contract."""


class WeightsError(RflocError):
    """Pretrained weights that cannot be found, read or matched to the model."""


def first_line(error: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def build_failure(spec: BackboneSpec, error: BaseException, context: str) -> PluginError:
    """A backbone whose ``build`` raised, as one line naming the plugin, the spec and what the
    build was asked for."""
    reason = first_line(error)
    plugin = spec.plugin or "?"
    return PluginError(
        f"backbone {spec.name} from plugin {plugin!r} failed to build for {context}: "
        f"{type(error).__name__}"
        + (f": {reason}" if reason != type(error).__name__ else "")
        + "; this is a problem in "
        "the plugin, report it to its authors (`rfloc plugins` shows its distribution)"
    )
