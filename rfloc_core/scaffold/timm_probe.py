"""Reads what the scaffold needs from a timm model: its pooled feature dimension (measured on
the meta device) and its default published weights with their licence."""

from __future__ import annotations

import difflib

from rfloc_core.scaffold.plan import ScaffoldError, TimmModel
from rfloc_core.specs import BackboneSpec
from rfloc_core.timm_backbones import TimmBuild


def probe_timm_model(name: str) -> TimmModel:
    """Measure ``name`` as rfloc would build it; nothing is downloaded."""
    try:
        import timm
        from timm.models import get_pretrained_cfg
    except ImportError as error:
        raise ScaffoldError(
            f"--timm-model needs timm, which is not importable here ({error}); "
            "install it with `pip install timm`"
        ) from error
    from rfloc_core.measure import measure_backbone

    if not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models(), n=3)
        hint = f" (close: {', '.join(close)})" if close else ""
        raise ScaffoldError(
            f"timm {timm.__version__} has no model named {name!r}{hint}; list its models with "
            "`python -c \"import timm; print(timm.list_models('PATTERN*'))\"`"
        )
    probe = BackboneSpec(name=name, family="probe", feature_dim=1, build=TimmBuild(name))
    feature_dim = measure_backbone(probe).feature_dim
    config = get_pretrained_cfg(name) if timm.list_pretrained(f"{name}.*") else None
    return TimmModel(
        name=name,
        feature_dim=feature_dim,
        pretrained_tag=config.tag if config is not None else None,
        licence=(config.license or "") if config is not None else "",
    )
