"""create_model: compose a registered backbone and head into a LocalizationNet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rfloc_core.contract import DEFAULT_INPUT_SIZE, DEFAULT_RECEIVERS
from rfloc_core.errors import InvalidInputError, WeightsError
from rfloc_core.model.localization_net import LocalizationNet
from rfloc_core.registry import get_registry
from rfloc_core.specs import BackboneSpec, InputSize, Pretrained


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


def create_model(
    backbone: str,
    head: str = "gaussian",
    receivers: int = DEFAULT_RECEIVERS,
    input_size: InputSize = DEFAULT_INPUT_SIZE,
    pretrained: Pretrained = False,
    head_options: dict[str, Any] | None = None,
) -> LocalizationNet:
    """Build ``backbone`` (a registered name or alias) with ``head`` for ``receivers`` stacked
    log-mel spectrograms of ``input_size`` (mel_bins, frames).

    ``pretrained``: False for random init, True for the published weights (downloaded by the
    backbone's library), or a path to a local weights file. The first convolution is adapted
    to the receiver count.
    """
    registry = get_registry()
    backbone_spec = registry.backbone(backbone)
    head_spec = registry.head(head)
    input_size = _checked_size(receivers, input_size, backbone_spec)
    weights = _check_pretrained(backbone_spec, pretrained)
    try:
        network = backbone_spec.build(in_chans=receivers, input_size=input_size, pretrained=weights)
    except (OSError, RuntimeError, KeyError, ValueError) as error:
        if weights is False:
            raise
        raise WeightsError(
            f"could not load pretrained weights ({weights!r}) into {backbone_spec.name}: "
            f"{error}; check that the file holds {backbone_spec.name} weights"
        ) from error
    return LocalizationNet(
        network,
        head_spec.build(backbone_spec.feature_dim, **(head_options or {})),
        backbone_spec=backbone_spec,
        head_spec=head_spec,
        receivers=receivers,
        input_size=input_size,
        head_options=head_options,
    )
