"""The eager PyTorch model as a runtime: the baseline every export is measured against."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rfloc_core.export.artifact_info import ArtifactInfo
from rfloc_core.export.errors import ArtifactError


class TorchModel:
    """A checkpoint folder loaded into eager PyTorch, optionally through ``torch.compile``."""

    name = "torch"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        device: str = "cpu",
        dtype: torch.dtype = torch.float32,
        compile: bool = False,
    ) -> None:
        from rfloc_core.checkpoint import load_checkpoint

        self.path = Path(path)
        model, config = load_checkpoint(self.path, map_location=device)
        if config.receivers is None:
            raise ArtifactError(
                f"{self.path} holds a receiver-set model ({config.fusion} fusion), which the "
                "runtimes do not run yet; call it in PyTorch with load_checkpoint(...) and "
                "model(spectrogram, receivers_m, online)"
            )
        self.model = model.to(dtype=dtype).eval()
        self.device = torch.device(device)
        self.dtype = dtype
        self.output_names = tuple(self.model.output_names)
        self.info = ArtifactInfo(
            backbone=config.backbone,
            head=config.head,
            plugin=config.backbone_plugin,
            plugin_version=config.backbone_plugin_version,
            receivers=config.receivers,
            input_size=config.input_size,
            outputs=self.output_names,
            scenario=config.scenario,
            features=config.features,
        )
        self._forward: Any = torch.compile(self.model) if compile else self.model

    @torch.no_grad()
    def run_torch(self, spectrogram: torch.Tensor) -> dict[str, torch.Tensor]:
        outputs: dict[str, torch.Tensor] = self._forward(spectrogram.to(self.device, self.dtype))
        return outputs

    def run(self, spectrogram: np.ndarray) -> dict[str, np.ndarray]:
        self.info.check_input(spectrogram, str(self.path))
        outputs = self.run_torch(torch.from_numpy(np.ascontiguousarray(spectrogram)))
        return {name: value.float().cpu().numpy() for name, value in outputs.items()}
