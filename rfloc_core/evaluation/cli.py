"""``rfloc evaluate``: a checkpoint beside the RSS baselines and the Cramér–Rao bound."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from rfloc_core.cli.tabular import wide_console
from rfloc_core.data.presets import preset_names

if TYPE_CHECKING:
    from rfloc_core.evaluation.summary import Evaluation


def print_evaluation(evaluation: Evaluation, console: Console, title: str) -> None:
    from rich.table import Table

    from rfloc_core.evaluation.summary import table_rows

    columns, cells = table_rows(evaluation)
    table = Table(title=f"{title} ({evaluation.samples} samples)", header_style="bold")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in cells:
        table.add_row(*row)
    console.print(table)
    if not evaluation.observable:
        console.print(
            "[yellow]warning:[/] the receivers' geometry leaves the position unobservable on "
            "these samples (the Cramér–Rao bound is infinite), so no estimator's error is "
            "bounded and RMSE/CRB is undefined; spread the receivers out or add some"
        )


def evaluate(
    checkpoint: Annotated[Path, typer.Argument(help="Checkpoint folder (config.json + weights).")],
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help=f"Preset ({', '.join(preset_names())}) or scenario TOML; default: the one the "
            "checkpoint was trained on.",
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="A dataset folder written by `rfloc simulate` to evaluate on "
            " instead of simulating; its scenario and features must suit the model.",
        ),
    ] = None,
    gains: Annotated[
        Path | None,
        typer.Option(
            "--gains",
            help="The scenario `rfloc calibrate-gains` wrote for this network: adds the RSS MLE "
            "on readings corrected by its estimated gain offsets (rss_mle_gains).",
        ),
    ] = None,
    n: Annotated[
        int | None,
        typer.Option(
            "--n", help="Test samples (default: 1000 simulated, or every sample of --data).", min=1
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Run seed of the test split.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for evaluation.json and the PNG plots (default: "
            "evaluation-<scenario>-n<N> beside the checkpoint).",
        ),
    ] = None,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda, cuda:1 ...")] = "cpu",
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Samples per batch.", min=1)
    ] = 256,
) -> None:
    """Evaluate a checkpoint on a held-out test set, beside the classical baselines.

    The test set is simulated from --seed's test split, or read from a --data folder, which
    every backbone and machine can share.

    Prints error statistics (metres), the ratio to the Cramér-Rao bound and the calibration of
    the predicted uncertainty for the model, the RSS maximum-likelihood estimator and the
    weighted centroid, all on the same samples; writes the error CDF, a map of predicted vs
    true positions with uncertainty ellipses, and a calibration plot as PNG.
    """
    from rfloc_core.checkpoint import read_checkpoint_config
    from rfloc_core.devices import checked_device
    from rfloc_core.evaluation.evaluate import evaluate as run_evaluate

    checked_device(device)
    config = read_checkpoint_config(checkpoint)
    if data is not None:
        label = data.resolve().name
        default_folder = checkpoint.parent / (f"evaluation-{label}" + (f"-n{n}" if n else ""))
    else:
        label = scenario if scenario else (config.scenario or {}).get("name", "scenario")
        default_folder = checkpoint.parent / f"evaluation-{Path(str(label)).stem}-n{n or 1000}"
    folder = out or default_folder
    evaluation = run_evaluate(
        checkpoint,
        scenario=scenario,
        data=data,
        gains=gains,
        samples=n if data is not None else n or 1000,
        seed=seed,
        out_dir=folder,
        batch_size=batch_size,
        device=device,
        progress=True,
    )
    console = wide_console()
    print_evaluation(evaluation, console, title=f"{config.backbone}/{config.head} on {label}")
    console.print(f"plots and evaluation.json in {folder}")
