"""Inference latency of each runtime, side by side in one process.

``python -m benchmarks.runtime_latency [--backbones convnext_atto resnet18 ...]
[--backends torch onnxruntime ...] [--batch-sizes 1 8] [--device cpu|cuda] [--threads N]
[--min-iterations 50] [--min-seconds 2] [--rounds 3] [--out results.json]``

Each backbone is built at random init, saved as a checkpoint and exported to ONNX in a
temporary folder. Every backend then runs the same input: the rounds interleave the
backends (each is timed once per round) so drift in the machine's speed hits all of them,
and p50 / p90 are the medians of the per-round percentiles. A timing is some warm-up
calls, then at least ``--min-iterations`` calls and ``--min-seconds`` seconds over all
rounds; each call is timed alone (CUDA events on the GPU, ``perf_counter`` on the CPU).

Backends: ``torch`` (eager float32, the baseline of "x vs torch"), ``torch-bf16`` (eager,
weights and input in bfloat16), ``torch-compile`` (``torch.compile``), ``onnxruntime``
(CPU execution provider), ``onnxruntime-cuda`` and ``onnxruntime-trt`` (ONNX Runtime's
CUDA and TensorRT providers, input and outputs kept on the GPU with IO binding, as the
torch backends keep theirs) and ``tensorrt`` (an engine built by ``export_tensorrt``).
Without ``--backends``, all are listed; on the CPU, ``torch-bf16`` and ``torch-compile``
are skipped (slow) unless named. A backend that cannot run here is a row saying why.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import math
import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rfloc_core.atomic import write_text_atomic
from rfloc_core.checkpoint import save_checkpoint
from rfloc_core.export.onnx_export import export_onnx
from rfloc_core.export.tensorrt_engine import tensorrt_unavailable_reason
from rfloc_core.model import LocalizationNet, create_model

DEFAULT_BACKBONES = ("convnext_atto", "resnet18", "vit_tiny_patch16", "efficientnet_b0")
BACKENDS = (
    "torch",
    "torch-bf16",
    "torch-compile",
    "onnxruntime",
    "onnxruntime-cuda",
    "onnxruntime-trt",
    "tensorrt",
)
SLOW_ON_CPU = {
    "torch-bf16": "skipped on the CPU, where eager bfloat16 is slow; name it in --backends "
    "to time it anyway",
    "torch-compile": "skipped on the CPU, where compiling takes minutes; name it in "
    "--backends to time it anyway",
}
ORT_PROVIDERS = {
    "onnxruntime": ["CPUExecutionProvider"],
    "onnxruntime-cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "onnxruntime-trt": [
        "TensorrtExecutionProvider",
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ],
}
WARMUP_PER_ROUND = 2

Call = Callable[[], object]
"""One inference on a pre-made input."""
MakeCall = Callable[[int], Call]
"""Builds the call for a batch size."""


@dataclass
class Row:
    backbone: str
    backend: str
    batch: int
    status: str  # ok, unavailable or error
    p50_ms: float | None = None
    p90_ms: float | None = None
    mean_ms: float | None = None
    samples_per_s: float | None = None
    x_vs_torch: float | None = None
    iterations: int = 0
    round_p50_ms: list[float] = field(default_factory=list)
    note: str = ""


@dataclass
class Settings:
    device: torch.device
    threads: int
    batch_sizes: tuple[int, ...]
    warmup_iterations: int
    min_iterations: int
    min_seconds: float
    rounds: int


# --- environment -----------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str:
    try:
        return str(importlib.import_module(module).__version__)
    except Exception as error:  # an ImportError, or an OSError from missing native libraries
        return f"unavailable ({type(error).__name__})"


def _ort_providers() -> list[str]:
    try:
        import onnxruntime

        return list(onnxruntime.get_available_providers())
    except ImportError:
        return []


def environment(settings: Settings) -> dict[str, Any]:
    gpu = torch.cuda.get_device_name(settings.device) if settings.device.type == "cuda" else None
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "gpu": gpu,
        "device": str(settings.device),
        "threads": settings.threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "onnxruntime": _version("onnxruntime"),
        "onnxruntime_providers": _ort_providers(),
        "tensorrt": _version("tensorrt"),
        "rounds": settings.rounds,
        "min_iterations": settings.min_iterations,
        "min_seconds": settings.min_seconds,
        "warmup_iterations": settings.warmup_iterations,
    }


def print_environment(env: dict[str, Any]) -> None:
    print(f"cpu      {env['cpu']} ({env['logical_cpus']} logical CPUs), {env['threads']} threads")
    print(f"gpu      {env['gpu'] or 'none'} (timing on {env['device']})")
    print(
        f"versions python {env['python']}, torch {env['torch']} (CUDA {env['cuda']}), "
        f"onnxruntime {env['onnxruntime']} {env['onnxruntime_providers']}, "
        f"tensorrt {env['tensorrt']}"
    )
    print(
        f"timing   {env['rounds']} interleaved rounds, >= {env['min_iterations']} calls and "
        f">= {env['min_seconds']:g} s per backend, {env['warmup_iterations']} warm-up calls"
    )


# --- availability and loading ----------------------------------------------------------------


def unavailable_reason(backend: str, device: torch.device, requested: bool) -> str | None:
    """Why ``backend`` is not timed here, or None."""
    on_gpu = device.type == "cuda"
    if backend in SLOW_ON_CPU and not on_gpu and not requested:
        return SLOW_ON_CPU[backend]
    if backend in ("onnxruntime-cuda", "onnxruntime-trt"):
        provider = ORT_PROVIDERS[backend][0]
        available = _ort_providers()
        if provider not in available:
            return (
                f"this onnxruntime ({_version('onnxruntime')}) offers {available}, not "
                f"{provider}; install onnxruntime-gpu"
                + (" and TensorRT" if backend == "onnxruntime-trt" else "")
            )
    if backend == "tensorrt":
        reason = tensorrt_unavailable_reason()
        if reason is not None:
            return reason
    if backend in ("onnxruntime-cuda", "onnxruntime-trt", "tensorrt") and not on_gpu:
        return "runs on the GPU; pass --device cuda"
    return None


def _random_input(model: LocalizationNet, batch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(batch)
    shape = (batch, model.receivers, *model.input_size)
    return torch.rand(shape, generator=generator) * 2 - 1  # the features' range


def _torch_loader(
    checkpoint: Path, model: LocalizationNet, device: torch.device, backend: str
) -> MakeCall:
    from rfloc_core.export.torch_runtime import TorchModel

    dtype = torch.bfloat16 if backend == "torch-bf16" else torch.float32
    runtime = TorchModel(
        checkpoint, device=str(device), dtype=dtype, compile=backend == "torch-compile"
    )

    def make(batch: int) -> Call:
        spectrogram = _random_input(model, batch).to(device, dtype)
        return lambda: runtime.run_torch(spectrogram)

    return make


def _ort_loader(onnx_path: Path, model: LocalizationNet, threads: int, backend: str) -> MakeCall:
    from rfloc_core.export.onnx_runtime import OnnxModel

    providers = ORT_PROVIDERS[backend]
    runtime = OnnxModel(onnx_path, intra_op_threads=threads, providers=providers)
    # ONNX Runtime falls back to the CPU, silently, when a GPU provider cannot load.
    if runtime.providers[0] != providers[0]:
        raise RuntimeError(
            f"ONNX Runtime did not take {providers[0]} (session providers "
            f"{list(runtime.providers)}); its CUDA/TensorRT libraries are missing or mismatched"
        )

    def make(batch: int) -> Call:
        spectrogram = _random_input(model, batch).numpy()
        if backend == "onnxruntime":
            return lambda: runtime.run(spectrogram)
        return _bound_call(runtime.session, runtime.input_name, runtime.output_names, spectrogram)

    return make


def _bound_call(session: Any, input_name: str, output_names: Sequence[str], x: Any) -> Call:
    """A GPU session run with its input already on the GPU and its outputs left there."""
    import onnxruntime

    binding = session.io_binding()
    binding.bind_ortvalue_input(input_name, onnxruntime.OrtValue.ortvalue_from_numpy(x, "cuda", 0))
    for name in output_names:
        binding.bind_output(name, "cuda", 0)
    return lambda: session.run_with_iobinding(binding)


def _tensorrt_loader(
    folder: Path, model: LocalizationNet, device: torch.device, batch_sizes: Sequence[int]
) -> MakeCall:
    from rfloc_core.export.tensorrt_export import export_tensorrt
    from rfloc_core.export.tensorrt_runtime import TensorRTRuntime

    sizes = sorted(batch_sizes)
    profile = f"{sizes[0]},{sizes[len(sizes) // 2]},{sizes[-1]}"  # min, opt, max
    engine = export_tensorrt(model, folder / "tensorrt" / "model.engine", batch=profile)
    runtime = TensorRTRuntime(engine, device=device.index or 0)

    def make(batch: int) -> Call:
        spectrogram = _random_input(model, batch).to(runtime.device)
        return lambda: runtime.run_torch(spectrogram)

    return make


@dataclass
class Artifacts:
    """What the loaders read: the model, its checkpoint and its ONNX export (or the error)."""

    folder: Path
    model: LocalizationNet
    checkpoint: Path
    onnx_path: Path | None
    onnx_error: str


def prepare(backbone: str, folder: Path) -> Artifacts:
    torch.manual_seed(0)
    model = create_model(backbone).eval()
    checkpoint = save_checkpoint(model, folder / "checkpoint")
    try:
        onnx_path: Path | None = export_onnx(model, folder / "model.onnx", batch_sizes=(1,))
        error = ""
    except Exception as exception:
        onnx_path, error = None, _describe(exception)
    return Artifacts(folder, model, checkpoint, onnx_path, error)


def load(backend: str, artifacts: Artifacts, settings: Settings) -> MakeCall:
    if backend.startswith("torch"):
        return _torch_loader(artifacts.checkpoint, artifacts.model, settings.device, backend)
    if backend == "tensorrt":
        return _tensorrt_loader(
            artifacts.folder, artifacts.model, settings.device, settings.batch_sizes
        )
    if artifacts.onnx_path is None:
        raise RuntimeError(f"ONNX export failed: {artifacts.onnx_error}")
    return _ort_loader(artifacts.onnx_path, artifacts.model, settings.threads, backend)


def _describe(error: BaseException) -> str:
    first_line = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {first_line[:300]}"


# --- timing ----------------------------------------------------------------------------------


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timer(device: torch.device) -> Callable[[Call], float]:
    """Times one call, in ms."""
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

        def time_cuda_ms(call: Call) -> float:
            start.record()
            call()
            end.record()
            end.synchronize()
            return float(start.elapsed_time(end))

        return time_cuda_ms

    def time_cpu_ms(call: Call) -> float:
        begin = time.perf_counter()
        call()
        return (time.perf_counter() - begin) * 1e3

    return time_cpu_ms


def time_round(call: Call, settings: Settings, time_ms: Callable[[Call], float]) -> list[float]:
    """Per-call latencies (ms) of one round: this round's share of the iterations and time."""
    for _ in range(WARMUP_PER_ROUND):
        call()
    _synchronise(settings.device)
    min_calls = math.ceil(settings.min_iterations / settings.rounds)
    min_round_s = settings.min_seconds / settings.rounds
    latencies_ms: list[float] = []
    start_s = time.perf_counter()
    while len(latencies_ms) < min_calls or time.perf_counter() - start_s < min_round_s:
        latencies_ms.append(time_ms(call))
    return latencies_ms


