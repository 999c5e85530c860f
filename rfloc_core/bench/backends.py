"""The runtimes a benchmark times, and how each gets ready to run one model.

Built-in backends: ``torch`` (eager, the baseline), ``torch-bf16`` (eager bfloat16),
``torch-compile`` (``torch.compile``), ``onnxruntime`` (CPU provider), ``onnxruntime-cuda`` and
``onnxruntime-trt`` (ONNX Runtime's CUDA and TensorRT providers, input and outputs kept on the
GPU with IO binding), ``onnxruntime-int8`` (the ``onnx_int8`` exporter's file on the CPU
provider) and ``tensorrt`` (an engine from the TensorRT exporter). Any other name
is a plugin exporter: its artifact is written with the exporter and run by ``load_runtime``.

A backend that cannot run here has a reason (``unavailable_reason``); one that fails while
getting ready raises, and the harness records the error in its rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rfloc_core.bench.backend_names import INT8_BACKEND
from rfloc_core.model import LocalizationNet

Call = Callable[[], object]
"""One inference on an input made beforehand."""
MakeCall = Callable[[int], Call]
"""The call of a backend at one batch size."""

TORCH_BACKENDS = ("torch", "torch-bf16", "torch-compile")
ORT_PROVIDERS: dict[str, list[str]] = {
    "onnxruntime": ["CPUExecutionProvider"],
    "onnxruntime-cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "onnxruntime-trt": [
        "TensorrtExecutionProvider",
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ],
}
BUILTIN_BACKENDS = (*TORCH_BACKENDS, *ORT_PROVIDERS, INT8_BACKEND, "tensorrt")
GPU_ONLY = ("onnxruntime-cuda", "onnxruntime-trt", "tensorrt")
EXPORTER_OF_BUILTIN = {
    **dict.fromkeys(TORCH_BACKENDS, "torch"),
    **dict.fromkeys(ORT_PROVIDERS, "onnx"),
    INT8_BACKEND: "onnx_int8",
    "tensorrt": "tensorrt",
}


@dataclass(frozen=True)
class Target:
    """Where and how the backends run."""

    device: torch.device
    precision: str
    """fp32, fp16 or bf16: the suite's precision (``torch-bf16`` is always bf16)."""
    threads: int
    batch_sizes: tuple[int, ...]


def backend_precision(backend: str, precision: str) -> str:
    return {"torch-bf16": "bf16", INT8_BACKEND: "int8"}.get(backend, precision)


def _ort_providers() -> list[str]:
    try:
        import onnxruntime

        return list(onnxruntime.get_available_providers())
    except ImportError:
        return []


def unavailable_reason(backend: str, target: Target) -> str | None:
    """Why ``backend`` cannot run on ``target`` here, or None."""
    from rfloc_core.registry import get_registry

    exporter_name = EXPORTER_OF_BUILTIN.get(backend, backend)
    known = {spec.name: spec for spec in get_registry().exporters()}
    if exporter_name not in known:
        return (
            f"no exporter named {exporter_name!r} is installed (installed: {sorted(known)}); "
            "use a built-in backend or install the plugin that provides it"
        )
    missing = known[exporter_name].unavailable_reason()
    if missing is not None:
        return missing
    if backend in ORT_PROVIDERS:
        provider = ORT_PROVIDERS[backend][0]
        offered = _ort_providers()
        if provider not in offered:
            return f"this onnxruntime offers {offered}, not {provider}; install onnxruntime-gpu" + (
                " and TensorRT" if backend == "onnxruntime-trt" else ""
            )
    if backend in GPU_ONLY and target.device.type != "cuda":
        return "runs on an NVIDIA GPU; this suite runs on the CPU (set latency.device)"
    if backend == INT8_BACKEND and target.device.type != "cpu":
        return "INT8 runs on ONNX Runtime's CPU provider; this suite runs on the GPU"
    if target.precision == "fp16" and target.device.type == "cpu" and backend in ORT_PROVIDERS:
        return "ONNX Runtime's CPU provider has no fast float16 kernels; use fp32 on the CPU"
    return None


def random_input(model: LocalizationNet, batch: int) -> torch.Tensor:
    """A seeded input in the features' range, float32 on the CPU."""
    generator = torch.Generator().manual_seed(batch)
    shape = (batch, model.receivers, *model.input_size)
    return torch.rand(shape, generator=generator) * 2 - 1


def _torch_dtype(backend: str, precision: str) -> torch.dtype:
    return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[
        backend_precision(backend, precision)
    ]


