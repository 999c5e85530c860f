"""``rfloc simulate``: write a sharded synthetic dataset (registered by ``rfloc_core.cli``).

Heavy imports (torch, h5py) happen inside the command, so ``rfloc --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from rfloc_core.data.presets import DEFAULT_PRESET, preset_names

if TYPE_CHECKING:
    from rfloc_core.data.feature_config import FeatureConfig
    from rfloc_core.data.scenario import ScenarioConfig


def simulate(
    n: Annotated[int, typer.Option("--n", help="Number of samples to simulate.", min=1)],
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write the shards and manifest.json into.")
    ],
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            help=(
                f"A preset name ({', '.join(preset_names())}) or the path of a scenario TOML file."
            ),
        ),
    ] = DEFAULT_PRESET,
    seed: Annotated[
        int, typer.Option("--seed", help="Dataset seed; sample i is a function of (seed, i).")
    ] = 0,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help="train, validation or test: treat --seed as a run seed and write that split's "
            "samples, the very ones `rfloc train` (train, validation) and `rfloc evaluate` "
            "(test) simulate for it.",
        ),
    ] = None,
    features: Annotated[
        Path | None,
        typer.Option("--features", help="FeatureConfig TOML file (default: the built-in one)."),
    ] = None,
    shard_size: Annotated[
        int, typer.Option("--shard-size", help="Samples per HDF5 shard.", min=1)
    ] = 4096,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Samples simulated per vectorised batch.", min=1)
    ] = 256,
    device: Annotated[
        str, typer.Option("--device", help="torch device to simulate on: cpu, cuda, cuda:1 ...")
    ] = "cpu",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a dataset already in --out.")
    ] = False,
    sigmf: Annotated[
        bool,
        typer.Option(
            "--sigmf",
            help="Write labelled SigMF recording sets instead (one folder per transmission, "
            "one recording per online receiver, the true position as an rfloc annotation), "
            "as your own recordings would look; `rfloc dataset import` reads them.",
        ),
    ] = False,
) -> None:
    """Simulate N transmissions of a scenario into a sharded HDF5 dataset.

    Each sample holds the model input (receivers, mel_bins, frames) and the truth.
    Truth: position (m, ENU), transmit and received powers (dBm), online receivers, signal type.
    manifest.json records scenario, features, seed and a SHA-256 per shard; readers verify them.
    """
    from rfloc_core.data.feature_config import FeatureConfig
    from rfloc_core.data.scenario import load_scenario
    from rfloc_core.data.splits import dataset_seed
    from rfloc_core.data.storage import simulate_to_disk
    from rfloc_core.devices import checked_device

    chosen = load_scenario(scenario)
    seed = dataset_seed(seed, split)
    feature_config = FeatureConfig.from_toml(features) if features else FeatureConfig()
    checked_device(device)
    console = Console(stderr=True)
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    if sigmf:
        _write_recording_sets(chosen, n, out, seed, feature_config, overwrite, console, columns)
        return
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"simulating {chosen.name}", total=n)
        manifest = simulate_to_disk(
            chosen,
            n,
            out,
            seed=seed,
            feature_config=feature_config,
            shard_size=shard_size,
            batch_size=batch_size,
            device=device,
            overwrite=overwrite,
            progress=lambda done: progress.advance(task, done),
        )
    console.print(
        f"wrote {n} samples of {chosen.name} (dataset seed {seed}) to {manifest.parent} "
        f"({manifest.name})"
    )


def _write_recording_sets(
    scenario: ScenarioConfig,
    n: int,
    out: Path,
    seed: int,
    feature_config: FeatureConfig,
    overwrite: bool,
    console: Console,
    columns: tuple[ProgressColumn, ...],
) -> None:
    from rfloc_core.data.errors import ConfigError
    from rfloc_core.data.labelled_recordings import write_labelled_recording_sets

    if overwrite:
        raise ConfigError(
            "--overwrite does not apply to --sigmf: recording sets are never replaced; "
            "write them into a new --out"
        )
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--out {out} is not empty; write the recording sets into a new folder")
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"writing recordings of {scenario.name}", total=n)
        write_labelled_recording_sets(
            scenario,
            n,
            out,
            seed=seed,
            feature_config=feature_config,
            progress=lambda done: progress.advance(task, done),
        )
    console.print(
        f"wrote {n} labelled recording sets of {scenario.name} (dataset seed {seed}) to {out}"
    )
