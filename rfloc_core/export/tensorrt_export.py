"""``export_tensorrt``: ONNX export, TensorRT engine build, then validation against PyTorch."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from rfloc_core.atomic import write_text_atomic
from rfloc_core.export.errors import BackendUnavailableError
from rfloc_core.export.validation import validate
from rfloc_core.model import LocalizationNet, ReceiverSetNet

TIMING_CACHE_NAME = "tensorrt-timing.cache"


def export_tensorrt(
    model: LocalizationNet | ReceiverSetNet,
    path: str | os.PathLike[str],
    *,
    fp16: bool = False,
    batch: str = "1,8,32",
    metadata: Mapping[str, str] | None = None,
    allow_mismatch: bool = False,
    timing_cache: str | os.PathLike[str] | None = None,
    **onnx_options: object,
) -> Path:
    """Build ``path`` (an ``.engine``) from an ONNX export written beside it (``path`` with
    ``.onnx``), with the batch profile ``batch`` = "min,opt,max", and validate the engine
    against the eager model at the profile's batch sizes."""
    from rfloc_core.export.onnx_export import export_onnx
    from rfloc_core.export.tensorrt_engine import (
        build_engine,
        parse_batch_profile,
        tensorrt_unavailable_reason,
    )
    from rfloc_core.export.tensorrt_runtime import TensorRTRuntime

    if isinstance(model, ReceiverSetNet):
        raise BackendUnavailableError(
            "rfloc does not build TensorRT engines of receiver-set models (their profile would "
            "need a receiver-count range as well as a batch range); export to ONNX with "
            "--format onnx, whose file takes any receiver count"
        )
    reason = tensorrt_unavailable_reason()
    if reason is not None:
        raise BackendUnavailableError(f"cannot build a TensorRT engine here: {reason}")
    profile = parse_batch_profile(batch)
    engine_path = Path(path)
    onnx_path = export_onnx(
        model,
        engine_path.with_suffix(".onnx"),
        fp16=fp16,
        metadata=metadata,
        allow_mismatch=allow_mismatch,
        **onnx_options,  # type: ignore[arg-type]
    )
    cache = Path(timing_cache) if timing_cache else engine_path.parent / TIMING_CACHE_NAME
    build_engine(onnx_path, engine_path, profile=profile, fp16=fp16, timing_cache=cache)
    runtime = TensorRTRuntime(engine_path)
    sizes = sorted({profile.min, profile.opt, profile.max})
    report = validate(
        model,
        runtime.run,
        runtime="tensorrt",
        fp16=fp16,
        batch_sizes=sizes,
    )
    if not report.passed and not allow_mismatch:
        engine_path.unlink(missing_ok=True)
        raise report.mismatch_error(
            f"the TensorRT engine of {model.backbone_spec.name}", "its sidecar"
        )
    sidecar = engine_path.with_suffix(engine_path.suffix + ".json")
    record = json.loads(sidecar.read_text(encoding="utf-8"))
    record["validation"] = report.as_dict()
    write_text_atomic(sidecar, json.dumps(record, indent=2) + "\n")
    return engine_path
