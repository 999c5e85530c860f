"""Sim-to-real without real data: a model trained on the default scenario, tested on a
"measured" world that the simulator's default does not describe, before and after fine-tuning
on 10 % of it, beside the RSS MLE, the gain-calibrated RSS MLE and the weighted centroid.

``python -m benchmarks.sim_to_real [--backbone resnet18] [--steps 1200] [--checkpoint CKPT]
[--measured 1000] [--fine-tune-steps 100] [--freeze none] [--out reports/sim-to-real]``

The measured world is vhf-rural's network with propagation it does not assume: path-loss
exponent 3.5 instead of 3, 8 dB shadowing correlated over 5 km (terrain-like) instead of 6 dB
independent, and vhf-uncalibrated's station gain offsets (-9 to +9 dB). Its transmissions are
written as labelled SigMF recording sets and imported with ``rfloc dataset import`` against
the operator's description of the network (vhf-rural), the path a station operator's own
recordings take. 10 % of the sets (80 % of them to fine-tune on, 20 % to validate) are the
labelled data; the other 90 % are the test set. The gains are estimated from the same 10 %.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from rfloc_core.atomic import write_text_atomic
from rfloc_core.checkpoint import load_checkpoint
from rfloc_core.data.datasets import SyntheticDataset
from rfloc_core.data.disk_dataset import DiskDataset
from rfloc_core.data.gain_calibration import calibrate_dataset, calibrated_scenario
from rfloc_core.data.importer import import_recording_sets
from rfloc_core.data.labelled_recordings import write_labelled_recording_sets
from rfloc_core.data.scenario import ScenarioConfig, load_scenario
from rfloc_core.data.scenario_toml import scenario_toml
from rfloc_core.evaluation.evaluate import evaluate, evaluate_dataset
from rfloc_core.evaluation.summary import Evaluation
from rfloc_core.training import load_train_config, train

SEEDS = {"fine-tune": 1, "validate": 2, "test": 3}
"""Dataset seeds of the measured world's three folders: disjoint samples."""
ROWS = ("model", "rss_mle", "rss_mle_gains", "weighted_centroid", "prior")


def measured_world() -> ScenarioConfig:
    """vhf-rural's network and area under propagation vhf-rural does not assume."""
    uncalibrated = load_scenario("vhf-uncalibrated")
    propagation = uncalibrated.propagation.model_copy(
        update={
            "path_loss_exponent": 3.5,
            "shadowing_sigma_db": 8.0,
            "shadowing_correlation_distance_m": 5_000.0,
        }
    )
    return uncalibrated.model_copy(
        update={
            "name": "vhf-rural-measured",
            "description": "vhf-rural's network; exponent 3.5, 8 dB shadowing correlated over "
            "5 km, station gains of -9 to +9 dB",
            "propagation": propagation,
        }
    )


class _Joined:
    """Two datasets of one network read as one, for estimating gains from both."""

    def __init__(self, first: DiskDataset, second: DiskDataset) -> None:
        self.first, self.second, self.scenario = first, second, first.scenario

    def __len__(self) -> int:
        return len(self.first) + len(self.second)

    def batch(self, indices: Sequence[int]) -> dict[str, torch.Tensor]:
        split = len(self.first)
        head = [i for i in indices if i < split]
        tail = [i - split for i in indices if i >= split]
        parts = [self.first.batch(head)] if head else []
        parts += [self.second.batch(tail)] if tail else []
        return {key: torch.cat([part[key] for part in parts]) for key in parts[0]}


def _trained(args: argparse.Namespace, scenario: str, run_dir: Path) -> Path:
    """The best checkpoint of ``--backbone`` trained ``--steps`` on ``scenario``."""
    config = load_train_config(
        "dev_test",
        [
            f"model.backbone={args.backbone}",
            f"scenario={scenario}",
            f"max_steps={args.steps}",
            f"validate_every_steps={max(1, args.steps // 6)}",
            f"train_samples={min(args.steps * 32, 16_000)}",
            "val_samples=300",
            "data_in_memory=true",
            "checkpoint_every_steps=0",
        ],
    )
    result = train(config, run_dir=run_dir, progress=True, tracking=False)
    assert result is not None
    return result.best_checkpoint


