"""``rfloc predict``: run any artifact on recordings or simulated samples."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated

import typer

from rfloc_core.atomic import write_text_atomic
from rfloc_core.cli.tabular import wide_console


def predict(
    artifact: Annotated[
        Path, typer.Argument(help="A checkpoint folder, an .onnx file or an .engine file.")
    ],
    sigmf: Annotated[
        list[Path] | None,
        typer.Option("--sigmf", help="SigMF recordings, one per receiver (repeat the option)."),
    ] = None,
    simulate: Annotated[
        int | None, typer.Option("--simulate", help="Predict N simulated test samples.", min=1)
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help="Receiver network (default: the one in the artifact). A receiver-set model "
            "with --sigmf needs none: each recording's core:geolocation places its receiver.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Run seed of the simulated test split.")] = 0,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda.")] = "cpu",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the predictions as .csv or .json.")
    ] = None,
) -> None:
    """Predict transmitter positions with uncertainty ellipses.

    Prints east/north in metres (ENU, origin at the receivers' centroid), latitude and
    longitude, and the 1-sigma ellipse: semi-major and semi-minor axes in metres and the
    major axis' direction in degrees counter-clockwise from east. Simulated samples also
    show the true position and the error. A receiver-set model (trained with model.fusion)
    takes recordings from any receivers: one exported file serves any network. Examples:
    `rfloc predict model.onnx --simulate 5`;
    `rfloc predict runs/x/best --sigmf rx1.sigmf-meta --sigmf rx2.sigmf-meta ...`.
    """
    from rich.table import Table

    from rfloc_core.devices import checked_device
    from rfloc_core.export.predict import predict as run_predict

    checked_device(device)
    rows = run_predict(
        artifact,
        sigmf=sigmf,
        simulate=simulate,
        scenario=scenario,
        seed=seed,
        device=device,
    )
    records = [row.as_dict() for row in rows]
    if out is not None:
        if out.suffix == ".json":
            write_text_atomic(out, json.dumps(records, indent=2) + "\n")
        else:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
            write_text_atomic(out, buffer.getvalue())
    console = wide_console()
    table = Table(title=f"{artifact}", header_style="bold")
    columns = ["#", "east m", "north m", "lat °", "lon °", "1σ major m", "1σ minor m", "axis °"]
    if simulate:
        columns += ["true east m", "true north m", "error m"]
    for column in columns:
        table.add_column(column, justify="right")
    for index, row in enumerate(rows):
        cells = [
            str(index),
            f"{row.east_m:,.0f}",
            f"{row.north_m:,.0f}",
            f"{row.latitude_deg:.5f}",
            f"{row.longitude_deg:.5f}",
            "" if row.semi_major_m is None else f"{row.semi_major_m:,.0f}",
            "" if row.semi_minor_m is None else f"{row.semi_minor_m:,.0f}",
            "" if row.orientation_deg is None else f"{row.orientation_deg:.0f}",
        ]
        if simulate:
            cells += [
                f"{row.truth_east_m:,.0f}",
                f"{row.truth_north_m:,.0f}",
                f"{row.error_m:,.0f}",
            ]
        table.add_row(*cells)
    console.print(table)
    if out is not None:
        console.print(f"wrote {out}")
