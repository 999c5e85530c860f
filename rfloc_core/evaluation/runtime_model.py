"""An exported file in the place of the eager model, so that ``evaluate_samples`` and every
figure built on it measure the file itself (an INT8 export's accuracy cost, for one)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import nn

from rfloc_core.model import LocalizationNet
from rfloc_core.model.input_checks import check_spectrogram

RunExported = Callable[[np.ndarray], Mapping[str, np.ndarray]]
"""A runtime's ``run``: spectrograms (batch, receivers, mel_bins, frames) to named outputs."""


class RuntimeModel(nn.Module):
    """Calls ``run`` (an exported file's runtime) where the eager ``model`` would run; the
    input checks and the likelihood stay the eager model's."""

    def __init__(self, model: LocalizationNet, run: RunExported) -> None:
        super().__init__()
        self.receivers = model.receivers
        self.input_size = model.input_size
        self._backbone_spec = model.backbone_spec
        self._nll = model.nll
        self._run = run
        # Inputs take this parameter's dtype and device (``model_inputs``): float32 on the CPU.
        self.anchor = nn.Parameter(torch.zeros(0), requires_grad=False)

    def forward(self, spectrogram: torch.Tensor) -> dict[str, torch.Tensor]:
        check_spectrogram(
            spectrogram,
            receivers=self.receivers,
            built_size=self.input_size,
            constraints=self._backbone_spec.constraints,
            dtype=torch.float32,
            backbone=self._backbone_spec.name,
        )
        outputs = self._run(spectrogram.detach().cpu().numpy())
        return {name: torch.from_numpy(np.asarray(value)) for name, value in outputs.items()}

    def nll(self, outputs: dict[str, torch.Tensor], target_m: torch.Tensor) -> torch.Tensor:
        loss: torch.Tensor = self._nll(outputs, target_m)
        return loss
