"""Where a receiver-set model loses to the bound: its RMSE over the Cramér–Rao bound, beside the
RSS MLE's, by the number of stations that hear and by how many of vhf-rural's 7 are down.

``python -m benchmarks.receiver_set_breakdown CHECKPOINT [--samples 1000] [--networks 3]
[--split test] [--out DIR]``

CHECKPOINT is a receiver-set model, such as the ``set-…`` folder ``benchmarks.receiver_sets``
writes under its ``--out``. Two tables, both on the test split:

- by network size: ``--networks`` networks of each of 3, 4, 5, 6, 7, 9 and 12 stations, every
  station up, drawn from seeds no training sample drew, ``--samples`` samples per size;
- by stations down: rss-ideal's 7 vhf-rural stations with 0, 1 or 2 of them down, every
  station (or pair) in turn, ``--samples`` samples per count.

Each network or choice of stations down gets transmitters of its own (its own run seed).

``--split validation`` tests on validation samples, and on other random networks, while
changes are compared. Each
row pools its networks: RMSE is the root of the mean squared error over all their
samples, and the bound is pooled the same way. A model whose ratio to the bound grows as
stations go away will rise by more than the bound when they go offline. The PNG draws both
ratios against the count of stations that hear.
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import torch

from rfloc_core.bench.config import ReceiverSetProtocol
from rfloc_core.bench.held_out import held_out_scenario
from rfloc_core.checkpoint import load_checkpoint
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import ScenarioConfig, load_scenario
from rfloc_core.data.splits import Split
from rfloc_core.evaluation.evaluate import checkpoint_features, evaluate_samples

NETWORK_SIZES = (3, 4, 5, 6, 7, 9, 12)
RANDOM_NETWORKS = "rss-random-networks"
"""The world (rss-ideal's propagation) the random networks of each size are drawn in."""
FIRST_NETWORK_SEED = 31_000_000
"""Far from the seeds of training, of ``benchmarks.receiver_sets``' held-out network and of
every preset."""


def pooled_rmse_m(rmses_m: Sequence[float], samples: Sequence[int]) -> float:
    total = sum(samples)
    return math.sqrt(sum(n * r * r for r, n in zip(rmses_m, samples, strict=True)) / total)


def pooled_row(
    model: torch.nn.Module,
    features: FeatureConfig,
    scenarios: Sequence[ScenarioConfig],
    samples: int,
    split: Split = "test",
) -> dict[str, float]:
    """Model, RSS MLE and bound RMSE (m) over ``samples`` samples of ``split`` shared among
    ``scenarios``, each scenario's from a run seed of its own."""
    each = max(1, samples // len(scenarios))
    model_m, mle_m, crb_m = [], [], []
    for run_seed, scenario in enumerate(scenarios):
        evaluation, _ = evaluate_samples(
            model, scenario, features, samples=each, seed=run_seed, split=split
        )
        model_m.append(evaluation.row("model").errors.rmse_m)
        mle_m.append(evaluation.row("rss_mle").errors.rmse_m)
        crb_m.append(evaluation.crb_rmse_m)
    counts = [each] * len(scenarios)
    return {
        "samples": sum(counts),
        "model_rmse_m": pooled_rmse_m(model_m, counts),
        "rss_mle_rmse_m": pooled_rmse_m(mle_m, counts),
        "crb_rmse_m": pooled_rmse_m(crb_m, counts),
    }


VALIDATION_NETWORK_OFFSET = 500
"""Added to a network's seed under ``--split validation``: seeds differ per network by less."""


def networks_of_size(
    training_scenario: str, stations: int, count: int, split: Split = "test"
) -> list[ScenarioConfig]:
    """``count`` networks of ``stations`` stations, every station up, from seeds no training
    run and no other size or split draws."""
    offset = VALIDATION_NETWORK_OFFSET if split == "validation" else 0
    return [
        held_out_scenario(
            ReceiverSetProtocol(
                scenario=training_scenario,
                held_out_stations=stations,
                held_out_seed=FIRST_NETWORK_SEED + 1000 * index + stations + offset,
            )
        )
        for index in range(count)
    ]


def rss_ideal_with_down(down: int) -> list[ScenarioConfig]:
    """rss-ideal (vhf-rural's stations) with every choice of ``down`` of them offline."""
    ideal = load_scenario("rss-ideal")
    scenarios = []
    for offline in itertools.combinations(range(ideal.n_receivers), down):
        receivers = tuple(
            receiver.model_copy(update={"offline": index in offline})
            for index, receiver in enumerate(ideal.receivers)
        )
        scenarios.append(ideal.model_copy(update={"receivers": receivers}))
    return scenarios


def over_bound(rmse_m: float, crb_m: float) -> float:
    """RMSE over the bound; NaN where the bound is infinite or zero (a network that cannot
    locate at all, or a degenerate one)."""
    return rmse_m / crb_m if math.isfinite(crb_m) and crb_m > 0 else math.nan


def _print_table(title: str, key: str, rows: list[tuple[int, dict[str, float]]]) -> None:
    print(f"\n{title}")
    print(f"| {key} | samples | model RMSE | RSS MLE RMSE | CRB | model / CRB | MLE / CRB |")
    print("|---|---|---|---|---|---|---|")
    for value, row in rows:
        crb = row["crb_rmse_m"]
        ratios = [over_bound(row[key], crb) for key in ("model_rmse_m", "rss_mle_rmse_m")]
        shown = ["—" if math.isnan(ratio) else f"{ratio:.2f}" for ratio in ratios]
        print(
            f"| {value} | {row['samples']:,} | {row['model_rmse_m']:,.0f} "
            f"| {row['rss_mle_rmse_m']:,.0f} | {crb:,.0f} | {shown[0]} | {shown[1]} |",
            flush=True,
        )


def _plot(
    by_size: list[tuple[int, dict[str, float]]],
    by_down: list[tuple[int, dict[str, float]]],
    stations_before_down: int,
    path: Path,
) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 5.0))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for name, key, style, color in (
        ("model", "model_rmse_m", "o-", "C0"),
        ("RSS MLE", "rss_mle_rmse_m", "s--", "C2"),
    ):
        axes.plot(
            [size for size, _ in by_size],
            [over_bound(row[key], row["crb_rmse_m"]) for _, row in by_size],
            style,
            color=color,
            label=f"{name}, random networks",
        )
        axes.plot(
            [stations_before_down - down for down, _ in by_down],
            [over_bound(row[key], row["crb_rmse_m"]) for _, row in by_down],
            style[0],
            color=color,
            markersize=10,
            fillstyle="none",
            label=f"{name}, vhf-rural with stations down",
        )
    axes.axhline(1.0, color="grey", linewidth=0.8)
    axes.set_xlabel("stations that hear")
    axes.set_ylabel("RMSE / Cramér–Rao bound")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path, help="a receiver-set model's checkpoint")
    parser.add_argument("--samples", type=int, default=1000, help="samples per row")
    parser.add_argument("--networks", type=int, default=3, help="random networks per size")
    parser.add_argument(
        "--split",
        choices=("validation", "test"),
        default="test",
        help="samples to test on: validation while comparing changes, test for final figures",
    )
    parser.add_argument("--out", type=Path, default=Path("reports/receiver-sets"))
    args = parser.parse_args()
    model, config = load_checkpoint(args.checkpoint)
    model.eval()
    features = checkpoint_features(config)
    by_down = [
        (down, pooled_row(model, features, rss_ideal_with_down(down), args.samples, args.split))
        for down in (0, 1, 2)
    ]
    _print_table("vhf-rural's 7 stations, some down", "stations down", by_down)
    by_size = []
    for stations in NETWORK_SIZES:
        scenarios = networks_of_size(RANDOM_NETWORKS, stations, args.networks, args.split)
        by_size.append((stations, pooled_row(model, features, scenarios, args.samples, args.split)))
    _print_table("random networks, every station up", "stations", by_size)
    args.out.mkdir(parents=True, exist_ok=True)
    figure = args.out / "rmse-over-bound-by-stations.png"
    _plot(by_size, by_down, load_scenario("rss-ideal").n_receivers, figure)
    print(f"\nwrote {figure}")


if __name__ == "__main__":
    main()
