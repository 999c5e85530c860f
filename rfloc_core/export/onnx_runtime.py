"""Run an exported ONNX file in ONNX Runtime on the CPU and return its named outputs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rfloc_core.errors import RflocError


class OnnxModel:
    """An exported model loaded into an ONNX Runtime session."""

    def __init__(self, path: str | os.PathLike[str], *, intra_op_threads: int = 0) -> None:
        import onnxruntime

        self.path = Path(path)
        if not self.path.is_file():
            raise RflocError(f"ONNX file {str(self.path)!r} does not exist; export one first")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        try:
            self.session = onnxruntime.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:
            raise RflocError(
                f"ONNX Runtime cannot load {str(self.path)!r} (corrupt or truncated?): "
                f"{str(error).splitlines()[0]}; re-export the model"
            ) from error
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = tuple(o.name for o in self.session.get_outputs())
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)

    def run(self, spectrogram: np.ndarray) -> dict[str, np.ndarray]:
        values = self.session.run(None, {self.input_name: np.ascontiguousarray(spectrogram)})
        return dict(zip(self.output_names, values, strict=True))
