"""Build a TensorRT engine from an exported ONNX file, with a JSON sidecar describing it.

A TensorRT engine runs only under the TensorRT version and on the GPU model it was built
with, and the engine file itself cannot say so in a way Python can read without TensorRT.
The sidecar ``model.engine.json`` records both, plus the batch profile, the ONNX file's hash
and its ``rfloc.*`` metadata, so a mismatch is reported in plain words before TensorRT is
asked to deserialize anything.

``tensorrt`` is imported inside the functions that need it; this module imports without it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rfloc_core.atomic import atomic_path, write_text_atomic
from rfloc_core.contract import INPUT_NAME
from rfloc_core.errors import InvalidInputError, RflocError
from rfloc_core.export.errors import ArtifactError, BackendUnavailableError, ExportValidationError
from rfloc_core.hashing import sha256_file

SIDECAR_FORMAT = "rfloc-tensorrt-engine"
MIN_TENSORRT_MAJOR = 10
REBUILD_HINT = "rebuild the engine with `rfloc export CKPT --format tensorrt` on this machine"

_ONNX_FLOAT = 1
_ONNX_DOUBLE = 11
_ONNX_FLOAT16 = 10
_ONNX_TYPE_NAMES = {1: "float32", 10: "float16", 11: "float64", 16: "bfloat16"}


def tensorrt_unavailable_reason() -> str | None:
    """None when TensorRT can build and run engines here; else what is missing, in words."""
    import torch

    reasons = []
    try:
        trt = importlib.import_module("tensorrt")
    except ImportError:
        reasons.append(
            "the tensorrt Python package is not installed "
            "(pip install tensorrt; it needs an NVIDIA GPU and driver)"
        )
    except OSError as error:
        reasons.append(
            f"the tensorrt Python package is installed but cannot load its libraries ({error})"
        )
    else:
        version = str(getattr(trt, "__version__", ""))
        major = version.split(".")[0]
        if not major.isdigit() or int(major) < MIN_TENSORRT_MAJOR:
            reasons.append(
                f"TensorRT {version} is installed but rfloc needs TensorRT "
                f"{MIN_TENSORRT_MAJOR} or newer (pip install -U tensorrt)"
            )
    if not torch.cuda.is_available():
        reasons.append("torch sees no CUDA GPU (TensorRT engines run only on NVIDIA GPUs)")
    return "; ".join(reasons) or None


def import_tensorrt() -> Any:
    """The ``tensorrt`` module, or ``BackendUnavailableError`` saying what is missing."""
    reason = tensorrt_unavailable_reason()
    if reason is not None:
        raise BackendUnavailableError(
            f"TensorRT needs the tensorrt package and an NVIDIA GPU, but {reason}; run on a "
            "machine with both, or use the onnx format and ONNX Runtime instead"
        )
    return importlib.import_module("tensorrt")


@functools.cache
def tensorrt_logger() -> Any:
    """One logger for the process: builders and runtimes share it."""
    trt = importlib.import_module("tensorrt")
    return trt.Logger(trt.Logger.WARNING)


@dataclass(frozen=True)
class BatchProfile:
    """The batch sizes an engine accepts (``min``..``max``) and the one it is tuned for."""

    min: int
    opt: int
    max: int

    def __post_init__(self) -> None:
        values = (self.min, self.opt, self.max)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values) or not (
            1 <= self.min <= self.opt <= self.max
        ):
            raise InvalidInputError(
                "a TensorRT batch profile needs whole numbers with 1 <= min <= opt <= max, got "
                f"min={self.min!r}, opt={self.opt!r}, max={self.max!r}; pass three batch sizes "
                "such as 1,8,32"
            )

    def as_dict(self) -> dict[str, int]:
        return {"min": self.min, "opt": self.opt, "max": self.max}

    def __contains__(self, batch: object) -> bool:
        return isinstance(batch, int) and self.min <= batch <= self.max


def parse_batch_profile(text: str) -> BatchProfile:
    """``"1,8,32"`` -> ``BatchProfile(min=1, opt=8, max=32)``."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts):
        raise InvalidInputError(
            "a TensorRT batch profile is three comma-separated whole numbers min,opt,max, got "
            f"{text!r}; pass for example 1,8,32 (smallest, most frequent and largest batch)"
        )
    minimum, optimum, maximum = (int(part) for part in parts)
    return BatchProfile(min=minimum, opt=optimum, max=maximum)


