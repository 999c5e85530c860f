"""``rfloc bench`` (run a suite into a report) and ``rfloc report`` (merge results)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rfloc_core.bench.config import suite_names
from rfloc_core.cli.tabular import wide_console


def print_headline(results: dict[str, Any], title: str) -> None:
    from rich.table import Table
    from rich.text import Text

    from rfloc_core.bench.headline import headline_table
    from rfloc_core.bench.results_views import busy_machines

    headers, rows = headline_table(results)
    table = Table(title=title, header_style="bold")
    for index, header in enumerate(headers):
        table.add_column(header, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console = wide_console()
    console.print(table)
    for busy in busy_machines(results):
        console.print(Text.assemble(("warning: ", "bold yellow"), busy.warning()))


def bench(
    overrides: Annotated[
        list[str] | None,
        typer.Argument(
            help="key=value settings over the suite, e.g. accuracy.steps=200 "
            "accuracy.train_samples=4000 'latency.backends=[\"torch\"]'.",
            show_default=False,
        ),
    ] = None,
    suite: Annotated[
        str,
        typer.Option(
            "--suite",
            help=f"A shipped suite ({', '.join(suite_names())}) or a suite TOML file.",
        ),
    ] = "quick",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for results.json, results.csv, report.md, report.html, the finished "
            "cells and the training runs (default: reports/<suite>).",
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Benchmark these installed backbones instead of the suite's (fnmatch patterns, "
            "repeatable), with the suite's budgets, e.g. --only 'resnet*' --only my_net.",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the run in --out: finished cells are skipped, an interrupted "
            "training run continues from its last saved state.",
        ),
    ] = False,
    tracking: Annotated[
        bool | None,
        typer.Option(
            "--tracking/--no-tracking",
            help="Log training runs, results and report to MLflow (default: on when "
            "MLFLOW_TRACKING_URI is set).",
        ),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(
            "--label",
            help="Name of this machine in merged reports (default: its GPU, or its CPU and "
            "thread count).",
        ),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show the live display.")
    ] = True,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Write into an --out that holds other files: rfloc replaces only its own "
            "report files, cells/ and runs/, and keeps the rest.",
        ),
    ] = False,
) -> None:
    """Benchmark every installed backbone the suite selects: latency on each backend, and
    accuracy in metres after the same training budget, in one report.

    Latency: each model is exported to every backend of the suite (torch, onnxruntime, ...;
    a backend that cannot run here is listed with its reason), then timed call by call in
    interleaved rounds after a warm-up: p50/p90/p95/p99, mean, CV, throughput, peak memory,
    parameters, GFLOPs and the achieved GFLOP/s against this machine's matmul peak.
    Accuracy: each backbone is trained with the suite's budget and seed on its scenario and
    tested on one held-out test set beside the RSS baselines and the Cramér-Rao bound.

    Stop it at any time; `--resume` with the same --out skips the finished cells. Merge the
    results of several machines with `rfloc report`.
    """
    from rfloc_core.bench.config import load_suite
    from rfloc_core.bench.report import REPORT_FILES, report_files_in
    from rfloc_core.bench.runner import run_suite
    from rfloc_core.bench.store import CELLS_DIR, RUN_JSON, RUNS_DIR
    from rfloc_core.owned_folder import claim_output_folder

    chosen = load_suite(suite, overrides or ())
    folder = out or Path("reports") / chosen.name
    names = (*REPORT_FILES, CELLS_DIR, RUNS_DIR)
    earlier_run = (folder / CELLS_DIR / RUN_JSON).is_file()
    claim_output_folder(
        folder,
        names,
        "the benchmark",
        overwrite=overwrite,
        also_owned=names if earlier_run else report_files_in(folder),
    )
    run = run_suite(
        chosen,
        folder,
        only=tuple(only or ()),
        resume=resume,
        tracking=tracking,
        progress=progress,
        label=label,
    )
    print_headline(run.results, f"rfloc bench --suite {chosen.name}")
    console = wide_console()
    if run.skipped_cells:
        console.print(f"resumed: {run.skipped_cells} finished cells skipped")
    for path in run.files:
        console.print(f"wrote {path}")
    if run.mlflow_run_id:
        console.print(f"MLflow run {run.mlflow_run_id} (experiment rfloc-bench)")


def report(
    results: Annotated[
        list[Path],
        typer.Argument(help="results.json files written by `rfloc bench` (one or more)."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the merged report files.")] = Path(
        "reports/merged"
    ),
    tracking: Annotated[
        bool | None,
        typer.Option(
            "--tracking/--no-tracking",
            help="Log the merged results and report to MLflow (default: on when "
            "MLFLOW_TRACKING_URI is set).",
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Write into an --out that holds other files: rfloc replaces only its four "
            "report files and keeps the rest.",
        ),
    ] = False,
) -> None:
    """Merge results from several machines or runs into one report (JSON, CSV, Markdown,
    HTML). Latency rows keep the machine that measured them; a later file's row for the same
    machine, model, backend and batch size replaces an earlier one."""
    from rfloc_core.bench.report import REPORT_FILES, report_files_in, write_report
    from rfloc_core.bench.results import load_results
    from rfloc_core.bench.results_merge import merge_results
    from rfloc_core.owned_folder import claim_output_folder

    merged = merge_results([load_results(path) for path in results])
    claim_output_folder(
        out,
        REPORT_FILES,
        "the merged report",
        overwrite=overwrite,
        also_owned=report_files_in(out) if out.is_dir() else (),
    )
    files = write_report(merged, out)
    console = wide_console()
    for path in files:
        console.print(f"wrote {path}")
    from rfloc_core.bench.tracking import log_bench_results, tracking_wanted

    if tracking_wanted(tracking):
        console.print(f"MLflow run {log_bench_results(merged, files)} (experiment rfloc-bench)")
