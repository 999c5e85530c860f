"""ReceiverSetNet: one shared encoder per receiver, a set fusion, and a probabilistic head.

Each receiver's spectrogram goes through the same backbone (built for one input channel). Its
encoding is joined with the receiver's position and its online flag: that is the receiver's
token. A fusion plugin maps the tokens of the online receivers to the head's input, the same
for any order and count of receivers, so one model serves any receiver network.

Positions are taken relative to the centroid of the online receivers (then divided by
``receiver_scale_m``), and the predicted positions are moved back by it: moving every receiver
by the same offset moves the prediction by that offset and changes nothing else, as the
physics says. A network with stations offline is then, to the model, the smaller network of
the stations that remain, wherever its centroid lies.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rfloc_core.model.input_checks import (
    check_heard_values,
    check_receiver_inputs,
    check_spectrogram,
    tracing,
)
from rfloc_core.model.localization_net import HeadedNet
from rfloc_core.specs import BackboneSpec, FusionSpec, HeadSpec, InputSize

DEFAULT_RECEIVER_SCALE_M = 20_000.0
"""Receiver positions are divided by this before they join the encodings: the half-width of
the default 40 km area, so positions in the area are of order one."""

POSITION_FEATURES = 3
"""What joins each encoding: east / scale, north / scale, online (1.0 or 0.0)."""


POSITION_OUTPUTS = ("position_m", "means_m")
"""The outputs that are positions, in metres: the core heads' names."""


def shift_positions(
    outputs: dict[str, torch.Tensor], offset_m: torch.Tensor
) -> dict[str, torch.Tensor]:
    """The outputs with ``offset_m`` (B, 2) added to every position (``position_m`` (B, 2),
    ``means_m`` (B, K, 2)), in float32 at least; lengths and weights are unchanged."""
    shifted = dict(outputs)
    for name in POSITION_OUTPUTS:
        if name in shifted:
            value = shifted[name].to(torch.promote_types(shifted[name].dtype, offset_m.dtype))
            shifted[name] = value + offset_m.reshape(
                offset_m.shape[0], *([1] * (value.ndim - 2)), 2
            )
    return shifted


class ReceiverSetNet(HeadedNet):
    """Maps ``spectrogram`` (B, R, mel_bins, frames), ``receivers_m`` (B, R, 2) east/north in
    metres and ``online`` (B, R) bool to the head's named outputs: ``position_m`` (B, 2) in the
    receivers' frame, plus the head's uncertainty. R may differ between calls."""

    receivers = None
    """Any receiver count: a receiver-set model has no fixed one."""

    def __init__(
        self,
        encoder: nn.Module,
        fusion: nn.Module,
        head: nn.Module,
        *,
        backbone_spec: BackboneSpec,
        head_spec: HeadSpec,
        fusion_spec: FusionSpec,
        input_size: InputSize,
        receiver_scale_m: float = DEFAULT_RECEIVER_SCALE_M,
        head_options: dict[str, Any] | None = None,
        fusion_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.backbone = encoder
        self.fusion = fusion
        self.head = head
        self.backbone_spec = backbone_spec
        self.head_spec = head_spec
        self.fusion_spec = fusion_spec
        self.input_size = input_size
        self.receiver_scale_m = float(receiver_scale_m)
        self.head_options = dict(head_options or {})
        self.fusion_options = dict(fusion_options or {})

    def forward(
        self, spectrogram: torch.Tensor, receivers_m: torch.Tensor, online: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        check_spectrogram(
            spectrogram,
            receivers=None,
            built_size=self.input_size,
            constraints=self.backbone_spec.constraints,
            dtype=self.parameter_dtype,
            backbone=self.backbone_spec.name,
            check_finite=False,
        )
        check_receiver_inputs(spectrogram, receivers_m, online)
        batch, count = spectrogram.shape[0], spectrogram.shape[1]
        heard = online.unsqueeze(-1)
        # Offline receivers may hold anything, NaN included: replace them before any
        # arithmetic, so nothing of theirs reaches the outputs (0 x NaN is NaN).
        spectrogram = torch.where(heard.unsqueeze(-1), spectrogram, 0.0)
        positions_m = torch.where(heard, receivers_m.float(), 0.0)
        check_heard_values(spectrogram, positions_m)
        weight = heard.float()
        centroid_m = (positions_m * weight).sum(dim=1) / weight.sum(dim=1)
        encoded = self._encode(
            spectrogram.reshape(batch * count, 1, *spectrogram.shape[2:]), online
        )
        relative = (positions_m - centroid_m.unsqueeze(1)) * (weight / self.receiver_scale_m)
        tokens = torch.cat(
            [
                encoded.reshape(batch, count, -1),
                relative.to(encoded.dtype),
                weight.to(encoded.dtype),
            ],
            dim=-1,
        )
        tokens = torch.where(heard, tokens, 0.0)
        outputs: dict[str, torch.Tensor] = self.head(self.fusion(tokens, online))
        return shift_positions(outputs, centroid_m)

    def _encode(self, single: torch.Tensor, online: torch.Tensor) -> torch.Tensor:
        """``(B * R, feature_dim)`` encodings of ``(B * R, 1, mel_bins, frames)``. In eager mode
        only the online receivers go through the backbone (the others' tokens are masked, so
        zeros do); a traced or exported graph encodes every receiver, with the same outputs."""
        if tracing():
            return self.encode(single)
        heard = online.reshape(-1)
        encoded_heard = self.encode(single[heard])
        encoded = encoded_heard.new_zeros(single.shape[0], encoded_heard.shape[-1])
        encoded[heard] = encoded_heard
        return encoded

    def extra_repr(self) -> str:
        return (
            f"encoder={self.backbone_spec.name!r} ({self.backbone_spec.plugin} "
            f"{self.backbone_spec.plugin_version}), fusion={self.fusion_spec.name!r}, "
            f"head={self.head_spec.name!r}, any receiver count, input_size={self.input_size}, "
            f"receiver_scale_m={self.receiver_scale_m:g}"
        )