def _measured_sets(args: argparse.Namespace, world: ScenarioConfig) -> dict[str, Path]:
    """Write and import the measured world's fine-tune, validation and test sets."""
    labelled = max(2, round(args.measured * args.fine_tune_fraction))
    counts = {
        "fine-tune": labelled - max(1, labelled // 5),
        "validate": max(1, labelled // 5),
        "test": args.measured - labelled,
    }
    network = load_scenario("vhf-rural")
    folders = {}
    for part, count in counts.items():
        recordings, imported = args.out / f"recordings-{part}", args.out / f"set-{part}"
        if not (imported / "manifest.json").is_file():
            write_labelled_recording_sets(world, count, recordings, seed=SEEDS[part])
            report = import_recording_sets(recordings, imported, network, min_receivers=3)
            print(f"{part}: imported {len(report.imported)} sets, skipped {len(report.skipped)}")
        folders[part] = imported
    return folders


def _row_figures(evaluation: Evaluation) -> dict[str, dict[str, float]]:
    return {
        row.name: {"median_m": row.errors.median_m, "rmse_m": row.errors.rmse_m}
        for row in evaluation.rows
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--steps", type=int, default=1200, help="base training steps, batch 32")
    parser.add_argument("--checkpoint", help="a trained vhf-rural checkpoint (skips training)")
    parser.add_argument("--measured", type=int, default=1000, help="measured transmissions")
    parser.add_argument("--fine-tune-fraction", type=float, default=0.1)
    parser.add_argument("--fine-tune-steps", type=int, default=100)
    parser.add_argument("--fine-tune-learning-rate", type=float, default=3e-4)
    parser.add_argument("--freeze", default="none", choices=("none", "head", "backbone"))
    parser.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="skip the reference model trained on the measured world itself with --steps",
    )
    parser.add_argument("--out", type=Path, default=Path("reports/sim-to-real"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    world = measured_world()
    world_file = args.out / "measured-world.toml"
    write_text_atomic(world_file, scenario_toml(world))
    base = (
        Path(args.checkpoint) if args.checkpoint else _trained(args, "vhf-rural", args.out / "base")
    )
    sets = _measured_sets(args, world)

    gains = calibrate_dataset(
        _Joined(DiskDataset(sets["fine-tune"]), DiskDataset(sets["validate"])), fit_exponent=True
    )
    network = calibrated_scenario(load_scenario("vhf-rural"), gains)
    gains_file = args.out / "calibrated-network.toml"
    write_text_atomic(gains_file, scenario_toml(network))
    before = evaluate(base, data=sets["test"], samples=None, gains=network)

    fine_tune = load_train_config(
        "dev_test",
        [
            f"model.backbone={load_checkpoint(base)[1].backbone}",
            f"init_from={base}",
            f"freeze={args.freeze}",
            f"data={sets['fine-tune']}",
            f"val_data={sets['validate']}",
            f"max_steps={args.fine_tune_steps}",
            f"validate_every_steps={max(1, args.fine_tune_steps // 10)}",
            f"learning_rate={args.fine_tune_learning_rate}",
            f"batch_size={min(16, len(DiskDataset(sets['fine-tune'])))}",
            f"train_samples={len(DiskDataset(sets['fine-tune']))}",
            f"val_samples={len(DiskDataset(sets['validate']))}",
            "data_in_memory=true",
            "checkpoint_every_steps=0",
        ],
    )
    tuned = train(fine_tune, run_dir=args.out / "fine-tuned", progress=True, tracking=False)
    assert tuned is not None
    after = evaluate(tuned.best_checkpoint, data=sets["test"], samples=None, gains=network)

    reference = None
    if args.reference:
        trained = _trained(args, world_file.as_posix(), args.out / "reference")
        reference = evaluate(trained, data=sets["test"], samples=None).row("model").errors

    # The test folder's transmissions simulated directly: the bound of the world they came from.
    model, _ = load_checkpoint(base)
    stored_test = DiskDataset(sets["test"])
    test_count = len(stored_test)
    direct = SyntheticDataset(world, test_count, SEEDS["test"], stored_test.feature_config)
    world_bound = evaluate_dataset(model, direct)[0].crb_rmse_m

    figures = {
        "measured_world": world.model_dump(mode="json"),
        "test_samples": test_count,
        "labelled_samples": {
            part: len(DiskDataset(sets[part])) for part in ("fine-tune", "validate")
        },
        "gain_offsets_db": list(gains.gain_offsets_db),
        "true_gain_offsets_db": [r.gain_offset_db for r in world.receivers],
        "fitted_path_loss_exponent": gains.path_loss_exponent,
        "before": _row_figures(before),
        "after": _row_figures(after),
        "assumed_crb_rmse_m": before.crb_rmse_m,
        "world_crb_rmse_m": world_bound,
        "reference_model": None
        if reference is None
        else {"median_m": reference.median_m, "rmse_m": reference.rmse_m},
        "fine_tune_steps": tuned.steps_completed,
        "freeze": args.freeze,
        "seconds": time.perf_counter() - started,
    }
    rmse_before = figures["before"]["model"]["rmse_m"]
    rmse_after = figures["after"]["model"]["rmse_m"]
    figures["model_rmse_change"] = rmse_after / rmse_before - 1.0
    write_text_atomic(args.out / "sim_to_real.json", json.dumps(figures, indent=2) + "\n")
    lines = [
        f"Measured world: {world.description}. {test_count} test transmissions; fine-tuned on "
        f"{figures['labelled_samples']['fine-tune']} and validated on "
        f"{figures['labelled_samples']['validate']} (freeze={args.freeze}, "
        f"{tuned.steps_completed} steps). Errors in metres.",
        "",
        "| estimator | median before | RMSE before | median after | RMSE after |",
        "|---|---|---|---|---|",
    ]
    for name in ROWS:
        row_before, row_after = figures["before"].get(name), figures["after"].get(name)
        if row_before is None or row_after is None:
            continue
        lines.append(
            f"| {name} | {row_before['median_m']:,.0f} | {row_before['rmse_m']:,.0f} | "
            f"{row_after['median_m']:,.0f} | {row_after['rmse_m']:,.0f} |"
        )
    if reference is not None:
        lines.append(
            f"| model trained on the measured world ({args.steps} steps) | "
            f"{reference.median_m:,.0f} | {reference.rmse_m:,.0f} | | |"
        )
    true_gains = torch.tensor(figures["true_gain_offsets_db"])
    gain_error = torch.tensor(gains.gain_offsets_db) - (true_gains - true_gains.mean())
    lines += [
        "",
        f"model RMSE change from fine-tuning: {100 * figures['model_rmse_change']:+.1f} %"
        + (
            ""
            if reference is None
            else f"; a model trained on the measured world itself is "
            f"{100 * (reference.rmse_m / rmse_before - 1.0):+.1f} % from the model before"
        ),
        f"Cramér–Rao bound (RMSE): {world_bound:,.0f} m in the measured world, "
        f"{before.crb_rmse_m:,.0f} m under the assumed vhf-rural model",
        f"estimated gains: {', '.join(f'{g:+.1f}' for g in gains.gain_offsets_db)} dB "
        f"({math.sqrt(float(gain_error.square().mean())):.2f} dB RMS from the truth), fitted "
        f"exponent {gains.path_loss_exponent:.2f} (true 3.5)",
        f"total {figures['seconds'] / 60:.1f} min",
    ]
    report = "\n".join(lines) + "\n"
    write_text_atomic(args.out / "sim_to_real.md", report)
    print("\n" + report)


if __name__ == "__main__":
    main()
