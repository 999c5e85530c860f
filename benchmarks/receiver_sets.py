"""One model for any receiver network: a receiver-set model trained on random networks, tested
on networks it never saw, beside the RSS MLE and the Cramér–Rao bound of each.

``python -m benchmarks.receiver_sets [--backbone convnext_atto] [--fusion attention]
[--steps 2400] [--input-size 32x32] [--channel-backbone convnext_atto]
[--train-override KEY=VALUE] [--scenario NAME_OR_TOML] [--split test] [--out DIR]``

The set model trains on ``--scenario``, by default ``rss-random-networks`` (a new network of 3
to 12 stations every sample, rss-ideal's propagation). It is then tested on the same kind of
held-out set three ways, each beside the RSS MLE and the bound of that network:

- a 5-station network drawn from ``--network-seed``, which no training sample drew;
- rss-ideal's own 7 vhf-rural stations, beside a fixed-network (channel) model trained on
  that network with the same steps and batch (``--channel-backbone``, none to skip it);
- the same 7 stations with 0, 1 or 2 of them (a third of the samples each) offline.

It prints one table with RMSE in metres and the ratios the receiver-set docs quote.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch

from rfloc_core.bench.config import ReceiverSetProtocol
from rfloc_core.bench.held_out import held_out_scenario
from rfloc_core.checkpoint import load_checkpoint
from rfloc_core.data.metrics import position_errors_m
from rfloc_core.data.scenario import ScenarioConfig, load_scenario
from rfloc_core.data.scenario_toml import scenario_toml
from rfloc_core.data.splits import Split
from rfloc_core.evaluation.estimates import SampleEstimates
from rfloc_core.evaluation.evaluate import (
    checkpoint_features,
    evaluate_samples,
    recorded_prior_m,
)
from rfloc_core.training import load_train_config, train
from rfloc_core.training.quiet import quiet_training


def _train(
    args: argparse.Namespace, run_dir: Path, overrides: list[str]
) -> tuple[Path, tuple[float, float], float]:
    config = load_train_config(
        "dev_test",
        [
            f"max_steps={args.steps}",
            f"validate_every_steps={max(1, args.steps // 8)}",
            f"batch_size={args.batch_size}",
            f"train_samples={args.train_samples}",
            f"val_samples={args.val_samples}",
            f"learning_rate={args.learning_rate}",
            f"seed={args.seed}",
            "data_in_memory=true",
            "checkpoint_every_steps=0",
            *args.train_override,
            *overrides,
        ],
    )
    started = time.perf_counter()
    with quiet_training():
        result = train(config, run_dir=run_dir, progress=args.progress, tracking=False)
    assert result is not None
    seconds = time.perf_counter() - started
    print(
        f"{run_dir.name}: {result.steps_completed} steps in {seconds:,.0f} s, training at "
        f"{result.train_samples_per_s or 0:,.0f} samples/s; validation medians "
        f"{[round(e) for e in result.learning_curve['val_error_median_m']]}",
        flush=True,
    )
    return result.best_checkpoint, result.prior_position_m, seconds


def _test(
    checkpoint: Path,
    scenario: ScenarioConfig,
    prior_m: tuple[float, float] | None,
    samples: int,
    split: Split,
) -> tuple[dict[str, float], SampleEstimates]:
    model, config = load_checkpoint(checkpoint)
    evaluation, estimates = evaluate_samples(
        model.eval(),
        scenario,
        checkpoint_features(config),
        samples=samples,
        # Run seed 0's validation samples chose the checkpoints; validation figures use the
        # validation stream of another run seed.
        seed=0 if split == "test" else 1,
        split=split,
        prior_position_m=prior_m if prior_m is not None else recorded_prior_m(config),
    )
    figures = {f"{row.name}_rmse_m": row.errors.rmse_m for row in evaluation.rows}
    model_row = evaluation.row("model")
    figures["model_median_m"] = model_row.errors.median_m
    figures["crb_rmse_m"] = evaluation.crb_rmse_m
    if model_row.calibration is not None:
        figures["inside_1sigma"] = model_row.calibration.inside_1sigma
    return figures, estimates


def _errors_m(estimates: SampleEstimates) -> dict[str, torch.Tensor]:
    """Per-sample errors of the model and the RSS MLE, and the bound's RMS error per sample."""
    return {
        "model": position_errors_m(estimates.model_position_m, estimates.truth_m),
        "RSS MLE": position_errors_m(estimates.baselines_m["rss_mle"], estimates.truth_m),
        "CRB": torch.diagonal(estimates.crb_covariance_m2, dim1=1, dim2=2).sum(-1).sqrt(),
    }


