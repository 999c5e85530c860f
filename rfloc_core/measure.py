"""Figures measured from a built backbone: parameters, FLOPs and feature dimension."""

from __future__ import annotations

from dataclasses import dataclass

from rfloc_core.contract import DEFAULT_INPUT_SIZE, DEFAULT_RECEIVERS
from rfloc_core.specs import BackboneSpec, InputSize


@dataclass(frozen=True)
class BackboneMeasurement:
    """Measured at one input: ``flops`` per sample counts a multiply-add as two FLOPs."""

    params: int
    flops: int
    feature_dim: int
    device: str
    """``meta`` when measured without allocating weights, else ``cpu``."""

    @property
    def params_m(self) -> float:
        return self.params / 1e6

    @property
    def gflops(self) -> float:
        return self.flops / 1e9


def measure_backbone(
    spec: BackboneSpec,
    *,
    receivers: int = DEFAULT_RECEIVERS,
    input_size: InputSize = DEFAULT_INPUT_SIZE,
) -> BackboneMeasurement:
    """Build ``spec`` (on the meta device where it can be) and count what it really has."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    for device in ("meta", "cpu"):
        try:
            with torch.device(device):
                network = spec.build(in_chans=receivers, input_size=input_size, pretrained=False)
            network.eval()
            example = torch.zeros(1, receivers, *input_size, device=device)
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                features = network(example)
            break
        except (NotImplementedError, RuntimeError):
            if device == "cpu":
                raise
    return BackboneMeasurement(
        params=sum(p.numel() for p in network.parameters()),
        flops=int(counter.get_total_flops()),
        feature_dim=int(features.shape[-1]),
        device=device,
    )
