"""The hooks a plugin implements, under plugin API ``rfloc_core.plugin_api.RFLOC_PLUGIN_API``.

Hook specs are never removed, renamed or changed in meaning within a plugin API major
version; a minor version may add hooks. A plugin module declares the API it was built for as
``RFLOC_PLUGIN_API = (major, minor)`` beside its ``@hookimpl`` functions.

Each hook takes no arguments and returns a sequence of specs: plain data whose ``build``
callable imports torch (or timm, torchvision) only when it is called.
"""

from __future__ import annotations

from collections.abc import Sequence

import pluggy

from rfloc_core.specs import BackboneSpec, ExporterSpec, FusionSpec, HeadSpec

PROJECT_NAME = "rfloc"
ENTRY_POINT_GROUP = "rfloc"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

HOOK_NAMES = ("rfloc_backbones", "rfloc_heads", "rfloc_exporters", "rfloc_fusions")


@hookspec
def rfloc_backbones() -> Sequence[BackboneSpec]:  # type: ignore[empty-body]
    """Return the backbones this plugin provides."""


@hookspec
def rfloc_heads() -> Sequence[HeadSpec]:  # type: ignore[empty-body]
    """Return the probabilistic heads this plugin provides."""


@hookspec
def rfloc_exporters() -> Sequence[ExporterSpec]:  # type: ignore[empty-body]
    """Return the exporters (and their runtimes) this plugin provides."""


@hookspec
def rfloc_fusions() -> Sequence[FusionSpec]:  # type: ignore[empty-body]
    """Return the set fusions this plugin provides (plugin API 1.1): how a receiver-set model
    joins its per-receiver encodings."""
