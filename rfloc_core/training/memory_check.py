"""Training's memory need on the CPU, estimated before it is allocated, against what the machine
has: an absurd ``batch_size`` or ``train_samples`` is one line instead of the kernel's
out-of-memory kill.

The estimate is a lower bound, so a configuration that fits is never refused: the in-memory
sets, one batch of inputs, and each module's output in one batch, twice (the forward pass keeps
it for the backward pass, which gives it a gradient of the same size). Parameters, optimizer
state and the allocator's slack come on top.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rfloc_core.errors import RflocError

if TYPE_CHECKING:
    import torch

    from rfloc_core.data import FeatureConfig
    from rfloc_core.training.config import TrainConfig

FLOAT32_BYTES = 4
_MEMINFO = Path("/proc/meminfo")


class TrainingMemoryError(RflocError):
    """A training configuration that needs more memory than the machine has available."""


def available_memory_bytes() -> int | None:
    """The kernel's estimate of memory available without swapping (Linux), else None."""
    try:
        for line in _MEMINFO.read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def activation_bytes_per_sample(
    backbone: torch.nn.Module, channels: int, input_size: tuple[int, int]
) -> int:
    """Bytes of every module's outputs when ``backbone`` takes one sample of ``channels``,
    measured in eval mode, so the probe leaves normalisation statistics as they were."""
    import torch

    total = 0

    def count(module: torch.nn.Module, inputs: object, output: object) -> None:
        nonlocal total
        outputs = output if isinstance(output, tuple | list) else (output,)
        total += sum(t.numel() * t.element_size() for t in outputs if isinstance(t, torch.Tensor))

    leaves = [m for m in backbone.modules() if not list(m.children())]
    handles = [m.register_forward_hook(count) for m in leaves]
    parameter = next(backbone.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    modes = {module: module.training for module in backbone.modules()}
    backbone.eval()
    try:
        with torch.no_grad():
            backbone(torch.zeros(1, channels, *input_size, device=device))
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes.items():
            module.training = training
    return total


def training_memory_bytes(
    config: TrainConfig,
    features: FeatureConfig,
    receivers: int,
    activation_bytes: int,
    copies_per_sample: int,
) -> int:
    """The lower bound the module docstring describes, in bytes."""
    sample_bytes = receivers * features.mel_bins * features.frames * FLOAT32_BYTES
    stored = (config.train_samples + config.val_samples) * sample_bytes
    held = stored if config.data_in_memory else 0
    batch = config.batch_size * (sample_bytes + 2 * copies_per_sample * activation_bytes)
    return held + batch


def check_training_memory(
    model: torch.nn.Module, config: TrainConfig, features: FeatureConfig, receivers: int
) -> None:
    """Raise ``TrainingMemoryError`` when training on the CPU needs more than is available."""
    import torch

    on_gpu = config.accelerator not in ("cpu",) and torch.cuda.is_available()
    available = available_memory_bytes()
    if on_gpu or available is None:
        return
    set_model = getattr(model, "fusion_spec", None) is not None
    channels, copies = (1, receivers) if set_model else (receivers, 1)
    backbone: torch.nn.Module = model.backbone  # type: ignore[assignment]
    input_size = (features.mel_bins, features.frames)
    activations = activation_bytes_per_sample(backbone, channels, input_size)
    needed = training_memory_bytes(config, features, receivers, activations, copies)
    if needed <= available:
        return
    what = f"batch_size {config.batch_size}"
    remedy = "lower batch_size"
    if config.data_in_memory:
        what += f", {config.train_samples:,} + {config.val_samples:,} samples held in memory"
        remedy += ", train_samples or val_samples, or set data_in_memory=false"
    raise TrainingMemoryError(
        f"training needs at least {needed / 2**30:,.1f} GiB of memory ({what}), but this "
        f"machine has {available / 2**30:,.1f} GiB available; {remedy}"
    )
