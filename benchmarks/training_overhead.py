"""Lightning's training throughput against a bare PyTorch loop, same model, same batches.

``python -m benchmarks.training_overhead [--backbone convnext_atto] [--steps 60] [--repeats 3]
[--channels-last] [--bf16-autocast]``

Both loops compute ``LocalizationModule.step_loss`` (head NLL) with AdamW and the warm-up +
cosine schedule on the same in-memory batches, so the difference is the loop itself:
Lightning's hooks, logging and bookkeeping against ``forward / backward / step``. The bare loop
is the bench's (``rfloc_core.bench.training_rate``). Rounds alternate bare and Lightning so
drift in the machine's speed hits both; the medians and their ratio are printed.

``--channels-last`` puts both models and the batches in channels-last memory format;
``--bf16-autocast`` runs both forwards under ``torch.autocast("cpu", dtype=torch.bfloat16)``
(Lightning's ``bf16-mixed``), to see whether either helps on this CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import lightning
import torch
from torch.utils.data import DataLoader

from rfloc_core.bench.training_rate import Batch, bare_loop, fresh_module, random_batches
from rfloc_core.model import LocalizationNet
from rfloc_core.training.module import LocalizationModule


class _StepClock(lightning.Callback):
    """Wall time from the start of step ``warmup`` to the end of the last step."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start = 0.0
        self.end = 0.0

    def on_train_batch_start(self, trainer: Any, module: Any, batch: Any, index: int) -> None:
        if index == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: Any, module: Any, out: Any, batch: Any, i: int) -> None:
        self.end = time.perf_counter()


def _module(backbone: str, channels_last: bool) -> LocalizationModule:
    module = fresh_module(backbone, seed=0)
    if channels_last:
        module.to(memory_format=torch.channels_last)
    return module


def lightning_rate(
    backbone: str, batches: list[Batch], warmup: int, *, channels_last: bool, bf16: bool
) -> float:
    clock = _StepClock(warmup)
    trainer = lightning.Trainer(
        max_epochs=1,
        accelerator="cpu",
        devices=1,
        precision="bf16-mixed" if bf16 else "32-true",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[clock],
    )
    # a list of batches is a map-style dataset; each item is already a whole batch
    loader: DataLoader[Any] = DataLoader(batches, batch_size=None)  # type: ignore[arg-type]
    trainer.fit(_module(backbone, channels_last), train_dataloaders=loader)
    steps = len(batches) - warmup
    return steps * batches[0]["features"].shape[0] / (clock.end - clock.start)


def bare_rate(
    backbone: str, batches: list[Batch], warmup: int, *, channels_last: bool, bf16: bool
) -> float:
    return bare_loop(
        _module(backbone, channels_last),
        batches,
        warmup_steps=warmup,
        autocast_dtype=torch.bfloat16 if bf16 else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="convnext_atto")
    parser.add_argument("--batch", type=int, default=32, help="samples per step")
    parser.add_argument("--steps", type=int, default=60, help="steps per round, warm-up included")
    parser.add_argument("--warmup", type=int, default=10, help="untimed first steps per round")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of each loop")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument(
        "--channels-last",
        action="store_true",
        help="models and batches in channels-last memory format, in both loops",
    )
    parser.add_argument(
        "--bf16-autocast",
        action="store_true",
        help="torch.autocast('cpu', dtype=torch.bfloat16) in both loops (Lightning: bf16-mixed)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = {"channels_last": args.channels_last, "bf16": args.bf16_autocast}
    model = fresh_module(args.backbone).model
    assert isinstance(model, LocalizationNet)  # fresh_module builds no fusion
    batches = random_batches(
        model,
        batch_size=args.batch,
        count=args.steps,
        channels_last=args.channels_last,
    )
    bare: list[float] = []
    light: list[float] = []
    for _ in range(args.repeats):
        bare.append(bare_rate(args.backbone, batches, args.warmup, **options))
        light.append(lightning_rate(args.backbone, batches, args.warmup, **options))
    bare_median, light_median = statistics.median(bare), statistics.median(light)
    variant = [
        name
        for name, wanted in (
            ("channels-last", args.channels_last),
            ("bf16 autocast", args.bf16_autocast),
        )
        if wanted
    ]
    print(
        f"{args.backbone}, batch {args.batch}, {args.threads} threads, "
        f"{args.steps - args.warmup} timed steps x {args.repeats} rounds"
        + (f", {' + '.join(variant)}" if variant else "")
    )
    print(
        f"bare PyTorch loop   {bare_median:8.1f} samples/s  (rounds: "
        f"{', '.join(f'{r:.1f}' for r in bare)})"
    )
    print(
        f"Lightning           {light_median:8.1f} samples/s  (rounds: "
        f"{', '.join(f'{r:.1f}' for r in light)})"
    )
    print(
        f"Lightning overhead  {100 * (bare_median / light_median - 1):+.1f} % "
        "(target: at most +10 %)"
    )


if __name__ == "__main__":
    main()
