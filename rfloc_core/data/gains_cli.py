"""``rfloc calibrate-gains``: estimate each station's gain offset from a labelled dataset and
write them into a scenario file (registered by ``rfloc_core.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

CALIBRATED_HEADER = "# Gain offsets estimated by rfloc calibrate-gains"
"""The first line of every file the command writes: the mark that lets --overwrite replace it."""


def calibrate_gains(
    data: Annotated[
        Path,
        typer.Argument(
            help="A dataset folder of one fixed network with true positions: written by "
            "`rfloc simulate`, or imported from labelled recordings."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Scenario TOML to write: the dataset's scenario with each station's "
            "gain_offset_db set to its estimate (and the fitted exponent with --fit-exponent).",
        ),
    ],
    n: Annotated[
        int | None,
        typer.Option("--n", help="Use the first N transmissions (default: all).", min=1),
    ] = None,
    fit_exponent: Annotated[
        bool,
        typer.Option(
            "--fit-exponent", help="Fit the path-loss exponent too, instead of the scenario's."
        ),
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace --out if an earlier calibrate-gains wrote it."),
    ] = False,
) -> None:
    """Estimate each station's gain offset (dB) from transmissions at known positions.

    Solves rss = P - 10 n log10(d) + gain by least squares over every reading at least 6 dB
    above the noise, with each transmission's power P unknown. Gains are relative: they are
    given with mean zero. The scenario written is what the estimators should assume:
    `rfloc evaluate --gains FILE` adds the gain-calibrated RSS MLE to the table.
    """
    from rich.table import Table

    from rfloc_core.atomic import write_text_atomic
    from rfloc_core.cli.tabular import wide_console
    from rfloc_core.data.disk_dataset import DiskDataset
    from rfloc_core.data.errors import ConfigError
    from rfloc_core.data.gain_calibration import calibrate_dataset, calibrated_scenario
    from rfloc_core.data.scenario_toml import scenario_toml

    if out.exists():
        ours = out.is_file() and out.read_text(encoding="utf-8", errors="replace").startswith(
            CALIBRATED_HEADER
        )
        if not (overwrite and ours):
            raise ConfigError(
                f"--out {out} already exists"
                + (
                    "; pass --overwrite to replace it"
                    if ours
                    else " and rfloc did not write it; choose another --out"
                )
            )
    dataset = DiskDataset(data, any_features=True)
    calibration = calibrate_dataset(dataset, fit_exponent=fit_exponent, samples=n)
    scenario = calibrated_scenario(dataset.scenario, calibration)
    header = (
        f"{CALIBRATED_HEADER} from {calibration.transmissions} transmissions of {data} "
        f"(residual {calibration.residual_rms_db:.2f} dB RMS).\n"
    )
    write_text_atomic(out, header + scenario_toml(scenario))
    console = wide_console()
    table = Table(title=f"gain offsets of {dataset.scenario.name}", header_style="bold")
    for column in ("station", "gain offset (dB)", "readings"):
        table.add_column(column, justify="left" if column == "station" else "right")
    for receiver, gain, readings in zip(
        dataset.scenario.receivers,
        calibration.gain_offsets_db,
        calibration.readings_per_station,
        strict=True,
    ):
        table.add_row(receiver.name, f"{gain:+.2f}", str(readings))
    console.print(table)
    exponent = "fitted" if calibration.exponent_fitted else "the scenario's"
    console.print(
        f"path-loss exponent {calibration.path_loss_exponent:.3f} ({exponent}); residual "
        f"{calibration.residual_rms_db:.2f} dB RMS; wrote {out}"
    )