def sidecar_path(engine_path: str | os.PathLike[str]) -> Path:
    """``model.engine`` -> ``model.engine.json``."""
    path = Path(engine_path)
    return path.with_suffix(path.suffix + ".json")


def compute_capability(device: int) -> str:
    """``"8.9"`` for an L4, ``"9.0"`` for an H100."""
    import torch

    major, minor = torch.cuda.get_device_capability(device)
    return f"{major}.{minor}"


@dataclass(frozen=True)
class _OnnxInput:
    metadata: dict[str, str]
    shape_without_batch: tuple[int, ...]
    elem_type: int
    float32_weights: tuple[str, ...]


def _read_onnx(onnx_path: Path) -> _OnnxInput:
    import onnx

    if not onnx_path.is_file():
        raise ArtifactError(
            f"expected an ONNX file at {str(onnx_path)!r} but there is none; export one with "
            "`rfloc export CKPT --format onnx`"
        )
    try:
        proto = onnx.load(str(onnx_path), load_external_data=False)
    except Exception as error:  # protobuf raises several types; all mean an unreadable file
        raise ArtifactError(
            f"expected an ONNX model in {str(onnx_path)!r} but it cannot be read "
            f"({type(error).__name__}); export the model again"
        ) from error
    initializer_names = {tensor.name for tensor in proto.graph.initializer}
    inputs = [value for value in proto.graph.input if value.name not in initializer_names]
    names = [value.name for value in inputs]
    if names != [INPUT_NAME]:
        raise ArtifactError(
            f"expected {str(onnx_path)!r} to have the single input {INPUT_NAME!r} but it has "
            f"{names}; export the model with `rfloc export`, which names the input"
        )
    tensor_type = inputs[0].type.tensor_type
    dims = list(tensor_type.shape.dim)
    if len(dims) != 4 or any(not dim.HasField("dim_value") for dim in dims[1:]):
        shown = [dim.dim_param or dim.dim_value for dim in dims]
        raise ArtifactError(
            f"expected the input of {str(onnx_path)!r} to be (batch, receivers, mel_bins, "
            f"frames) with only the batch dynamic but it is {shown}; export the model again "
            "with `rfloc export`"
        )
    float32_weights = tuple(
        tensor.name
        for tensor in proto.graph.initializer
        # Scalars are constants such as an epsilon, not weights.
        if tensor.data_type in (_ONNX_FLOAT, _ONNX_DOUBLE)
        and functools.reduce(lambda a, b: a * b, tensor.dims, 1) > 1
    )
    return _OnnxInput(
        metadata={entry.key: entry.value for entry in proto.metadata_props},
        shape_without_batch=tuple(int(dim.dim_value) for dim in dims[1:]),
        elem_type=int(tensor_type.elem_type),
        float32_weights=float32_weights,
    )


def _check_precision(onnx_path: Path, onnx_input: _OnnxInput, fp16: bool) -> None:
    input_type = _ONNX_TYPE_NAMES.get(onnx_input.elem_type, f"type {onnx_input.elem_type}")
    if fp16 and onnx_input.elem_type != _ONNX_FLOAT16:
        raise ExportValidationError(
            f"an fp16 TensorRT engine needs an fp16 ONNX file, but the input of "
            f"{str(onnx_path)!r} is {input_type}; export the ONNX file with --fp16 first "
            "(a strongly typed network takes its precision from the file)"
        )
    if fp16 and onnx_input.float32_weights:
        shown = ", ".join(onnx_input.float32_weights[:3])
        raise ExportValidationError(
            f"an fp16 TensorRT engine needs float16 weights, but {str(onnx_path)!r} has "
            f"{len(onnx_input.float32_weights)} float32 weights ({shown}); export the ONNX "
            "file with --fp16 so every weight is float16"
        )
    if not fp16 and onnx_input.elem_type == _ONNX_FLOAT16:
        raise ExportValidationError(
            f"an fp32 TensorRT engine needs an fp32 ONNX file, but the input of "
            f"{str(onnx_path)!r} is float16; build with fp16=True (--fp16) or export the ONNX "
            "file without --fp16"
        )


