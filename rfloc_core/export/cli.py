"""``rfloc export``: a checkpoint to ONNX, a TensorRT engine, or any plugin's format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from rfloc_core.cli.tabular import wide_console


def export(
    checkpoint: Annotated[Path, typer.Argument(help="Checkpoint folder (config.json + weights).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (written atomically).")],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="onnx, onnx_int8 (CPU INT8, calibrated on the checkpoint's scenario; only "
            "resnet-like files pass its validation, others need --allow-mismatch: see "
            "docs/export.md), tensorrt, torch, or a plugin's exporter (rfloc plugins).",
        ),
    ] = "onnx",
    fp16: Annotated[bool, typer.Option("--fp16", help="Export in float16.")] = False,
    batch: Annotated[
        str,
        typer.Option("--batch", help="TensorRT batch profile min,opt,max (samples)."),
    ] = "1,8,32",
    allow_mismatch: Annotated[
        bool,
        typer.Option(
            "--allow-mismatch",
            help="Keep an export whose outputs miss the tolerance against PyTorch; the miss is "
            "recorded in its metadata. A different output name or shape always fails.",
        ),
    ] = False,
    simplify: Annotated[
        bool, typer.Option("--simplify", help="Simplify the ONNX graph with onnxslim first.")
    ] = False,
    exporter: Annotated[
        str | None,
        typer.Option("--exporter", help="torch.onnx exporter: dynamo (default) or legacy."),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace an --out file that rfloc did not write (an earlier rfloc export is "
            "replaced without it).",
        ),
    ] = False,
) -> None:
    """Export a checkpoint and validate it against PyTorch.

    The file is run on fresh random and simulated inputs (INT8: simulated ones of the
    checkpoint's scenario) at several batch sizes, and each output is compared with the eager
    model; the largest absolute and relative differences
    are printed per output and stored in the file's metadata. Examples:
    `rfloc export runs/x/best --out model.onnx`;
    `rfloc export runs/x/best --format onnx_int8 --out model-int8.onnx` (CPU, 8-bit);
    `rfloc export runs/x/best --format tensorrt --fp16 --batch 1,16,64 --out model.engine`.
    """
    from rfloc_core.checkpoint import load_checkpoint
    from rfloc_core.errors import RflocError
    from rfloc_core.export.targets import check_export_target
    from rfloc_core.registry import get_registry

    check_export_target(out, overwrite=overwrite)
    spec = get_registry().exporter(format)
    missing = spec.unavailable_reason()
    if missing is not None:
        raise RflocError(f"the {spec.name} exporter cannot run here: {missing}")
    model, config = load_checkpoint(checkpoint)
    metadata = {
        "rfloc.scenario": json.dumps(config.scenario),
        "rfloc.features": json.dumps(config.features),
    }
    options: dict[str, object] = {
        "fp16": fp16,
        "batch": batch,
        "allow_mismatch": allow_mismatch,
        "simplify": simplify,
        "metadata": metadata,
        "scenario": config.scenario,
        "features": config.features,
    }
    if exporter is not None:
        options["exporter"] = exporter
    console = wide_console()
    with console.status(f"exporting {config.backbone}/{config.head} to {spec.name}"):
        written = spec.export(model.eval(), out, **options)
    _print_validation(written, spec.name, console)


def _print_validation(path: Path, kind: str, console: object) -> None:
    from rich.table import Table

    report: Any = None
    if kind in ("onnx", "onnx_int8"):
        from rfloc_core.export.onnx_export import read_validation

        report = read_validation(path)
    elif kind == "tensorrt":
        sidecar = path.with_suffix(path.suffix + ".json")
        report = json.loads(sidecar.read_text(encoding="utf-8")).get("validation")
    size_mb = sum(p.stat().st_size for p in ([path] if path.is_file() else path.iterdir())) / 1e6
    print_ = console.print  # type: ignore[attr-defined]
    print_(f"wrote {path} ({size_mb:.1f} MB)")
    if not report:
        return
    factor = report.get("rounding_factor") or 0
    rounding = f" + {factor:g}x PyTorch's float32 rounding" if factor else ""
    table = Table(
        title=f"{report['runtime']} vs PyTorch, batches {report['batch_sizes']}, inputs "
        f"{', '.join(report['inputs'])} (tolerance atol {report['atol']:g} + rtol "
        f"{report['rtol']:g}{rounding})",
        header_style="bold",
    )
    columns = ["output", "max abs diff", "max rel diff"]
    columns += ["PyTorch float32 rounding"] if factor else []
    for column in [*columns, "elements outside"]:
        table.add_column(column, justify="left" if column == "output" else "right")
    for name, entry in report["outputs"].items():
        rounding_cell = [f"{entry.get('float32_rounding', 0.0):.3g}"] if factor else []
        table.add_row(
            name,
            f"{entry['max_abs']:.3g}",
            f"{entry['max_rel']:.3g}",
            *rounding_cell,
            str(entry["failing_elements"]),
        )
    print_(table)
    print_("validation " + ("passed" if report["passed"] else "MISSED (kept: --allow-mismatch)"))
