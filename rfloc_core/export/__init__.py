"""Exporters and their runtimes. The core's are declared here as specs; their modules import
torch (and onnx, tensorrt) on use.

Each exporter turns a ``LocalizationNet`` into an artifact, and ``load_runtime`` runs any
artifact: a checkpoint folder in eager PyTorch, an ``.onnx`` file (float or INT8) in ONNX
Runtime, an ``.engine`` file in TensorRT.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rfloc_core.specs import ExporterSpec


def _export_torch(model: Any, path: Any, **options: Any) -> Path:
    from rfloc_core.checkpoint import save_checkpoint

    return save_checkpoint(
        model, path, scenario=options.get("scenario"), features=options.get("features")
    )


ONNX_OPTIONS = ("exporter", "opset", "fp16", "metadata", "validate", "allow_mismatch", "simplify")


def _export_onnx(model: Any, path: Any, **options: Any) -> Path:
    from rfloc_core.export.onnx_export import export_onnx

    return export_onnx(model, path, **{k: v for k, v in options.items() if k in ONNX_OPTIONS})


INT8_OPTIONS = ("exporter", "metadata", "validate", "allow_mismatch", "scenario", "features")


def _export_onnx_int8(model: Any, path: Any, **options: Any) -> Path:
    from rfloc_core.errors import InvalidInputError
    from rfloc_core.export.onnx_int8 import export_onnx_int8

    refused = [f"--{name}" for name in ("fp16", "simplify") if options.get(name)]
    if refused:
        raise InvalidInputError(
            f"{' and '.join(refused)} cannot be combined with --format onnx_int8, whose file "
            "is 8-bit with float32 inputs and outputs; leave it out, or export --format onnx"
        )

    return export_onnx_int8(model, path, **{k: v for k, v in options.items() if k in INT8_OPTIONS})


def _onnx_int8_missing() -> str | None:
    from rfloc_core.export.onnx_int8 import quantization_unavailable_reason

    return quantization_unavailable_reason()


def _export_tensorrt(model: Any, path: Any, **options: Any) -> Path:
    from rfloc_core.export.tensorrt_export import export_tensorrt

    known = (*ONNX_OPTIONS, "batch", "timing_cache")
    return export_tensorrt(model, path, **{k: v for k, v in options.items() if k in known})


def _tensorrt_missing() -> str | None:
    from rfloc_core.export.tensorrt_engine import tensorrt_unavailable_reason

    return tensorrt_unavailable_reason()


CORE_EXPORTERS = (
    ExporterSpec(
        name="torch",
        file_suffix="",
        export=_export_torch,
        description="eager PyTorch: a checkpoint folder (safetensors + JSON), the baseline",
    ),
    ExporterSpec(
        name="onnx",
        file_suffix=".onnx",
        export=_export_onnx,
        description="ONNX (dynamo exporter by default), dynamic batch, checked with onnx.checker, "
        "validated against PyTorch in ONNX Runtime",
    ),
    ExporterSpec(
        name="onnx_int8",
        file_suffix=".onnx",
        export=_export_onnx_int8,
        description="INT8 ONNX for the CPU: ONNX Runtime static quantization (QDQ), calibrated "
        "on simulated inputs of the checkpoint's scenario, validated against PyTorch",
        unavailable_reason=_onnx_int8_missing,
    ),
    ExporterSpec(
        name="tensorrt",
        file_suffix=".engine",
        export=_export_tensorrt,
        description="TensorRT engine built from the ONNX export, with a batch profile and a "
        "JSON sidecar; needs an NVIDIA GPU",
        unavailable_reason=_tensorrt_missing,
    ),
)
