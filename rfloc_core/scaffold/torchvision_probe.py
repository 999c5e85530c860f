"""Reads what the scaffold needs from a torchvision model: its first convolution and
classifier (found in its module tree), its pooled feature dimension (measured on the meta
device) and its default published weights with their ImageNet-1k top-1."""

from __future__ import annotations

import difflib

from rfloc_core.scaffold.plan import ScaffoldError, TorchvisionModel
from rfloc_core.specs import BackboneSpec
from rfloc_core.torchvision_backbones import TorchvisionBuild


def probe_torchvision_model(name: str) -> TorchvisionModel:
    """Measure ``name`` as rfloc would build it; nothing is downloaded."""
    try:
        import torch
        from torch import nn
        from torchvision.models import get_model, get_model_weights, list_models
    except ImportError as error:
        raise ScaffoldError(
            f"--torchvision-model needs torchvision, which is not importable here ({error}); "
            "install it with `pip install torchvision`"
        ) from error
    from rfloc_core.measure import measure_backbone

    if name not in list_models():
        close = difflib.get_close_matches(name, list_models(), n=3)
        hint = f" (close: {', '.join(close)})" if close else ""
        raise ScaffoldError(
            f"torchvision has no model named {name!r}{hint}; list its models with "
            '`python -c "import torchvision; print(torchvision.models.list_models())"`'
        )
    with torch.device("meta"):
        modules = list(get_model(name, weights=None).named_modules())
    convs = [n for n, m in modules if isinstance(m, nn.Conv2d) and m.groups == 1]
    linears = [n for n, m in modules if isinstance(m, nn.Linear)]
    if not convs or not linears:
        raise ScaffoldError(
            f"torchvision's {name} has no Conv2d first layer or no Linear classifier, which "
            "the scaffold wraps; write the spec by hand (docs/plugins/reference.md)"
        )
    build = TorchvisionBuild(name, first_conv=convs[0], classifier=linears[-1])
    try:
        probe = BackboneSpec(name=name, family="probe", feature_dim=1, build=build)
        feature_dim = measure_backbone(probe).feature_dim
    except Exception as error:
        raise ScaffoldError(
            f"torchvision's {name} does not give pooled features (B, D) once its classifier "
            f"{linears[-1]!r} is removed ({type(error).__name__}); write the spec by hand "
            "(docs/plugins/reference.md)"
        ) from error
    weights = get_model_weights(name)
    default = getattr(weights, "DEFAULT", None)
    metrics = default.meta.get("_metrics", {}).get("ImageNet-1K", {}) if default else {}
    top1 = metrics.get("acc@1")
    return TorchvisionModel(
        name=name,
        feature_dim=feature_dim,
        first_conv=convs[0],
        classifier=linears[-1],
        weights_tag=default.name if default is not None else None,
        imagenet_top1=float(top1) if top1 is not None else None,
    )
