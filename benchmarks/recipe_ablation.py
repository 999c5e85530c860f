"""The training-recipe ablation of docs/training.md: one backbone, a bare loop, one change.

``python -m benchmarks.recipe_ablation --backbone convnext_atto [--steps 250] [--loss nll]
[--scaling old] [--feature-norm] [--learning-rate 1e-3] [--seed 0]``

One in-memory ``rss-ideal`` set (8,000 training and 500 validation samples, simulated once
with the chosen input scaling) trains ``LocalizationNet`` with AdamW (weight decay 0.01,
10 % warm-up then cosine, batch 32) and prints the validation median and RMSE at log-spaced
steps beside the prior's. ``--scaling old`` is the former -170 dBm/Hz over 100 dB (offline
floor -1); the default is the shipped ``FeatureConfig``.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from rfloc_core.data.datasets import SyntheticDataset
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.memory_dataset import MemoryDataset
from rfloc_core.data.scenario import load_scenario
from rfloc_core.data.splits import split_seed
from rfloc_core.model import create_model
from rfloc_core.training.loss import training_loss
from rfloc_core.training.schedule import WarmupCosine, warmup_steps_for
from rfloc_core.training.session import position_scale_m

OLD_SCALING = FeatureConfig(scale_offset_db=-170.0, scale_span_db=100.0, offline_floor=-1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="convnext_atto")
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--loss", choices=("beta_nll", "nll"), default="beta_nll")
    parser.add_argument("--beta", type=float, default=0.5)
    parser.add_argument("--scaling", choices=("new", "old"), default="new")
    parser.add_argument("--feature-norm", action="store_true")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-samples", type=int, default=8_000)
    args = parser.parse_args()
    scenario = load_scenario("rss-ideal")
    features = OLD_SCALING if args.scaling == "old" else FeatureConfig()
    started_s = time.perf_counter()
    train = MemoryDataset.simulate(
        SyntheticDataset(scenario, args.train_samples, split_seed(0, "train"), features)
    )
    val = MemoryDataset.simulate(
        SyntheticDataset(scenario, 500, split_seed(0, "validation"), features)
    )
    print(f"simulated {len(train) + len(val):,} samples in {time.perf_counter() - started_s:.0f} s")
    torch.manual_seed(args.seed)
    model = create_model(
        args.backbone,
        receivers=scenario.n_receivers,
        input_size=(features.mel_bins, features.frames),
        head_options={
            "position_scale_m": position_scale_m(scenario),
            "feature_norm": args.feature_norm,
        },
    )
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.learning_rate,
    )
    schedule = WarmupCosine(args.steps, warmup_steps_for(args.steps, 0.1))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    prior_m = train.positions_m.mean(dim=0)
    prior_errors = torch.linalg.vector_norm(val.positions_m - prior_m, dim=-1)
    print(f"prior: median {prior_errors.median():,.0f} m, RMSE {_rmse(prior_errors):,.0f} m")
    checkpoints = sorted({round(args.steps ** (k / 5)) for k in range(1, 6)})
    generator = torch.Generator().manual_seed(args.seed)
    order, position = torch.randperm(len(train), generator=generator), 0
    started_s = time.perf_counter()
    for step in range(1, args.steps + 1):
        if position + 32 > len(train):
            order, position = torch.randperm(len(train), generator=generator), 0
        batch = train.batch(order[position : position + 32].tolist())
        position += 32
        outputs = model(batch["features"])
        nll = model.nll(outputs, batch["position_m"])
        loss = training_loss(outputs, nll, args.loss, args.beta)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step in checkpoints:
            errors = _validation_errors_m(model, val)
            print(f"step {step:>5}: median {errors.median():,.0f} m, RMSE {_rmse(errors):,.0f} m")
    elapsed_s = time.perf_counter() - started_s
    print(f"{args.steps * 32 / elapsed_s:,.0f} training samples/s (with the validations)")


def _validation_errors_m(model: torch.nn.Module, val: MemoryDataset) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        predicted = torch.cat(
            [
                model(val.items["features"][i : i + 100])["position_m"]
                for i in range(0, len(val), 100)
            ]
        )
    model.train()
    return torch.linalg.vector_norm(predicted - val.positions_m, dim=-1)


def _rmse(errors_m: torch.Tensor) -> float:
    return math.sqrt(float(errors_m.square().mean()))


if __name__ == "__main__":
    main()
