"""Model composition: ``create_model``, ``LocalizationNet`` (receivers as channels) and
``ReceiverSetNet`` (any receiver network)."""

from rfloc_core.model.create import create_model
from rfloc_core.model.localization_net import LocalizationNet
from rfloc_core.model.receiver_set_net import ReceiverSetNet

__all__ = ["LocalizationNet", "ReceiverSetNet", "create_model"]