def prepare_backend(
    backend: str, model: LocalizationNet, folder: Path, checkpoint: Path, target: Target
) -> MakeCall:
    """Export what ``backend`` runs into ``folder`` and load it; the returned function makes
    the call for one batch size."""
    if backend in TORCH_BACKENDS:
        return _torch(backend, model, checkpoint, target)
    if backend in ORT_PROVIDERS:
        return _onnxruntime(backend, model, folder, target)
    if backend == INT8_BACKEND:
        return _onnxruntime_int8(model, folder, target)
    if backend == "tensorrt":
        return _tensorrt(model, folder, target)
    return _plugin_exporter(backend, model, folder, target)


def _torch(backend: str, model: LocalizationNet, checkpoint: Path, target: Target) -> MakeCall:
    from rfloc_core.export.torch_runtime import TorchModel

    dtype = _torch_dtype(backend, target.precision)
    runtime = TorchModel(
        checkpoint, device=str(target.device), dtype=dtype, compile=backend == "torch-compile"
    )

    def make(batch: int) -> Call:
        spectrogram = random_input(model, batch).to(target.device, dtype)
        return lambda: runtime.run_torch(spectrogram)

    return make


def _onnxruntime(backend: str, model: LocalizationNet, folder: Path, target: Target) -> MakeCall:
    from rfloc_core.export.onnx_export import export_onnx
    from rfloc_core.export.onnx_runtime import OnnxModel

    fp16 = target.precision == "fp16"
    path = folder / ("model-fp16.onnx" if fp16 else "model.onnx")
    if not path.exists():
        export_onnx(model, path, fp16=fp16, batch_sizes=(1,))
    providers = ORT_PROVIDERS[backend]
    runtime = OnnxModel(path, intra_op_threads=target.threads, providers=providers)
    # ONNX Runtime falls back to the CPU, silently, when a GPU provider cannot load.
    if runtime.providers[0] != providers[0]:
        raise RuntimeError(
            f"ONNX Runtime did not take {providers[0]} (session providers "
            f"{list(runtime.providers)}); its CUDA or TensorRT libraries are missing or mismatched"
        )

    def make(batch: int) -> Call:
        spectrogram = random_input(model, batch).numpy().astype(runtime.input_dtype)
        if backend == "onnxruntime":
            feeds = {runtime.input_name: spectrogram}
            return lambda: runtime.session.run(None, feeds)
        return _bound_call(runtime.session, runtime.input_name, runtime.output_names, spectrogram)

    return make


def _onnxruntime_int8(model: LocalizationNet, folder: Path, target: Target) -> MakeCall:
    """The INT8 file of the model as built (latency does not depend on the weights' values),
    calibrated on the default scenario."""
    from rfloc_core.export.onnx_int8 import export_onnx_int8
    from rfloc_core.export.onnx_runtime import OnnxModel

    path = export_onnx_int8(
        model, folder / "model-int8.onnx", validate=False, calibration_samples=32
    )
    runtime = OnnxModel(path, intra_op_threads=target.threads, providers=["CPUExecutionProvider"])

    def make(batch: int) -> Call:
        feeds = {runtime.input_name: random_input(model, batch).numpy()}
        return lambda: runtime.session.run(None, feeds)

    return make


def _bound_call(session: Any, input_name: str, output_names: Sequence[str], x: Any) -> Call:
    """A GPU session run with its input already on the GPU and its outputs left there."""
    import onnxruntime

    binding = session.io_binding()
    binding.bind_ortvalue_input(input_name, onnxruntime.OrtValue.ortvalue_from_numpy(x, "cuda", 0))
    for name in output_names:
        binding.bind_output(name, "cuda", 0)
    return lambda: session.run_with_iobinding(binding)


def _tensorrt(model: LocalizationNet, folder: Path, target: Target) -> MakeCall:
    from rfloc_core.export.tensorrt_export import export_tensorrt
    from rfloc_core.export.tensorrt_runtime import TensorRTRuntime

    sizes = sorted(target.batch_sizes)
    profile = f"{sizes[0]},{sizes[len(sizes) // 2]},{sizes[-1]}"  # min, opt, max
    engine = export_tensorrt(
        model,
        folder / "tensorrt" / "model.engine",
        batch=profile,
        fp16=target.precision == "fp16",
    )
    runtime = TensorRTRuntime(engine, device=target.device.index or 0)

    def make(batch: int) -> Call:
        spectrogram = random_input(model, batch).to(runtime.device)
        return lambda: runtime.run_torch(spectrogram)

    return make


def _plugin_exporter(
    backend: str, model: LocalizationNet, folder: Path, target: Target
) -> MakeCall:
    from rfloc_core.export.runtimes import load_runtime
    from rfloc_core.registry import get_registry

    spec = get_registry().exporter(backend)
    artifact = spec.export(model, folder / f"{backend}{spec.file_suffix}")
    runtime = load_runtime(artifact, device=target.device.type, threads=target.threads)

    def make(batch: int) -> Call:
        spectrogram = random_input(model, batch).numpy()
        return lambda: runtime.run(spectrogram)

    return make
