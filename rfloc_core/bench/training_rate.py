"""The training throughput of a bare PyTorch loop: per batch, forward and the head's loss
(``LocalizationModule.step_loss``), backward and an AdamW step under the warm-up + cosine
schedule, on batches already in memory, with nothing else around it.

The bench sets this rate beside rfloc's own (Lightning's) rate on the model it trained, and
``python -m benchmarks.training_overhead`` beside a Lightning run on the same batches, so the
difference is the training loop itself.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from rfloc_core.errors import InvalidInputError
from rfloc_core.model import LocalizationNet, create_model
from rfloc_core.training.module import LocalizationModule, module_for
from rfloc_core.training.schedule import WarmupCosine, warmup_steps_for

if TYPE_CHECKING:
    from rfloc_core.training.run import TrainResult

Batch = dict[str, torch.Tensor]

BENCH_STEPS = 20
"""Timed steps of the bare loop after each backbone the bench trains (first seed only)."""
BENCH_WARMUP_STEPS = 3
"""Untimed steps before them (allocations, kernel choice)."""
POSITION_HALF_SPAN_M = 20_000.0
"""Random positions lie within ± this of the origin, east and north, in metres; it is also the
head's position scale of a model ``fresh_module`` builds."""

_AUTOCAST_DTYPES = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}
"""Lightning's mixed precisions as the autocast dtype they compute in."""


def fresh_module(backbone: str, *, seed: int = 0) -> LocalizationModule:
    """``backbone`` with the default Gaussian head, initialised from ``seed``, in a
    ``LocalizationModule`` with learning rate 1e-3, weight decay 0.05 and 10 % warm-up."""
    torch.manual_seed(seed)
    model = create_model(backbone, head_options={"position_scale_m": POSITION_HALF_SPAN_M})
    return LocalizationModule(
        model, learning_rate=1e-3, weight_decay=0.05, warmup_fraction=0.1, seed=seed
    )


def random_batches(
    model: LocalizationNet,
    *,
    batch_size: int,
    count: int,
    seed: int = 0,
    channels_last: bool = False,
) -> list[Batch]:
    """``count`` batches on ``model``'s device, each of ``batch_size`` spectrograms of the
    model's shape ``(batch_size, model.receivers, *model.input_size)`` uniform in [0, 1), every
    receiver online, and true positions (m) uniform within ± ``POSITION_HALF_SPAN_M``.
    ``channels_last`` stores the spectrograms in that memory format."""
    if batch_size < 1 or count < 1:
        raise InvalidInputError(
            f"expected batch_size >= 1 and count >= 1, got {batch_size} and {count}; pass "
            "positive numbers of samples and batches"
        )
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    shape = (batch_size, model.receivers, *model.input_size)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    batches = []
    for _ in range(count):
        features = torch.rand(shape, generator=generator).contiguous(memory_format=memory_format)
        position_m = (torch.rand(batch_size, 2, generator=generator) * 2 - 1) * (
            POSITION_HALF_SPAN_M
        )
        online = torch.ones(batch_size, model.receivers, dtype=torch.bool)
        batch = {"features": features, "position_m": position_m, "online": online}
        batches.append({key: value.to(device) for key, value in batch.items()})
    return batches


