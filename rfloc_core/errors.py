"""The one error family the project raises on purpose.

Every message says what was expected, what came instead, and what to do; the CLI prints it
on one line without a traceback.
"""

from __future__ import annotations


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
