"""Extra checks for backbones built with ``rfloc_core.timm_backbones`` (needs timm)."""

from __future__ import annotations

from rfloc_core.specs import BackboneSpec
from rfloc_core.timm_backbones import TimmBuild


def check_timm_registry(spec: BackboneSpec) -> None:
    """Built by ``TimmBuild`` from a model timm registers; a spec that declares no weights is
    for a model timm publishes none for."""
    import timm

    build = spec.build
    assert isinstance(build, TimmBuild), f"{spec.name} is not built by TimmBuild"
    assert timm.is_model(build.model_name), f"timm registers no model {build.model_name!r}"
    if spec.pretrained is None:
        published = timm.list_pretrained(f"{build.model_name}.*")
        assert not published, f"{spec.name} declares no weights but timm publishes {published}"
    else:
        assert spec.pretrained.source == f"timm:{build.model_name}.{build.pretrained_tag}"
