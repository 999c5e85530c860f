"""A station goes down: the model trained with station dropout, on the test set with every
station online and with one station offline, beside the RSS MLE and the Cramér–Rao bound of
the stations that remain.

``python -m benchmarks.station_dropout [--backbone resnet18] [--steps 600] [--dropout 0.2]
[--offline rx1] [--out reports/station-dropout]``

Training draws each station offline with probability ``--dropout`` per sample (the
scenario's ``dropout_probability``: an offline station's channel is the documented floor).
Both test sets are the same samples of ``rss-ideal`` (same positions, powers and noise); the
second has ``--offline`` marked offline, so its channel is the floor and the MLE and the bound
use the other stations. The table prints RMSE in metres and the rise from all-online.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rfloc_core.checkpoint import load_checkpoint
from rfloc_core.data.scenario import ScenarioConfig, load_scenario
from rfloc_core.data.scenario_toml import scenario_toml
from rfloc_core.evaluation.evaluate import checkpoint_features, evaluate_samples
from rfloc_core.training import load_train_config, train


def _with_offline(scenario: ScenarioConfig, station: str) -> ScenarioConfig:
    names = [receiver.name for receiver in scenario.receivers]
    if station not in names:
        raise SystemExit(f"--offline must name a station of {scenario.name}: {', '.join(names)}")
    receivers = tuple(
        r.model_copy(update={"offline": r.name == station}) for r in scenario.receivers
    )
    return scenario.model_copy(update={"receivers": receivers})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--steps", type=int, default=600, help="optimizer steps, batch 32")
    parser.add_argument("--dropout", type=float, default=0.2, help="training dropout probability")
    parser.add_argument("--offline", default="rx1", help="the station offline on the test set")
    parser.add_argument("--test-samples", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("reports/station-dropout"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    ideal = load_scenario("rss-ideal")
    hardware = ideal.receiver_hardware.model_copy(update={"dropout_probability": args.dropout})
    training = ideal.model_copy(update={"name": "rss-ideal-dropout", "receiver_hardware": hardware})
    scenario_file = args.out / "rss-ideal-dropout.toml"
    scenario_file.write_text(scenario_toml(training), encoding="utf-8")
    assert load_scenario(scenario_file) == training
    config = load_train_config(
        "dev_test",
        [
            f"model.backbone={args.backbone}",
            f"scenario={scenario_file.as_posix()}",
            f"max_steps={args.steps}",
            f"validate_every_steps={max(1, args.steps // 6)}",
            f"train_samples={args.steps * 32}",
            "val_samples=300",
            "data_in_memory=true",
            "checkpoint_every_steps=0",
        ],
    )
    result = train(config, run_dir=args.out / "run", progress=True, tracking=False)
    assert result is not None
    model, checkpoint = load_checkpoint(result.best_checkpoint)
    rows = []
    for label, scenario in (
        ("all stations online", ideal),
        (f"{args.offline} offline", _with_offline(ideal, args.offline)),
    ):
        evaluation, _ = evaluate_samples(
            model.eval(),
            scenario,
            checkpoint_features(checkpoint),
            samples=args.test_samples,
            seed=0,
            split="test",
            prior_position_m=result.prior_position_m,
        )
        rmse = {row.name: row.errors.rmse_m for row in evaluation.rows}
        rows.append((label, rmse["model"], rmse["rss_mle"], evaluation.crb_rmse_m))
    print(
        f"\n{args.backbone}, {result.steps_completed} steps, trained with station dropout "
        f"{args.dropout:g}; {args.test_samples} rss-ideal test samples; RMSE in metres"
    )
    print("| test set | model | RSS MLE | CRB | model / CRB |")
    print("|---|---|---|---|---|")
    for label, model_m, mle_m, crb_m in rows:
        print(f"| {label} | {model_m:,.0f} | {mle_m:,.0f} | {crb_m:,.0f} | {model_m / crb_m:.2f} |")
    rise = rows[1][1] / rows[0][1] - 1.0
    print(
        f"\nmodel RMSE rise with {args.offline} offline: {100 * rise:+.1f} % "
        f"(RSS MLE {100 * (rows[1][2] / rows[0][2] - 1.0):+.1f} %, "
        f"CRB {100 * (rows[1][3] / rows[0][3] - 1.0):+.1f} %)"
    )


if __name__ == "__main__":
    main()
