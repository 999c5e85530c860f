"""Run an exported ONNX file in ONNX Runtime and return its named outputs.

Execution providers are tried in the order TensorRT, CUDA, CPU, keeping those this
onnxruntime build offers (``providers`` overrides). On a GPU provider, inputs and outputs go
through IO binding so the session writes straight into device memory.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rfloc_core.export.artifact_info import ArtifactInfo
from rfloc_core.export.errors import ArtifactError

PROVIDER_ORDER = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
GraphOptimization = Literal["disable", "basic", "extended", "all"]


def preferred_providers(available: Sequence[str]) -> list[str]:
    """The providers of ``PROVIDER_ORDER`` that ``available`` offers, in that order."""
    return [name for name in PROVIDER_ORDER if name in available]


class OnnxModel:
    """An exported model loaded into an ONNX Runtime session."""

    name = "onnxruntime"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        intra_op_threads: int = 0,
        graph_optimization: GraphOptimization = "all",
        providers: Sequence[str] | None = None,
    ) -> None:
        import onnxruntime

        self.path = Path(path)
        if not self.path.is_file():
            raise ArtifactError(f"ONNX file {str(self.path)!r} does not exist; export one first")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        levels = onnxruntime.GraphOptimizationLevel
        options.graph_optimization_level = {
            "disable": levels.ORT_DISABLE_ALL,
            "basic": levels.ORT_ENABLE_BASIC,
            "extended": levels.ORT_ENABLE_EXTENDED,
            "all": levels.ORT_ENABLE_ALL,
        }[graph_optimization]
        chosen = list(providers or preferred_providers(onnxruntime.get_available_providers()))
        try:
            self.session = onnxruntime.InferenceSession(str(self.path), options, providers=chosen)
        except Exception as error:
            raise ArtifactError(
                f"ONNX Runtime cannot load {str(self.path)!r}, which is corrupt, truncated or not "
                f"an ONNX model ({str(error).splitlines()[0][:200]}); export the model again"
            ) from error
        self.providers = tuple(self.session.get_providers())
        self.input_names = tuple(i.name for i in self.session.get_inputs())
        self.input_name = self.input_names[0]
        self.input_dtype = (
            np.float16 if "float16" in self.session.get_inputs()[0].type else np.float32
        )
        self.output_names = tuple(o.name for o in self.session.get_outputs())
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        self.info = ArtifactInfo.from_metadata(self.metadata, str(self.path))
        self.info.check_graph(
            [(i.name, i.shape) for i in self.session.get_inputs()],
            self.output_names,
            str(self.path),
        )
        self._device = "cuda" if self.providers[0] != "CPUExecutionProvider" else "cpu"

    def run(
        self,
        spectrogram: np.ndarray,
        receivers_m: np.ndarray | None = None,
        online: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Named outputs for spectrograms (batch, receivers, mel_bins, frames); a receiver-set
        model also takes ``receivers_m`` (batch, receivers, 2) in metres and ``online``."""
        self.info.check_input(spectrogram, str(self.path), receivers_m, online)
        values = [np.ascontiguousarray(spectrogram, dtype=self.input_dtype)]
        if receivers_m is not None and online is not None:
            values += [
                np.ascontiguousarray(receivers_m, dtype=np.float32),
                np.ascontiguousarray(online, dtype=np.bool_),
            ]
        feeds = dict(zip(self.input_names, values, strict=True))
        if self._device == "cpu":
            outputs = self.session.run(None, feeds)
            return dict(zip(self.output_names, outputs, strict=True))
        return self._run_bound(feeds)

    def _run_bound(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import onnxruntime

        binding: Any = self.session.io_binding()
        for name, values in feeds.items():
            device_input = onnxruntime.OrtValue.ortvalue_from_numpy(values, "cuda", 0)
            binding.bind_ortvalue_input(name, device_input)
        for name in self.output_names:
            binding.bind_output(name, "cuda", 0)
        self.session.run_with_iobinding(binding)
        return dict(zip(self.output_names, binding.copy_outputs_to_cpu(), strict=True))
