"""The ``--device`` a user names, checked before any work starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rfloc_core.errors import InvalidInputError

if TYPE_CHECKING:
    import torch


def checked_device(text: str) -> torch.device:
    """``text`` as a torch device this machine has: ``cpu``, ``cuda``, ``cuda:N``, ``mps``."""
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, TypeError, ValueError):
        raise InvalidInputError(
            f"--device {text!r} is not a torch device; use cpu, cuda or cuda:N"
        ) from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InvalidInputError(
                f"--device {text} asks for CUDA but torch sees no GPU; use --device cpu"
            )
        if device.index is not None and device.index >= count:
            raise InvalidInputError(
                f"--device {text} asks for GPU {device.index} but torch sees {count}; use "
                f"cuda:0 to cuda:{count - 1}"
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidInputError(f"--device {text} asks for MPS, which this machine lacks")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise InvalidInputError(f"--device {text!r} is not supported; use cpu, cuda or cuda:N")
    return device
