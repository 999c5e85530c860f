"""The core's own heads, exporters and fusions, registered through the same hooks as any
plugin."""

from __future__ import annotations

from collections.abc import Sequence

from rfloc_core.export import CORE_EXPORTERS
from rfloc_core.fusions import CORE_FUSIONS
from rfloc_core.heads import CORE_HEADS
from rfloc_core.hookspecs import hookimpl
from rfloc_core.specs import ExporterSpec, FusionSpec, HeadSpec


@hookimpl
def rfloc_heads() -> Sequence[HeadSpec]:
    return CORE_HEADS


@hookimpl
def rfloc_exporters() -> Sequence[ExporterSpec]:
    return CORE_EXPORTERS


@hookimpl
def rfloc_fusions() -> Sequence[FusionSpec]:
    return CORE_FUSIONS
