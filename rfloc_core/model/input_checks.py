"""Validation of the model input (B, receivers, mel_bins, frames) against the contract."""

from __future__ import annotations

import torch

from rfloc_core.errors import InvalidInputError
from rfloc_core.specs import InputConstraints, InputSize

LAYOUT = "(batch, receivers, mel_bins, frames)"


def _tracing() -> bool:
    return bool(
        torch.compiler.is_compiling()
        or torch.compiler.is_exporting()
        or torch.jit.is_tracing()  # type: ignore[attr-defined,no-untyped-call]
        or torch.onnx.is_in_onnx_export()
    )


def check_spectrogram(
    x: object,
    *,
    receivers: int,
    built_size: InputSize,
    constraints: InputConstraints,
    dtype: torch.dtype,
    backbone: str,
) -> None:
    """Raise ``InvalidInputError`` unless ``x`` is a finite ``dtype`` tensor of layout
    (B, receivers, mel_bins, frames) whose size the backbone accepts."""
    if not isinstance(x, torch.Tensor):
        raise InvalidInputError(
            f"expected a torch.Tensor {LAYOUT}, got {type(x).__name__}; "
            "convert with torch.as_tensor(x, dtype=torch.float32)"
        )
    if x.ndim != 4:
        raise InvalidInputError(
            f"expected a 4-D tensor {LAYOUT}, got shape {tuple(x.shape)}; "
            "add a batch dimension with x.unsqueeze(0) for a single sample"
        )
    if x.shape[1] != receivers:
        raise InvalidInputError(
            f"expected {receivers} receivers (dim 1 of {LAYOUT}), got {x.shape[1]} in shape "
            f"{tuple(x.shape)}; build the model with create_model(..., receivers={x.shape[1]}) "
            "or fill offline receivers with the documented floor value"
        )
    if x.dtype != dtype:
        raise InvalidInputError(
            f"expected dtype {dtype} (the model's), got {x.dtype}; convert with x.to({dtype})"
        )
    problem = constraints.problem((int(x.shape[2]), int(x.shape[3])), built_size)
    if problem:
        raise InvalidInputError(
            f"{backbone} cannot take input of shape {tuple(x.shape)}: {problem}"
        )
    if not _tracing() and not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise InvalidInputError(
            f"expected finite log-power values, got {bad} NaN or infinite value(s); "
            "replace an offline receiver's channel with the documented floor value"
        )
