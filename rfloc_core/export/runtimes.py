"""``load_runtime``: run any exported artifact through the runtime its format needs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rfloc_core.export.errors import ArtifactError


class Runtime(Protocol):
    name: str
    path: Path
    output_names: tuple[str, ...]

    def run(
        self,
        spectrogram: np.ndarray,
        receivers_m: np.ndarray | None = None,
        online: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]: ...


def artifact_kind(path: Path) -> str:
    """``torch`` for a checkpoint folder, ``onnx`` for ``.onnx``, ``tensorrt`` for ``.engine``."""
    if path.is_dir():
        return "torch"
    if path.suffix == ".onnx":
        return "onnx"
    if path.suffix == ".engine":
        return "tensorrt"
    raise ArtifactError(
        f"{path} is neither a checkpoint folder, an .onnx file nor an .engine file; pass an "
        "artifact written by `rfloc train` or `rfloc export`"
    )


def load_runtime(
    path: str | os.PathLike[str],
    *,
    device: str = "cpu",
    threads: int = 0,
    compile: bool = False,
    cuda_graph: bool = False,
) -> Any:
    """A runtime for the artifact at ``path``, with ``.run(np.ndarray) -> dict`` and ``.info``
    (an ``ArtifactInfo``)."""
    artifact = Path(path)
    if not artifact.exists():
        raise ArtifactError(f"{artifact} does not exist; pass a checkpoint, .onnx or .engine path")
    kind = artifact_kind(artifact)
    if kind == "torch":
        from rfloc_core.export.torch_runtime import TorchModel

        return TorchModel(artifact, device=device, compile=compile)
    if kind == "onnx":
        from rfloc_core.export.onnx_runtime import OnnxModel

        providers = ["CPUExecutionProvider"] if device == "cpu" else None
        return OnnxModel(artifact, intra_op_threads=threads, providers=providers)
    from rfloc_core.export.tensorrt_runtime import TensorRTRuntime

    return TensorRTRuntime(artifact, cuda_graph=cuda_graph)
