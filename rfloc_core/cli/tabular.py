"""Rows of plain values rendered as a rich table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


NON_TERMINAL_WIDTH = 200


def wide_console() -> Console:
    """A console for stdout that does not fold tables to 80 columns when piped."""
    probe = Console()
    return probe if probe.is_terminal else Console(width=NON_TERMINAL_WIDTH)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def render(
    rows: Sequence[dict[str, Any]],
    headers: dict[str, str],
    output: OutputFormat,
    console: Console,
    title: str | None = None,
) -> None:
    """Print ``rows``; ``headers`` maps each row key to its table heading, in column order."""
    if output is OutputFormat.json:
        console.print_json(json.dumps([{k: r.get(k) for k in headers} for r in rows]))
        return
    if output is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(headers), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in headers})
        console.out(buffer.getvalue(), end="", highlight=False)
        return
    table = Table(title=title, header_style="bold")
    for key, heading in headers.items():
        numeric = any(isinstance(r.get(key), int | float) for r in rows)
        table.add_column(heading, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(k)) for k in headers))
    console.print(table)
