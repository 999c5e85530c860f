"""How well labelled transmissions give the stations' gain offsets: ``rfloc calibrate-gains``'
estimator on ``vhf-uncalibrated`` (gains of -9 to +9 dB, 6 dB shadowing), RMS error of the
relative gains over several seeds, and the RSS MLE with and without them.

``python -m benchmarks.gain_calibration [--transmissions 200] [--seeds 5] [--test 1000]``
"""

from __future__ import annotations

import argparse
import statistics

import torch

from rfloc_core.data.datasets import SyntheticDataset
from rfloc_core.data.gain_calibration import calibrate_dataset
from rfloc_core.data.geometry import receivers_enu_m
from rfloc_core.data.metrics import position_errors_m, summarize_errors
from rfloc_core.data.scenario import load_scenario
from rfloc_core.evaluation.estimates import baseline_positions_m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transmissions", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--test", type=int, default=1000, help="test transmissions for the MLE")
    parser.add_argument("--fit-exponent", action="store_true")
    args = parser.parse_args()
    scenario = load_scenario("vhf-uncalibrated")
    truth = torch.tensor([r.gain_offset_db for r in scenario.receivers], dtype=torch.float64)
    truth -= truth.mean()
    receivers = torch.as_tensor(receivers_enu_m(scenario), dtype=torch.float64)
    test = SyntheticDataset(scenario, args.test, seed=10_000).batch(range(args.test))
    rss, online = test["measured_rss_dbm"].double(), test["online"]
    position = test["position_m"].double()
    known = baseline_positions_m(rss, online, scenario, receivers, scenario)
    plain_median = summarize_errors(position_errors_m(known["rss_mle"], position)).median_m
    oracle_median = summarize_errors(position_errors_m(known["rss_mle_gains"], position)).median_m
    print(
        f"vhf-uncalibrated, {args.transmissions} labelled transmissions per seed; true gains "
        f"{', '.join(f'{g:+.1f}' for g in truth.tolist())} dB (mean removed)\n"
    )
    print("| seed | gain error RMS (dB) | worst station (dB) | exponent | MLE median, gains (m) |")
    print("|---|---|---|---|---|")
    errors = []
    for seed in range(args.seeds):
        fit = calibrate_dataset(
            SyntheticDataset(scenario, args.transmissions, seed=seed),
            fit_exponent=args.fit_exponent,
        )
        error = torch.tensor(fit.gain_offsets_db, dtype=torch.float64) - truth
        rms = float(error.square().mean().sqrt())
        errors.append(rms)
        assumed = scenario.model_copy(
            update={
                "receivers": tuple(
                    r.model_copy(update={"gain_offset_db": g})
                    for r, g in zip(scenario.receivers, fit.gain_offsets_db, strict=True)
                )
            }
        )
        corrected = baseline_positions_m(rss, online, scenario, receivers, assumed)["rss_mle_gains"]
        median = summarize_errors(position_errors_m(corrected, position)).median_m
        print(
            f"| {seed} | {rms:.2f} | {float(error.abs().max()):.2f} | "
            f"{fit.path_loss_exponent:.2f} | {median:,.0f} |"
        )
    print(
        f"\nmedian over seeds of the gain error RMS: {statistics.median(errors):.2f} dB "
        f"(worst seed {max(errors):.2f} dB); the RSS MLE assuming calibrated stations: median "
        f"{plain_median:,.0f} m, and with the true gains {oracle_median:,.0f} m, on the same "
        f"{args.test} test transmissions"
    )


if __name__ == "__main__":
    main()