def _parse_network(trt: Any, builder: Any, onnx_path: Path) -> tuple[Any, Any]:
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, tensorrt_logger())
    parsed = parser.parse_from_file(str(onnx_path))
    errors = [" ".join(str(parser.get_error(i)).split()) for i in range(parser.num_errors)]
    if not parsed or errors:
        details = " | ".join(errors)[:600] or "no details given"
        raise ArtifactError(
            f"expected TensorRT {trt.__version__}'s ONNX parser to read {str(onnx_path)!r} but "
            f"it reported {len(errors)} error(s) ({details}); export the model again, or use "
            "ONNX Runtime if the model needs an operator TensorRT lacks"
        )
    # The network references the parser's weights, so the parser must outlive the build.
    return network, parser


def _attach_timing_cache(config: Any, timing_cache: Path | None) -> None:
    data = timing_cache.read_bytes() if timing_cache is not None and timing_cache.is_file() else b""
    cache = None
    if data:
        try:
            cache = config.create_timing_cache(data)
        except Exception:  # a corrupt cache only costs build time; start an empty one
            cache = None
    if cache is None or config.set_timing_cache(cache, ignore_mismatch=False) is False:
        # A cache from another TensorRT version or GPU is replaced, not merged.
        config.set_timing_cache(config.create_timing_cache(b""), ignore_mismatch=False)


def build_engine(
    onnx_path: str | os.PathLike[str],
    engine_path: str | os.PathLike[str],
    *,
    profile: BatchProfile,
    fp16: bool = False,
    timing_cache: Path | None = None,
    workspace_bytes: int = 1 << 30,
) -> Path:
    """Build a TensorRT engine for ``onnx_path`` on the current GPU and write it, atomically,
    to ``engine_path`` with its sidecar ``engine_path + ".json"``.

    The network is strongly typed: TensorRT 10 takes every tensor's precision from the ONNX
    file and does not allow the FP16/BF16/INT8 builder flags on such a network. So the fp16
    path is: export the ONNX file in float16 (``rfloc export --fp16``), then build with
    ``fp16=True``, which only checks that the file's input and weights are float16 and raises
    ``ExportValidationError`` otherwise. TF32 is switched off, so float32 tensors are
    computed in float32 and an fp32 engine matches PyTorch closely.

    The input ``spectrogram`` gets one optimization profile: the batch ranges over
    ``profile`` and the other dimensions are the ONNX file's. ``timing_cache`` is read when
    it exists and written back (atomically) after the build, which makes rebuilds on the
    same GPU faster. ``workspace_bytes`` caps TensorRT's scratch memory during tactics.
    """
    import torch

    onnx_file = Path(onnx_path)
    target = Path(engine_path)
    if workspace_bytes <= 0:
        raise InvalidInputError(
            f"workspace_bytes must be positive, got {workspace_bytes}; pass for example 1 << 30"
        )
    onnx_input = _read_onnx(onnx_file)
    _check_precision(onnx_file, onnx_input, fp16)
    trt = import_tensorrt()

    builder = trt.Builder(tensorrt_logger())
    network, _parser = _parse_network(trt, builder, onnx_file)
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    config.clear_flag(trt.BuilderFlag.TF32)
    _attach_timing_cache(config, timing_cache)

    sample = onnx_input.shape_without_batch
    optimization_profile = builder.create_optimization_profile()
    optimization_profile.set_shape(
        INPUT_NAME, (profile.min, *sample), (profile.opt, *sample), (profile.max, *sample)
    )
    config.add_optimization_profile(optimization_profile)

    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RflocError(
            f"expected TensorRT {trt.__version__} to build an engine from {str(onnx_file)!r} "
            "but the build failed (the TensorRT log above names the layer); try a larger "
            "workspace, a smaller maximum batch, or another export"
        )
    engine_bytes = bytes(serialized)

    if timing_cache is not None:
        with atomic_path(timing_cache) as temporary:
            temporary.write_bytes(bytes(config.get_timing_cache().serialize()))
    with atomic_path(target) as temporary:
        temporary.write_bytes(engine_bytes)

    device = torch.cuda.current_device()
    sidecar = {
        "format": SIDECAR_FORMAT,
        "tensorrt_version": str(trt.__version__),
        "gpu_name": torch.cuda.get_device_name(device),
        "compute_capability": compute_capability(device),
        "profile": profile.as_dict(),
        "fp16": fp16,
        "onnx_sha256": sha256_file(onnx_file),
        "engine_sha256": hashlib.sha256(engine_bytes).hexdigest(),
        "input_shape_without_batch": list(sample),
        "rfloc": onnx_input.metadata,
    }
    write_text_atomic(sidecar_path(target), json.dumps(sidecar, indent=2, sort_keys=True) + "\n")
    return target


