"""Errors of the data side: ``RflocError`` subclasses, so the CLI prints each in one line."""

from __future__ import annotations

from rfloc_core.errors import InvalidInputError, RflocError


class ConfigError(InvalidInputError):
    """A scenario or feature configuration with an invalid, missing or unknown field."""


class DatasetError(RflocError):
    """An on-disk dataset that is missing, incomplete, corrupt or made for other features."""


class ChecksumError(DatasetError):
    """A shard whose SHA-256 differs from the one its manifest records."""


class FeatureMismatchError(DatasetError):
    """A dataset whose stored feature configuration differs from the requested one."""


class RecordingError(InvalidInputError):
    """A SigMF recording that cannot be turned into the model input."""
