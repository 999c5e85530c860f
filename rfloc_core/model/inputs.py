"""The model's positional inputs from a batch of dataset items, for either kind of model."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from rfloc_core.model.localization_net import LocalizationNet
from rfloc_core.model.receiver_set_net import ReceiverSetNet


def model_inputs(
    model: LocalizationNet | ReceiverSetNet, items: Mapping[str, torch.Tensor]
) -> tuple[torch.Tensor, ...]:
    """``(features,)`` for a fixed-network model; ``(features, receivers_m, online)`` for a
    receiver-set model. ``items`` are batched dataset items (``rfloc_core.data.datasets``);
    the features take the model's dtype and device, the positions stay float32 metres."""
    parameter = next(model.parameters())
    features = items["features"].to(parameter.device, parameter.dtype)
    if not isinstance(model, ReceiverSetNet):
        return (features,)
    receivers_m = items["receivers_m"].to(parameter.device, torch.float32)
    return features, receivers_m, items["online"].to(parameter.device)
