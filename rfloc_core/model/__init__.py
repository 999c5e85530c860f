"""Model composition: ``create_model`` and ``LocalizationNet``."""

from rfloc_core.model.create import create_model
from rfloc_core.model.localization_net import LocalizationNet

__all__ = ["LocalizationNet", "create_model"]