def rmse_rise_interval(
    errors_online_m: torch.Tensor,
    errors_down_m: torch.Tensor,
    *,
    reference: tuple[torch.Tensor, torch.Tensor] | None = None,
    draws: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """The RMSE rise ``rmse(down) / rmse(online) - 1`` of paired per-sample errors (the same
    transmitters, stations taken down or not) and its percentile bootstrap interval: both
    sets are resampled with the same indices, so what is shared does not count as noise.
    With ``reference``, another estimator's (online, down) errors on the same samples, it is
    the rise minus the reference's rise, both resampled together."""
    pairs = [(errors_online_m, errors_down_m), *([reference] if reference is not None else [])]
    shape = errors_online_m.shape
    if len(shape) != 1 or any(e.shape != shape for pair in pairs for e in pair):
        raise ValueError(
            f"paired errors must be (N,) tensors of one N, got "
            f"{[tuple(e.shape) for pair in pairs for e in pair]}"
        )
    generator = torch.Generator().manual_seed(seed)
    picks = torch.randint(0, shape[0], (draws, shape[0]), generator=generator)

    def rises(online_m: torch.Tensor, down_m: torch.Tensor) -> tuple[float, torch.Tensor]:
        online, down = online_m.double().square(), down_m.double().square()
        whole = float((down.mean() / online.mean()).sqrt()) - 1.0
        return whole, (down[picks].mean(1) / online[picks].mean(1)).sqrt() - 1.0

    rise, drawn = rises(*pairs[0])
    if reference is not None:
        reference_rise, reference_drawn = rises(*reference)
        rise, drawn = rise - reference_rise, drawn - reference_drawn
    tail = (1.0 - level) / 2.0
    low, high = torch.quantile(drawn, torch.tensor([tail, 1.0 - tail], dtype=drawn.dtype))
    return rise, float(low), float(high)


def _size(text: str) -> tuple[int, int]:
    mel_bins, frames = (int(part) for part in text.lower().split("x"))
    return mel_bins, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="convnext_atto", help="the shared encoder")
    parser.add_argument("--fusion", default="attention")
    parser.add_argument("--fusion-options", default="{}", help='TOML table, e.g. "{width = 128}"')
    parser.add_argument("--steps", type=int, default=2400, help="optimizer steps, each model")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--train-samples", type=int, default=24_000)
    parser.add_argument("--val-samples", type=int, default=500)
    parser.add_argument("--test-samples", type=int, default=1000)
    parser.add_argument("--input-size", default="32x32", help="MELSxFRAMES of each spectrogram")
    parser.add_argument(
        "--channel-backbone", default="convnext_atto", help="fixed-network model; none: skip"
    )
    parser.add_argument(
        "--scenario",
        default="rss-random-networks",
        help="the set model's training scenario: a preset or TOML that draws random networks",
    )
    parser.add_argument("--network-seed", type=int, default=20_261_202)
    parser.add_argument(
        "--split",
        choices=("validation", "test"),
        default="test",
        help="samples to test on; validation also draws the held-out network from "
        "--network-seed + 1: compare changes there, and keep test for the final figures",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--train-override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a training-config override for both models, e.g. beta=1.0 (repeatable)",
    )
    parser.add_argument(
        "--set-checkpoint",
        type=Path,
        help="test this trained set model instead of training one: e.g. the model a "
        "--split validation run trained, tested on the test split once the recipe is chosen",
    )
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("reports/receiver-sets"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    mel_bins, frames = _size(args.input_size)
    size = [f"model.input_size.mel_bins={mel_bins}", f"model.input_size.frames={frames}"]

    held_out = held_out_scenario(
        ReceiverSetProtocol(
            held_out_stations=5,
            held_out_seed=args.network_seed + (1 if args.split == "validation" else 0),
        )
    )
    (args.out / "held-out-network.toml").write_text(scenario_toml(held_out), encoding="utf-8")
    ideal = load_scenario("rss-ideal")
    hardware = ideal.receiver_hardware.model_copy(update={"offline_count_max": 2})
    stations_down = ideal.model_copy(update={"receiver_hardware": hardware})

    set_prior: tuple[float, float] | None = None
    if args.set_checkpoint is None:
        set_checkpoint, set_prior, set_seconds = _train(
            args,
            args.out / f"set-{args.backbone}-{args.fusion}",
            [
                f"model.backbone={args.backbone}",
                f"scenario={args.scenario}",
                f"model.fusion={args.fusion}",
                f"model.fusion_options={args.fusion_options}",
                *size,
            ],
        )
    else:
        set_checkpoint, set_seconds = args.set_checkpoint, 0.0
    rows: list[tuple[str, str, dict[str, float]]] = []
    estimates: list[SampleEstimates] = []
    for label, scenario in (
        ("5-station network, never drawn", held_out),
        ("vhf-rural's 7 stations", ideal),
        ("vhf-rural, 0-2 stations offline", stations_down),
    ):
        figures, sample_estimates = _test(
            set_checkpoint, scenario, set_prior, args.test_samples, args.split
        )
        rows.append(("set", label, figures))
        estimates.append(sample_estimates)
    channel: dict[str, Any] | None = None
    if args.channel_backbone != "none":
        checkpoint, prior, _ = _train(
            args,
            args.out / f"channel-{args.channel_backbone}",
            [f"model.backbone={args.channel_backbone}", "scenario=rss-ideal"],
        )
        channel, _ = _test(checkpoint, ideal, prior, args.test_samples, args.split)
        rows.append((f"channel ({args.channel_backbone})", "vhf-rural's 7 stations", channel))

    trained = (
        f"the set model in {args.set_checkpoint}"
        if args.set_checkpoint is not None
        else f"receiver-set model: {args.backbone} encoder at {mel_bins}x{frames}, "
        f"{args.fusion} fusion, {args.steps} steps at batch {args.batch_size} on "
        f"{args.scenario} ({set_seconds:,.0f} s)"
    )
    print(f"\n{trained}; {args.test_samples} {args.split} samples each; RMSE in metres")
    print("| model | test network | median | RMSE | RSS MLE | CRB | / CRB | / MLE | inside 1σ |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, label, figures in rows:
        rmse, mle, crb = figures["model_rmse_m"], figures["rss_mle_rmse_m"], figures["crb_rmse_m"]
        print(
            f"| {name} | {label} | {figures['model_median_m']:,.0f} | {rmse:,.0f} | {mle:,.0f} "
            f"| {crb:,.0f} | {rmse / crb:.2f} | {rmse / mle:.2f} | "
            f"{figures.get('inside_1sigma', float('nan')):.3f} |"
        )
    online_estimates, down_estimates = estimates[1], estimates[2]
    if not torch.equal(online_estimates.truth_m, down_estimates.truth_m):
        raise SystemExit("the online and stations-down samples are not the same transmitters")
    print(
        "\nRMSE rise with 0-2 of 7 stations offline, the same transmitters "
        "(95 % paired bootstrap interval):"
    )
    online_errors, down_errors = _errors_m(online_estimates), _errors_m(down_estimates)
    for name, errors in online_errors.items():
        rise, low, high = rmse_rise_interval(errors, down_errors[name])
        print(f"- {name}: {100 * rise:+.1f} % ({100 * low:+.1f} % to {100 * high:+.1f} %)")
    pair = (online_errors["RSS MLE"], down_errors["RSS MLE"])
    rise, low, high = rmse_rise_interval(
        online_errors["model"], down_errors["model"], reference=pair
    )
    print(
        f"- model minus RSS MLE: {100 * rise:+.1f} points ({100 * low:+.1f} to {100 * high:+.1f})"
    )
    all_online = rows[1][2]["model_rmse_m"]
    if channel is not None:
        ratio = all_online / channel["model_rmse_m"]
        print(f"set model / channel model RMSE on vhf-rural: {ratio:.2f}")


if __name__ == "__main__":
    main()