def summarise(row: Row, rounds_ms: list[list[float]]) -> None:
    p50s = [float(np.percentile(r, 50)) for r in rounds_ms]
    p90s = [float(np.percentile(r, 90)) for r in rounds_ms]
    pooled = [value for r in rounds_ms for value in r]
    row.status = "ok"
    row.p50_ms = float(np.median(p50s))
    row.p90_ms = float(np.median(p90s))
    row.mean_ms = float(np.mean(pooled))
    row.samples_per_s = row.batch / row.p50_ms * 1e3
    row.iterations = len(pooled)
    row.round_p50_ms = [round(p, 4) for p in p50s]


def time_batch(
    backbone: str, batch: int, loaded: dict[str, MakeCall], settings: Settings
) -> dict[str, Row]:
    """Rows of every loaded backend at ``batch``, the backends interleaved round by round."""
    rows: dict[str, Row] = {}
    calls: dict[str, Call] = {}
    for backend, make in loaded.items():
        rows[backend] = Row(backbone, backend, batch, "error")
        try:
            call = make(batch)
            for _ in range(settings.warmup_iterations):
                call()
            _synchronise(settings.device)
            calls[backend] = call
        except Exception as error:
            rows[backend].note = _describe(error)
    time_ms = _timer(settings.device)
    latencies: dict[str, list[list[float]]] = {backend: [] for backend in calls}
    for _ in range(settings.rounds):
        for backend, call in list(calls.items()):
            try:
                latencies[backend].append(time_round(call, settings, time_ms))
            except Exception as error:
                rows[backend].note = _describe(error)
                del calls[backend]
    for backend in calls:
        summarise(rows[backend], latencies[backend])
    return rows


