"""LocalizationNet: a backbone from a plugin followed by a probabilistic head."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rfloc_core.errors import InvalidInputError, PluginError
from rfloc_core.model.input_checks import check_spectrogram
from rfloc_core.specs import BackboneSpec, HeadSpec, InputSize


class HeadedNet(nn.Module):
    """What every rfloc model has: a probabilistic head, its output names and its NLL."""

    backbone: nn.Module
    backbone_spec: BackboneSpec
    head: nn.Module
    head_spec: HeadSpec

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's pooled features ``(N, feature_dim)``, checked against its spec."""
        features: torch.Tensor = self.backbone(x)
        spec = self.backbone_spec
        if features.ndim != 2 or features.shape[-1] != spec.feature_dim:
            raise PluginError(
                f"backbone {spec.name} from plugin {spec.plugin or '?'!r} declares "
                f"feature_dim={spec.feature_dim} but its network returned features of shape "
                f"{tuple(features.shape)}, expected (batch, {spec.feature_dim}); the plugin's "
                "spec or network needs fixing (its conformance kit shows which)"
            )
        return features

    _first_parameter: tuple[nn.Module, str] | None = None
    """(the module that owns the first parameter, its name): read on every call, so any
    conversion, of the whole model or of a part, is seen."""

    @property
    def parameter_dtype(self) -> torch.dtype:
        """The first parameter's dtype, which inputs must have. Walking ``parameters()`` on
        every call costs more than every other input check together; one dict lookup does
        not."""
        if self._first_parameter is not None:
            owner, name = self._first_parameter
            parameter = owner._parameters.get(name)
            if parameter is not None:
                return parameter.dtype
        for owner in self.modules():
            for name, parameter in owner._parameters.items():
                if parameter is not None:
                    self._first_parameter = (owner, name)
                    return parameter.dtype
        raise InvalidInputError(f"{type(self).__name__} has no parameters to take a dtype from")

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.head_spec.output_names

    def nll(self, outputs: dict[str, torch.Tensor], target_m: torch.Tensor) -> torch.Tensor:
        """The head's negative log-likelihood per sample (B,) for true positions (B, 2) in m."""
        nll = getattr(self.head, "nll")  # noqa: B009 - heads are any nn.Module with an nll
        loss: torch.Tensor = nll(outputs, target_m)
        return loss


class LocalizationNet(HeadedNet):
    """Maps spectrograms (B, receivers, mel_bins, frames) to the head's named outputs:
    ``position_m`` (B, 2) east/north in metres, plus the head's uncertainty."""

    def __init__(
        self,
        backbone: nn.Module,
        head: nn.Module,
        *,
        backbone_spec: BackboneSpec,
        head_spec: HeadSpec,
        receivers: int,
        input_size: InputSize,
        head_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.backbone_spec = backbone_spec
        self.head_spec = head_spec
        self.receivers = receivers
        self.input_size = input_size
        self.head_options = dict(head_options or {})

    def forward(self, spectrogram: torch.Tensor) -> dict[str, torch.Tensor]:
        check_spectrogram(
            spectrogram,
            receivers=self.receivers,
            built_size=self.input_size,
            constraints=self.backbone_spec.constraints,
            dtype=self.parameter_dtype,
            backbone=self.backbone_spec.name,
        )
        outputs: dict[str, torch.Tensor] = self.head(self.encode(spectrogram))
        return outputs

    def extra_repr(self) -> str:
        return (
            f"backbone={self.backbone_spec.name!r} ({self.backbone_spec.plugin} "
            f"{self.backbone_spec.plugin_version}), head={self.head_spec.name!r}, "
            f"receivers={self.receivers}, input_size={self.input_size}"
        )
