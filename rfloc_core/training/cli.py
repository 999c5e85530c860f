"""``rfloc train``: train a backbone with a probabilistic head (registered by ``rfloc_core.cli``).

Heavy imports (torch, Lightning, MLflow) happen inside the command, so ``rfloc --help`` stays
fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rfloc_core.cli.tabular import wide_console
from rfloc_core.training.presets import DEFAULT_TRAIN_PRESET, preset_names


def _flag_overrides(**flags: object) -> list[str]:
    """Command-line flags as ``key=value`` overrides (flags not given are left out)."""
    return [f"{key}={value}" for key, value in flags.items() if value is not None]


def train(
    overrides: Annotated[
        list[str] | None,
        typer.Argument(
            help="key=value settings on top of the preset or file, e.g. epochs=5 "
            "learning_rate=1e-3 model.head_options.components=5 (see docs/training.md).",
            show_default=False,
        ),
    ] = None,
    backbone: Annotated[
        str | None,
        typer.Option("--backbone", "-b", help="Registered backbone or alias (`rfloc models`)."),
    ] = None,
    head: Annotated[
        str | None, typer.Option("--head", help="gaussian, gaussian_full, mixture, or a plugin's.")
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            "-p",
            help=f"Training preset: {', '.join(preset_names())}. Default {DEFAULT_TRAIN_PRESET} "
            "(CPU-sized, random init) unless --config is given.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Training TOML file (may start from `base = PRESET`)."),
    ] = None,
    devices: Annotated[
        str | None,
        typer.Option("--devices", help="Lightning devices: a count, -1 for all, auto, or '0,1'."),
    ] = None,
    num_nodes: Annotated[
        int | None, typer.Option("--num-nodes", help="Machines for multi-node DDP.", min=1)
    ] = None,
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="Lightning strategy: auto, ddp, fsdp, ...")
    ] = None,
    run_dir: Annotated[
        Path | None,
        typer.Option(
            "--run-dir",
            help="Folder of this run (default: a new time-stamped folder under output_dir).",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue a killed run from its last saved state: the --run-dir folder, or the "
            "newest resumable run under the preset's output_dir.",
        ),
    ] = False,
    tracking: Annotated[
        bool,
        typer.Option(
            "--tracking/--no-tracking",
            help="Log to MLflow (its default local store, or MLFLOW_TRACKING_URI).",
        ),
    ] = True,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show the progress bar.")
    ] = True,
) -> None:
    """Train a backbone with a probabilistic head on simulated data.

    Logs params, per-epoch metrics, the environment, the best checkpoint and plots to MLflow,
    registers the model as rfloc-<backbone>-<head>, and prints the best checkpoint's
    validation accuracy beside the classical RSS baselines and the Cramér-Rao bound.
    Examples: `rfloc train --preset dev_test`; `rfloc train -b resnet18 epochs=10`;
    `rfloc train --preset dev_test --devices 2 --strategy ddp accelerator=cpu`.
    """
    from rfloc_core.data.errors import ConfigError
    from rfloc_core.evaluation.cli import print_evaluation
    from rfloc_core.training.run import train as run_train

    if preset is not None and config is not None:
        raise ConfigError("give --preset or --config, not both (a file can start from a preset)")
    chosen: str | Path | None = config if config is not None else preset
    flags = _flag_overrides(
        **{"model.backbone": backbone, "model.head": head, "devices": devices},
        num_nodes=num_nodes,
        strategy=strategy,
    )
    all_overrides = [*(overrides or []), *flags]
    if chosen is None and not (resume and run_dir is not None and not all_overrides):
        chosen = DEFAULT_TRAIN_PRESET
    result = run_train(
        chosen,
        all_overrides,
        run_dir=run_dir,
        resume=resume,
        progress=progress,
        tracking=tracking,
    )
    if result is None:  # a DDP worker process; the launching process reports
        return
    console = wide_console()
    print_evaluation(result.evaluation, console, title="Best checkpoint on the validation set")
    console.print(f"run folder:      {result.run_dir}")
    console.print(f"best checkpoint: {result.best_checkpoint}")
    if result.mlflow_run_id:
        console.print(
            f"MLflow run {result.mlflow_run_id}; registered {result.registered_model} "
            f"version {result.model_version}"
        )