_SIDECAR_TYPES: dict[str, type | tuple[type, ...]] = {
    "tensorrt_version": str,
    "gpu_name": str,
    "compute_capability": str,
    "profile": dict,
    "fp16": bool,
    "onnx_sha256": str,
    "rfloc": dict,
    "input_shape_without_batch": list,
}


def read_sidecar(engine_path: str | os.PathLike[str]) -> dict[str, Any]:
    """The sidecar of ``engine_path`` as a dict, checked; ``ArtifactError`` if missing or
    malformed."""
    path = sidecar_path(engine_path)
    if not path.is_file():
        raise ArtifactError(
            f"expected the TensorRT engine's sidecar {str(path)!r} next to the engine but there "
            f"is none; {REBUILD_HINT}"
        )
    try:
        sidecar = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ArtifactError(
            f"expected JSON in the TensorRT engine's sidecar {str(path)!r} but it is malformed "
            f"({error}); {REBUILD_HINT}"
        ) from error
    if not isinstance(sidecar, dict) or sidecar.get("format") != SIDECAR_FORMAT:
        raise ArtifactError(
            f"expected {str(path)!r} to be a sidecar with format {SIDECAR_FORMAT!r} but it is "
            f"not one; {REBUILD_HINT}"
        )
    wrong = [key for key, kind in _SIDECAR_TYPES.items() if not isinstance(sidecar.get(key), kind)]
    shape = sidecar.get("input_shape_without_batch")
    if isinstance(shape, list) and not all(isinstance(d, int) and d > 0 for d in shape):
        wrong.append("input_shape_without_batch")
    profile = sidecar.get("profile")
    if isinstance(profile, dict):
        try:
            BatchProfile(**profile)
        except (InvalidInputError, TypeError):
            wrong.append("profile")
    if wrong:
        raise ArtifactError(
            f"expected the TensorRT engine's sidecar {str(path)!r} to hold valid "
            f"{', '.join(wrong)} but they are missing or malformed; {REBUILD_HINT}"
        )
    return sidecar


def check_engine_compatible(
    sidecar: dict[str, Any], *, tensorrt_version: str, gpu_name: str, compute_capability: str
) -> None:
    """``ArtifactError`` unless the engine was built with this TensorRT version on this GPU
    model; a TensorRT engine is not portable across either."""
    built = (
        sidecar.get("tensorrt_version"),
        sidecar.get("gpu_name"),
        sidecar.get("compute_capability"),
    )
    if built == (tensorrt_version, gpu_name, compute_capability):
        return
    built_version, built_gpu, built_capability = built
    raise ArtifactError(
        f"expected a TensorRT engine built with TensorRT {tensorrt_version} on {gpu_name} "
        f"(compute capability {compute_capability}) but it was built with TensorRT "
        f"{built_version} on {built_gpu} (compute capability {built_capability}); {REBUILD_HINT}"
    )
