"""Errors of exporting and of loading exported artifacts."""

from __future__ import annotations

from rfloc_core.errors import RflocError


class ArtifactError(RflocError):
    """An exported file that is corrupt, truncated, built for another runtime version or GPU,
    or whose metadata does not fit the input it is given."""


class ExportValidationError(RflocError):
    """An export whose outputs differ from PyTorch in name, shape or beyond the tolerance."""


class BackendUnavailableError(RflocError):
    """A runtime whose library or hardware is missing on this machine."""
