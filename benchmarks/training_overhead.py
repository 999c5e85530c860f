"""Lightning's training throughput against a bare PyTorch loop, same model, same batches.

``python -m benchmarks.training_overhead [--backbone convnext_atto] [--steps 60] [--repeats 3]``

Both loops compute ``LocalizationModule.step_loss`` (head NLL) with AdamW and the warm-up +
cosine schedule on the same in-memory batches, so the difference is the loop itself:
Lightning's hooks, logging and bookkeeping against ``forward / backward / step``. Rounds
alternate bare and Lightning so drift in the machine's speed hits both; the medians and
their ratio are printed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import lightning
import torch
from torch.utils.data import DataLoader, Dataset

from rfloc_core.model import create_model
from rfloc_core.training.module import LocalizationModule
from rfloc_core.training.schedule import WarmupCosine, warmup_steps_for


class _Batches(Dataset[dict[str, torch.Tensor]]):
    """``steps`` pre-made batches of random spectrograms and positions."""

    def __init__(self, steps: int, batch: int, receivers: int, size: tuple[int, int]) -> None:
        generator = torch.Generator().manual_seed(0)
        self.features = torch.rand(steps, batch, receivers, *size, generator=generator)
        self.position_m = (torch.rand(steps, batch, 2, generator=generator) - 0.5) * 40_000

    def __len__(self) -> int:
        return self.features.shape[0]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"features": self.features[index], "position_m": self.position_m[index]}


def _loader(data: _Batches) -> DataLoader[Any]:
    return DataLoader(data, batch_size=None, shuffle=False)


def _module(backbone: str) -> LocalizationModule:
    torch.manual_seed(0)
    model = create_model(backbone, head_options={"position_scale_m": 20_000.0})
    return LocalizationModule(
        model, learning_rate=1e-3, weight_decay=0.05, warmup_fraction=0.1, seed=0
    )


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


def lightning_rate(backbone: str, data: _Batches, warmup: int) -> float:
    clock = _StepClock(warmup)
    trainer = lightning.Trainer(
        max_epochs=1,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[clock],
    )
    trainer.fit(_module(backbone), train_dataloaders=_loader(data))
    steps = len(data) - warmup
    return steps * data.features.shape[1] / (clock.end - clock.start)


def bare_rate(backbone: str, data: _Batches, warmup: int) -> float:
    module = _module(backbone).train()
    optimizer = torch.optim.AdamW(module.model.parameters(), lr=1e-3, weight_decay=0.05)
    total = len(data)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, WarmupCosine(total, warmup_steps_for(total, 0.1))
    )
    start = 0.0
    for index, batch in enumerate(_loader(data)):
        if index == warmup:
            start = time.perf_counter()
        loss = module.step_loss(batch, index)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
    return (total - warmup) * data.features.shape[1] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="convnext_atto")
    parser.add_argument("--batch", type=int, default=32, help="samples per step")
    parser.add_argument("--steps", type=int, default=60, help="steps per round, warm-up included")
    parser.add_argument("--warmup", type=int, default=10, help="untimed first steps per round")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of each loop")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = _Batches(args.steps, args.batch, 7, (128, 32))
    bare: list[float] = []
    light: list[float] = []
    for _ in range(args.repeats):
        bare.append(bare_rate(args.backbone, data, args.warmup))
        light.append(lightning_rate(args.backbone, data, args.warmup))
    bare_median, light_median = statistics.median(bare), statistics.median(light)
    print(
        f"{args.backbone}, batch {args.batch}, {args.threads} threads, "
        f"{args.steps - args.warmup} timed steps x {args.repeats} rounds"
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
