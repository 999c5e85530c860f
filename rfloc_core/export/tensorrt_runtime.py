"""Run a TensorRT engine built by ``build_engine`` on torch CUDA tensors.

Device buffers are torch CUDA tensors and work is queued on a torch CUDA stream, so no other
CUDA binding (pycuda, cuda-python) is needed. With ``cuda_graph=True`` each input shape is
captured once into a ``torch.cuda.CUDAGraph`` and replayed afterwards, which removes the
per-kernel launch cost that dominates small batches.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rfloc_core.contract import INPUT_NAME
from rfloc_core.errors import InvalidInputError, RflocError
from rfloc_core.export.artifact_info import ArtifactInfo
from rfloc_core.export.errors import ArtifactError
from rfloc_core.export.tensorrt_engine import (
    REBUILD_HINT,
    BatchProfile,
    check_engine_compatible,
    compute_capability,
    import_tensorrt,
    read_sidecar,
    tensorrt_logger,
)


def _torch_dtypes(trt: Any) -> dict[Any, torch.dtype]:
    return {
        trt.DataType.FLOAT: torch.float32,
        trt.DataType.HALF: torch.float16,
        trt.DataType.BF16: torch.bfloat16,
        trt.DataType.INT8: torch.int8,
        trt.DataType.UINT8: torch.uint8,
        trt.DataType.INT32: torch.int32,
        trt.DataType.INT64: torch.int64,
        trt.DataType.BOOL: torch.bool,
    }


@dataclass
class _CapturedGraph:
    graph: torch.cuda.CUDAGraph
    context: Any
    static_input: torch.Tensor
    static_outputs: dict[str, torch.Tensor]


class TensorRTRuntime:
    """A TensorRT engine with one execution context on one GPU; not for concurrent calls.

    With ``cuda_graph`` every distinct input shape is captured on first use with its own
    execution context, so each batch size seen costs one more context's activation memory.
    """

    name = "tensorrt"

    def __init__(
        self, engine_path: str | os.PathLike[str], *, cuda_graph: bool = False, device: int = 0
    ) -> None:
        trt = import_tensorrt()
        if not 0 <= device < torch.cuda.device_count():
            raise InvalidInputError(
                f"device must index one of this machine's {torch.cuda.device_count()} CUDA "
                f"GPUs, got {device}; pass 0 for the first GPU"
            )
        self.path = Path(engine_path)
        if not self.path.is_file():
            raise ArtifactError(
                f"expected a TensorRT engine at {str(self.path)!r} but there is none; build "
                "one with `rfloc export CKPT --format tensorrt`"
            )
        self.sidecar = read_sidecar(self.path)
        check_engine_compatible(
            self.sidecar,
            tensorrt_version=str(trt.__version__),
            gpu_name=torch.cuda.get_device_name(device),
            compute_capability=compute_capability(device),
        )
        engine_bytes = self.path.read_bytes()
        recorded = self.sidecar.get("engine_sha256")
        if recorded is not None and recorded != hashlib.sha256(engine_bytes).hexdigest():
            raise ArtifactError(
                f"expected {str(self.path)!r} to be the engine its sidecar describes but its "
                f"content differs (truncated, or replaced without its sidecar); {REBUILD_HINT}"
            )
        self.metadata: dict[str, str] = dict(self.sidecar["rfloc"])
        self.info = ArtifactInfo.from_metadata(self.metadata, str(self.path))
        self.cuda_graph = cuda_graph
        self.device = torch.device("cuda", device)

        with torch.cuda.device(self.device):
            # The runtime must outlive the engines it deserializes.
            self._runtime = trt.Runtime(tensorrt_logger())
            engine = self._runtime.deserialize_cuda_engine(engine_bytes)
            if engine is None:
                raise ArtifactError(
                    f"expected TensorRT {trt.__version__} to load {str(self.path)!r} but it "
                    "cannot (corrupt or built by another TensorRT); " + REBUILD_HINT
                )
            self._engine = engine
            self._context = self._create_context()
            self._stream = torch.cuda.Stream(self.device)  # type: ignore[no-untyped-call]

        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        inputs = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        if inputs != [INPUT_NAME]:
            raise ArtifactError(
                f"expected {str(self.path)!r} to have the single input {INPUT_NAME!r} but it "
                f"has {inputs}; {REBUILD_HINT}"
            )
        self.input_name = INPUT_NAME
        self.output_names = tuple(
            n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT
        )
        smallest, tuned, largest = engine.get_tensor_profile_shape(INPUT_NAME, 0)
        self.profile = BatchProfile(int(smallest[0]), int(tuned[0]), int(largest[0]))
        self._sample_shape = tuple(int(d) for d in engine.get_tensor_shape(INPUT_NAME))[1:]
        dtypes = _torch_dtypes(trt)
        tensor_dtypes = {n: engine.get_tensor_dtype(n) for n in names}
        unsupported = {n: str(t) for n, t in tensor_dtypes.items() if t not in dtypes}
        if unsupported:
            raise ArtifactError(
                f"expected the inputs and outputs of {str(self.path)!r} to have types torch "
                f"can hold but {unsupported} have none; export the model in float32 or float16"
            )
        self._input_dtype = dtypes[tensor_dtypes[INPUT_NAME]]
        self._output_dtypes = {n: dtypes[tensor_dtypes[n]] for n in self.output_names}
        self._graphs: dict[tuple[int, ...], _CapturedGraph] = {}

    def _create_context(self) -> Any:
        context = self._engine.create_execution_context()
        if context is None:
            raise RflocError(
                f"expected TensorRT to create an execution context for {str(self.path)!r} but "
                "it could not (GPU memory exhausted?); free GPU memory or use a smaller "
                "maximum batch"
            )
        return context

    def _prepare(self, spectrogram: torch.Tensor) -> torch.Tensor:
        shape = tuple(spectrogram.shape)
        if len(shape) != 1 + len(self._sample_shape) or shape[1:] != self._sample_shape:
            expected = ", ".join(map(str, self._sample_shape))
            raise ArtifactError(
                f"{str(self.path)!r} was built for input (batch, {expected}) = (batch, "
                f"receivers, mel_bins, frames) but got {shape}; compute features with the "
                "artifact's own receivers and feature settings"
            )
        if shape[0] not in self.profile:
            raise ArtifactError(
                f"{str(self.path)!r} was built for batches of {self.profile.min} to "
                f"{self.profile.max} but got {shape[0]}; split the batch, or rebuild the "
                "engine with a batch profile that covers it"
            )
        if not spectrogram.is_floating_point():
            raise InvalidInputError(
                f"the spectrogram must be a floating-point tensor, got {spectrogram.dtype}; "
                "pass float32 log-mel features"
            )
        return spectrogram.to(device=self.device, dtype=self._input_dtype).contiguous()

    def _bind(self, context: Any, spectrogram: torch.Tensor) -> dict[str, torch.Tensor]:
        """Set the input shape and every tensor address; allocate and return the outputs."""
        if not context.set_input_shape(INPUT_NAME, tuple(spectrogram.shape)):
            raise ArtifactError(
                f"expected {str(self.path)!r} to accept input shape "
                f"{tuple(spectrogram.shape)} but TensorRT refused it; {REBUILD_HINT}"
            )
        outputs = {}
        for name in self.output_names:
            shape = tuple(int(d) for d in context.get_tensor_shape(name))
            if any(d < 0 for d in shape):
                raise ArtifactError(
                    f"expected output {name!r} of {str(self.path)!r} to have a shape known "
                    f"from the input but it is {shape}; export a model whose output shapes "
                    "depend only on the batch size"
                )
            outputs[name] = torch.empty(shape, dtype=self._output_dtypes[name], device=self.device)
        addresses = {INPUT_NAME: spectrogram, **outputs}
        for name, tensor in addresses.items():
            if not context.set_tensor_address(name, tensor.data_ptr()):
                raise RflocError(
                    f"expected TensorRT to accept the buffer of {name!r} but it refused it; "
                    "pass a contiguous CUDA tensor on the runtime's device"
                )
        return outputs

    def _enqueue(self, context: Any) -> None:
        if not context.execute_async_v3(self._stream.cuda_stream):
            raise RflocError(
                f"expected TensorRT to run {str(self.path)!r} but execute_async_v3 failed (the "
                "TensorRT log above says why); check the input, or rebuild the engine"
            )

    def _capture(self, spectrogram: torch.Tensor) -> _CapturedGraph:
        # TensorRT advises one execution context per captured graph.
        context = self._create_context()
        static_input = torch.empty_like(spectrogram)
        static_input.copy_(spectrogram)
        static_outputs = self._bind(context, static_input)
        # After a shape change TensorRT defers some setup to the next enqueue; it must not
        # happen during capture, so run once first, as TensorRT's CUDA graph guide says.
        self._enqueue(context)
        self._stream.synchronize()
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph, stream=self._stream):
                self._enqueue(context)
        except RuntimeError as error:
            raise RflocError(
                f"expected {str(self.path)!r} to be capturable into a CUDA graph but capture "
                f"failed ({str(error).splitlines()[0][:200]}); run it with cuda_graph=False"
            ) from error
        captured = _CapturedGraph(graph, context, static_input, static_outputs)
        self._graphs[tuple(spectrogram.shape)] = captured
        return captured

    @torch.no_grad()
    def run_torch(self, spectrogram: torch.Tensor) -> dict[str, torch.Tensor]:
        """Outputs for ``spectrogram`` (batch, receivers, mel_bins, frames), as CUDA tensors
        on the runtime's device. A CPU or other-dtype input is copied there and converted."""
        with torch.cuda.device(self.device):
            values = self._prepare(spectrogram)
            self._stream.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(self._stream):
                if self.cuda_graph:
                    captured = self._graphs.get(tuple(values.shape)) or self._capture(values)
                    captured.static_input.copy_(values)
                    captured.graph.replay()
                    # The static outputs are overwritten by the next replay.
                    outputs = {n: t.clone() for n, t in captured.static_outputs.items()}
                else:
                    outputs = self._bind(self._context, values)
                    self._enqueue(self._context)
            self._stream.synchronize()
        return outputs

    def run(self, spectrogram: np.ndarray) -> dict[str, np.ndarray]:
        self.info.check_input(spectrogram, str(self.path))
        outputs = self.run_torch(torch.from_numpy(np.ascontiguousarray(spectrogram)))
        return {name: value.float().cpu().numpy() for name, value in outputs.items()}
