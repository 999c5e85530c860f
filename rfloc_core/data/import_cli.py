"""``rfloc dataset import``: labelled SigMF recording sets -> an rfloc dataset folder
(registered by ``rfloc_core.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

dataset_app = typer.Typer(
    help="Datasets from your own recordings: import labelled SigMF recording sets.",
    no_args_is_help=True,
)


@dataset_app.command("import")
def import_sets(
    source: Annotated[
        Path,
        typer.Argument(
            help="Folder with one sub-folder per recording set: one SigMF recording per "
            "receiver of one transmission, labelled with the transmitter's position."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Dataset folder to write.")],
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            help="Your network as a scenario preset or TOML: its receivers (matched by the "
            "recordings' rfloc:receiver or core:geolocation), carrier and receiver hardware.",
        ),
    ],
    min_receivers: Annotated[
        int | None,
        typer.Option(
            "--min-receivers",
            min=1,
            help="Import sets that at least this many receivers recorded; the others are "
            "offline in that sample (default: every receiver of the scenario).",
        ),
    ] = None,
    max_clock_offset_s: Annotated[
        float,
        typer.Option(
            "--max-clock-offset-s",
            min=0.0,
            help="Skip sets whose recordings' core:datetime start further apart than this.",
        ),
    ] = 0.01,
    features: Annotated[
        Path | None,
        typer.Option("--features", help="FeatureConfig TOML file (default: the built-in one)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a dataset already in --out.")
    ] = False,
) -> None:
    """Import labelled SigMF recording sets as a dataset to train, fine-tune and evaluate on.

    Each usable set becomes one sample: features, measured RSS and the labelled position.
    Sets that cannot be used are listed with the reason: missing receivers, a recording of
    another sample rate, type or tuning, an unknown receiver, no label, clocks too far apart.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from rfloc_core.data.feature_config import FeatureConfig
    from rfloc_core.data.importer import import_recording_sets, recording_sets
    from rfloc_core.data.scenario import load_scenario

    network = load_scenario(scenario)
    feature_config = FeatureConfig.from_toml(features) if features else FeatureConfig()
    total = len(recording_sets(source))
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("checking recording sets", total=total)
        report = import_recording_sets(
            source,
            out,
            network,
            feature_config,
            min_receivers=min_receivers,
            max_clock_offset_s=max_clock_offset_s,
            overwrite=overwrite,
            progress=lambda done: bar.advance(task, done),
        )
    for skipped in report.skipped:
        console.print(f"skipped {skipped.recording_set}: {skipped.reason}", markup=False)
    console.print(
        f"imported {len(report.imported)} of {total} recording sets into {out} "
        f"({len(report.skipped)} skipped)"
    )
