"""Validation of the model input against the contract: spectrograms (B, receivers, mel_bins,
frames), and for a receiver-set model also receiver positions (B, receivers, 2) in metres and
an online mask (B, receivers)."""

from __future__ import annotations

import math

import torch

from rfloc_core.errors import InvalidInputError
from rfloc_core.specs import InputConstraints, InputSize

LAYOUT = "(batch, receivers, mel_bins, frames)"


def tracing() -> bool:
    """Whether the model is being compiled, exported or traced (no data-dependent checks)."""
    return bool(
        torch.compiler.is_compiling()
        or torch.compiler.is_exporting()
        or torch.jit.is_tracing()  # type: ignore[attr-defined,no-untyped-call]
        or torch.onnx.is_in_onnx_export()
    )


def all_finite(x: torch.Tensor) -> bool:
    """Whether every value of ``x`` is finite. A sum is finite only if every term is (NaN and
    infinity propagate), and it costs a fraction of an elementwise ``isfinite`` scan; only a
    non-finite sum, from a bad value or an overflow, needs the exact scan."""
    if math.isfinite(float(x.sum(dtype=torch.float32))):
        return True
    return bool(torch.isfinite(x).all())


def check_spectrogram(
    x: object,
    *,
    receivers: int | None,
    built_size: InputSize,
    constraints: InputConstraints,
    dtype: torch.dtype,
    backbone: str,
    check_finite: bool = True,
) -> None:
    """Raise ``InvalidInputError`` unless ``x`` is a finite ``dtype`` tensor of layout
    (B, receivers, mel_bins, frames) whose size the backbone accepts; ``receivers=None``
    accepts any count of at least one; ``check_finite=False`` leaves the values to the
    caller."""
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
    if receivers is None and x.shape[1] < 1:
        raise InvalidInputError(
            f"expected at least one receiver (dim 1 of {LAYOUT}), got shape {tuple(x.shape)}"
        )
    if receivers is not None and x.shape[1] != receivers:
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
    if check_finite and not tracing() and not all_finite(x):
        bad = int((~torch.isfinite(x)).sum())
        raise InvalidInputError(
            f"expected finite log-power values, got {bad} NaN or infinite value(s); "
            "replace an offline receiver's channel with the documented floor value"
        )


def check_receiver_inputs(spectrogram: torch.Tensor, receivers_m: object, online: object) -> None:
    """Raise ``InvalidInputError`` unless ``receivers_m`` is a float tensor (B, receivers, 2)
    of east, north in metres and ``online`` a bool tensor (B, receivers) with at least one
    True per sample, both matching the (already checked) spectrogram's B and receivers. The
    values of online receivers are checked by ``check_heard_values``."""
    batch, count = spectrogram.shape[0], spectrogram.shape[1]  # symbolic while exporting
    if not isinstance(receivers_m, torch.Tensor) or not isinstance(online, torch.Tensor):
        raise InvalidInputError(
            "a receiver-set model takes (spectrogram, receivers_m, online): receiver positions "
            f"(B, receivers, 2) in metres and an online mask (B, receivers) as torch tensors, "
            f"got {type(receivers_m).__name__} and {type(online).__name__}"
        )
    if receivers_m.ndim != 3 or receivers_m.shape != (batch, count, 2):
        raise InvalidInputError(
            f"expected receivers_m of shape (B, receivers, 2) = ({batch}, {count}, 2) to match "
            f"the spectrogram {tuple(spectrogram.shape)}, got {tuple(receivers_m.shape)}; give "
            "every receiver's east and north in metres, in the spectrogram's receiver order"
        )
    if online.ndim != 2 or online.shape != (batch, count):
        raise InvalidInputError(
            f"expected online of shape (B, receivers) = ({batch}, {count}) to match the "
            f"spectrogram {tuple(spectrogram.shape)}, got {tuple(online.shape)}"
        )
    if online.dtype != torch.bool:
        raise InvalidInputError(
            f"expected online as a bool tensor (True: the receiver is heard), got {online.dtype}; "
            "convert with online.bool()"
        )
    if not receivers_m.is_floating_point():
        raise InvalidInputError(
            f"expected receivers_m as floating point metres, got {receivers_m.dtype}"
        )
    if tracing():
        return
    if not bool(online.any(dim=1).all()):
        empty = int((~online.any(dim=1)).sum())
        raise InvalidInputError(
            f"expected at least one receiver online in every sample, got {empty} sample(s) with "
            "none; a transmission nobody heard cannot be located"
        )


def check_heard_values(spectrogram: torch.Tensor, receivers_m: torch.Tensor) -> None:
    """Raise ``InvalidInputError`` unless every value is finite, once the offline receivers'
    spectrograms and positions have been replaced (they may hold anything, NaN included)."""
    if tracing():
        return
    if not all_finite(receivers_m):
        bad = int((~torch.isfinite(receivers_m)).sum())
        raise InvalidInputError(
            f"expected finite positions of the online receivers in metres, got {bad} NaN or "
            "infinite value(s); give every online receiver's position, or mark it offline"
        )
    if not all_finite(spectrogram):
        bad = int((~torch.isfinite(spectrogram)).sum())
        raise InvalidInputError(
            f"expected finite log-power values of the online receivers, got {bad} NaN or "
            "infinite value(s); mark a receiver with no valid recording offline"
        )