def compare_with_torch(rows: Sequence[Row]) -> None:
    baseline = {(r.backbone, r.batch): r.p50_ms for r in rows if r.backend == "torch"}
    for row in rows:
        torch_ms = baseline.get((row.backbone, row.batch))
        if row.p50_ms and torch_ms:
            row.x_vs_torch = torch_ms / row.p50_ms


def benchmark_backbone(
    backbone: str, backends: Sequence[str], requested: bool, settings: Settings
) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="rfloc-latency-") as folder:
        try:
            artifacts = prepare(backbone, Path(folder))
        except Exception as error:
            note = f"cannot build or save the model: {_describe(error)}"
            return [
                Row(backbone, b, n, "error", note=note)
                for b in backends
                for n in settings.batch_sizes
            ]
        skipped: dict[str, Row] = {}
        loaded: dict[str, MakeCall] = {}
        for backend in backends:
            reason = unavailable_reason(backend, settings.device, requested)
            if reason is None:
                try:
                    loaded[backend] = load(backend, artifacts, settings)
                    continue
                except Exception as error:
                    skipped[backend] = Row(backbone, backend, 0, "error", note=_describe(error))
                    continue
            skipped[backend] = Row(backbone, backend, 0, "unavailable", note=reason)
        rows = []
        for batch in settings.batch_sizes:
            timed = time_batch(backbone, batch, loaded, settings)
            for backend in backends:
                row = timed.get(backend) or Row(**(asdict(skipped[backend]) | {"batch": batch}))
                rows.append(row)
        del artifacts, loaded
    gc.collect()
    if settings.device.type == "cuda":
        torch.cuda.empty_cache()
    return rows


