"""create_model: compose a registered backbone and head into a LocalizationNet."""

from __future__ import annotations

from pathlib import Path
from typing import Any, overload

from rfloc_core.contract import DEFAULT_INPUT_SIZE, DEFAULT_RECEIVERS
from rfloc_core.errors import (
    InvalidInputError,
    RflocError,
    WeightsError,
    build_failure,
    first_line,
)
from rfloc_core.model.builder_options import check_builder_options
from rfloc_core.model.localization_net import LocalizationNet
from rfloc_core.model.receiver_set_net import (
    DEFAULT_RECEIVER_SCALE_M,
    POSITION_FEATURES,
    ReceiverSetNet,
)
from rfloc_core.registry import get_registry
from rfloc_core.specs import BackboneSpec, FusionSpec, InputSize, Pretrained


def _check_pretrained(spec: BackboneSpec, pretrained: Pretrained) -> Pretrained:
    if pretrained is True and spec.pretrained is None:
        raise WeightsError(
            f"{spec.name} has no published pretrained weights; pass pretrained=False, or a "
            "local weights file path"
        )
    if isinstance(pretrained, bool):
        return pretrained
    path = Path(pretrained)
    if not path.is_file():
        raise WeightsError(
            f"pretrained weights file {str(path)!r} does not exist; pass an existing "
            ".safetensors (or weights-only .pth) file, True for the published weights, or False"
        )
    return str(path)


def build_fusion(spec: FusionSpec, feature_dim: int, options: dict[str, Any] | None) -> Any:
    """The fusion module for encodings of ``feature_dim``; options it does not take are an
    ``InvalidInputError`` that names them."""
    check_builder_options("fusion", spec.name, spec.build, options, "fusion_options")
    try:
        return spec.build(feature_dim + POSITION_FEATURES, **(options or {}))
    except TypeError as error:
        raise InvalidInputError(
            f"fusion {spec.name!r} does not take the options {sorted(options or {})} "
            f"({error}); see its description in `rfloc plugins` or docs/models.md"
        ) from error


def _output_dim(fusion: Any, name: str) -> int:
    dim = getattr(fusion, "output_dim", None)
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise InvalidInputError(
            f"fusion {name!r} built a module without a positive int output_dim (got {dim!r}); "
            "a fusion module must say how many features it gives the head"
        )
    return dim


def _checked_size(receivers: int, input_size: InputSize, spec: BackboneSpec) -> InputSize:
    if not isinstance(receivers, int) or isinstance(receivers, bool) or receivers < 1:
        raise InvalidInputError(f"receivers must be an int >= 1, got {receivers!r}")
    if (
        not isinstance(input_size, tuple | list)
        or len(input_size) != 2
        or not all(isinstance(v, int) and v > 0 for v in input_size)
    ):
        raise InvalidInputError(
            f"input_size must be (mel_bins, frames) as two positive ints, got {input_size!r}"
        )
    size = (int(input_size[0]), int(input_size[1]))
    problem = spec.constraints.problem(size)
    if problem:
        raise InvalidInputError(f"{spec.name} cannot be built for input_size {size}: {problem}")
    return size


@overload
def create_model(
    backbone: str,
    head: str = ...,
    receivers: int = ...,
    input_size: InputSize = ...,
    pretrained: Pretrained = ...,
    head_options: dict[str, Any] | None = ...,
    fusion: None = ...,
    fusion_options: dict[str, Any] | None = ...,
    receiver_scale_m: float = ...,
) -> LocalizationNet: ...


@overload
def create_model(
    backbone: str,
    head: str = ...,
    receivers: int = ...,
    input_size: InputSize = ...,
    pretrained: Pretrained = ...,
    head_options: dict[str, Any] | None = ...,
    *,
    fusion: str,
    fusion_options: dict[str, Any] | None = ...,
    receiver_scale_m: float = ...,
) -> ReceiverSetNet: ...