def bare_loop(
    module: LocalizationModule,
    batches: Sequence[Batch],
    *,
    warmup_steps: int,
    autocast_dtype: torch.dtype | None = None,
    gradient_clip_norm: float = 0.0,
) -> float:
    """Train ``module`` in place, one optimizer step per batch, and return the samples per
    second of the steps after the first ``warmup_steps`` (which run untimed).

    Each step is ``module.step_loss`` (under ``torch.autocast`` in ``autocast_dtype``, where
    given, with a gradient scaler for float16), backward, the global gradient norm clipped to
    ``gradient_clip_norm`` (0: not clipped) and an AdamW step at the module's learning rate and
    weight decay, its schedule stepped too. The clock is ``time.perf_counter``, with the device
    synchronised before it is read."""
    if not 0 <= warmup_steps < len(batches):
        raise InvalidInputError(
            f"expected 0 <= warmup_steps < {len(batches)} batches, got {warmup_steps}; pass "
            "more batches than warm-up steps, so that some steps are timed"
        )
    device = next(module.model.parameters()).device
    module.train()
    parameters = [p for p in module.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        parameters, lr=module.learning_rate, weight_decay=module.weight_decay
    )
    total = len(batches)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, WarmupCosine(total, warmup_steps_for(total, module.warmup_fraction))
    )
    scaler = torch.amp.GradScaler(device.type, enabled=autocast_dtype is torch.float16)
    started_s = 0.0
    timed_samples = 0
    for step, batch in enumerate(batches):
        if step == warmup_steps:
            _synchronize(device)
            started_s = time.perf_counter()
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            loss = module.step_loss(batch, step)
        optimizer.zero_grad(set_to_none=True)
        scaled: torch.Tensor = scaler.scale(loss)
        scaled.backward()  # type: ignore[no-untyped-call]
        if gradient_clip_norm > 0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(parameters, gradient_clip_norm)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        if step >= warmup_steps:
            timed_samples += int(batch["features"].shape[0])
    _synchronize(device)
    return timed_samples / (time.perf_counter() - started_s)


def bare_loop_samples_per_s(
    backbone: str,
    *,
    batch_size: int,
    steps: int,
    warmup_steps: int,
    seed: int = 0,
    channels_last: bool = False,
    autocast_dtype: torch.dtype | None = None,
) -> float:
    """Samples per second of ``bare_loop`` on CPU: a ``fresh_module(backbone)`` trained on
    ``warmup_steps`` untimed then ``steps`` timed batches of ``random_batches``;
    ``channels_last`` puts the model and the spectrograms in that memory format."""
    module = fresh_module(backbone, seed=seed)
    if channels_last:
        module.to(memory_format=torch.channels_last)
    assert isinstance(module.model, LocalizationNet)  # fresh_module builds no fusion
    batches = random_batches(
        module.model,
        batch_size=batch_size,
        count=warmup_steps + steps,
        seed=seed,
        channels_last=channels_last,
    )
    return bare_loop(module, batches, warmup_steps=warmup_steps, autocast_dtype=autocast_dtype)


def trained_model_bare_samples_per_s(
    result: TrainResult,
    *,
    device: torch.device,
    steps: int = BENCH_STEPS,
    warmup_steps: int = BENCH_WARMUP_STEPS,
) -> float | None:
    """``bare_loop``'s samples/s on the model a training run trained, on ``device``: its best
    checkpoint rebuilt (same backbone, head and head options, input shape), trained further in
    memory at the run's batch size, learning rate, weight decay, loss, gain augmentation,
    gradient clipping, memory format and mixed precision. None for a receiver-set model, whose
    batches this loop does not make. The run's files are only read, and torch's random state
    is left as it was."""
    from rfloc_core.checkpoint import load_checkpoint
    from rfloc_core.evaluation.evaluate import checkpoint_features
    from rfloc_core.training.run import resolve_precision

    config = result.config
    if config.model.fusion is not None:
        return None
    accelerator = "cpu" if device.type == "cpu" else config.accelerator
    autocast_dtype = _AUTOCAST_DTYPES.get(resolve_precision(config.precision, accelerator))
    # Building the model draws weights and step_loss seeds torch's global RNG: what runs
    # after (the test) sees the state it had.
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        model, stored = load_checkpoint(result.best_checkpoint, map_location=str(device))
        assert isinstance(model, LocalizationNet)  # a checkpoint without a fusion
        module = module_for(
            model,
            config,
            feature_span_db=checkpoint_features(stored).scale_span_db,
        )
        batches = random_batches(
            model, batch_size=config.batch_size, count=warmup_steps + steps, seed=config.seed
        )
        return bare_loop(
            module,
            batches,
            warmup_steps=warmup_steps,
            autocast_dtype=autocast_dtype,
            gradient_clip_norm=config.gradient_clip_norm,
        )


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