# --- output ----------------------------------------------------------------------------------

HEADER = (
    f"{'backbone':<18} {'backend':<17} {'batch':>5} {'p50 ms':>9} {'p90 ms':>9} "
    f"{'samples/s':>10} {'x vs torch':>10}"
)


def format_row(row: Row) -> str:
    start = f"{row.backbone:<18} {row.backend:<17} {row.batch:>5}"
    if row.status != "ok" or row.p50_ms is None or row.p90_ms is None:
        return f"{start}  {row.status}: {row.note}"
    ratio = f"{row.x_vs_torch:.2f}x" if row.x_vs_torch else "-"
    return f"{start} {row.p50_ms:>9.3f} {row.p90_ms:>9.3f} {row.samples_per_s:>10,.1f} {ratio:>10}"


def write_json(path: Path, env: dict[str, Any], rows: Sequence[Row]) -> None:
    document = {"environment": env, "rows": [asdict(row) for row in rows]}
    write_text_atomic(path, json.dumps(document, indent=2) + "\n")


def _parser() -> argparse.ArgumentParser:
    default_device = "cuda" if torch.cuda.is_available() else "cpu"
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.runtime_latency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--backbones", nargs="+", default=list(DEFAULT_BACKBONES))
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, help="default: all (see above)")
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1])
    parser.add_argument("--device", choices=("cpu", "cuda"), default=default_device)
    parser.add_argument(
        "--threads", type=int, default=torch.get_num_threads(), help="torch and ORT CPU threads"
    )
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls before round 1")
    parser.add_argument("--min-iterations", type=int, default=50, help="timed calls, all rounds")
    parser.add_argument("--min-seconds", type=float, default=2.0, help="timed s, all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per backend")
    parser.add_argument("--out", type=Path, help="write the rows and environment as JSON")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA GPU; pass --device cpu")
    torch.set_num_threads(args.threads)
    settings = Settings(
        device=torch.device(args.device, 0) if args.device == "cuda" else torch.device("cpu"),
        threads=args.threads,
        batch_sizes=tuple(args.batch_sizes),
        warmup_iterations=args.warmup,
        min_iterations=args.min_iterations,
        min_seconds=args.min_seconds,
        rounds=max(1, args.rounds),
    )
    backends = args.backends or list(BACKENDS)
    env = environment(settings)
    print_environment(env)
    print()
    print(HEADER)
    rows: list[Row] = []
    for backbone in args.backbones:
        found = benchmark_backbone(backbone, backends, args.backends is not None, settings)
        rows += found
        compare_with_torch(rows)
        for row in found:
            print(format_row(row), flush=True)
        if args.out:  # after each backbone, so a run cut short still leaves its rows
            write_json(args.out, env, rows)


if __name__ == "__main__":
    main()