@overload
def create_model(
    backbone: str,
    head: str = ...,
    receivers: int = ...,
    input_size: InputSize = ...,
    pretrained: Pretrained = ...,
    head_options: dict[str, Any] | None = ...,
    fusion: str | None = ...,
    fusion_options: dict[str, Any] | None = ...,
    receiver_scale_m: float = ...,
) -> LocalizationNet | ReceiverSetNet: ...


def create_model(
    backbone: str,
    head: str = "gaussian",
    receivers: int = DEFAULT_RECEIVERS,
    input_size: InputSize = DEFAULT_INPUT_SIZE,
    pretrained: Pretrained = False,
    head_options: dict[str, Any] | None = None,
    fusion: str | None = None,
    fusion_options: dict[str, Any] | None = None,
    receiver_scale_m: float = DEFAULT_RECEIVER_SCALE_M,
) -> LocalizationNet | ReceiverSetNet:
    """Build ``backbone`` (a registered name or alias) with ``head`` for ``receivers`` stacked
    log-mel spectrograms of ``input_size`` (mel_bins, frames).

    ``pretrained``: False for random init, True for the published weights (downloaded by the
    backbone's library), or a path to a local weights file. The first convolution is adapted
    to the receiver count.

    ``fusion`` (a registered fusion such as ``attention`` or ``deepsets``) builds a
    receiver-set model instead: the backbone encodes each receiver's spectrogram alone (one
    input channel), each encoding joins its receiver's position (metres over
    ``receiver_scale_m``) and online flag, and the fusion (``fusion_options``) joins the
    receivers; ``receivers`` is then ignored, since any count is accepted.
    """
    registry = get_registry()
    backbone_spec = registry.backbone(backbone)
    head_spec = registry.head(head)
    fusion_spec = registry.fusion(fusion) if fusion is not None else None
    check_builder_options("head", head_spec.name, head_spec.build, head_options, "head_options")
    channels = 1 if fusion_spec is not None else receivers
    input_size = _checked_size(channels, input_size, backbone_spec)
    if fusion_spec is not None and not (
        isinstance(receiver_scale_m, int | float) and 0 < receiver_scale_m < float("inf")
    ):
        raise InvalidInputError(
            f"receiver_scale_m must be a finite number of metres > 0, got {receiver_scale_m!r}"
        )
    weights = _check_pretrained(backbone_spec, pretrained)
    try:
        network = backbone_spec.build(in_chans=channels, input_size=input_size, pretrained=weights)
    except RflocError:
        raise
    except Exception as error:
        loading = isinstance(error, OSError | RuntimeError | KeyError | ValueError)
        if weights is False or not loading:
            raise build_failure(
                backbone_spec, error, f"{channels} input channel(s) at {input_size}"
            ) from error
        if weights is True:
            source = backbone_spec.pretrained.source if backbone_spec.pretrained else "?"
            raise WeightsError(
                f"could not fetch the published weights of {backbone_spec.name} ({source}): "
                f"{first_line(error)}; check the network connection and the library's download "
                "cache, or pass pretrained=PATH with a local weights file"
            ) from error
        raise WeightsError(
            f"could not load pretrained weights from {weights} into {backbone_spec.name}: "
            f"{first_line(error)}; check that the file holds {backbone_spec.name} weights "
            "(ImageNet-shaped: 3 input channels, classifier included)"
        ) from error
    if fusion_spec is None:
        return LocalizationNet(
            network,
            head_spec.build(backbone_spec.feature_dim, **(head_options or {})),
            backbone_spec=backbone_spec,
            head_spec=head_spec,
            receivers=receivers,
            input_size=input_size,
            head_options=head_options,
        )
    fusion_module = build_fusion(fusion_spec, backbone_spec.feature_dim, fusion_options)
    return ReceiverSetNet(
        network,
        fusion_module,
        head_spec.build(_output_dim(fusion_module, fusion_spec.name), **(head_options or {})),
        backbone_spec=backbone_spec,
        head_spec=head_spec,
        fusion_spec=fusion_spec,
        input_size=input_size,
        receiver_scale_m=float(receiver_scale_m),
        head_options=head_options,
        fusion_options=fusion_options,
    )
