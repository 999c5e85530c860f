"""``rfloc plugins``: every plugin found, what it provides, and what went wrong."""

from __future__ import annotations

from typing import Annotated

import typer

from rfloc_core.cli.tabular import OutputFormat, render, wide_console
from rfloc_core.registry import get_registry

HEADERS = {
    "name": "plugin",
    "version": "version",
    "api": "plugin API",
    "distribution": "distribution",
    "state": "state",
    "hooks": "hooks",
    "backbones": "backbones",
    "heads": "heads",
    "exporters": "exporters",
    "fusions": "fusions",
    "errors": "errors",
}


def plugins(
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")
    ] = OutputFormat.table,
) -> None:
    """List installed rfloc plugins: version, plugin API, distribution, hooks, spec counts and
    errors.

    A plugin that fails to import or returns invalid specs is shown with its error while the
    others keep working; one built for another plugin API major version (or a newer minor
    than this core's) is shown as incompatible and not loaded. Set RFLOC_STRICT_PLUGINS=1 to
    make such failures fatal, RFLOC_PLUGINS=a,b to load only those plugins,
    RFLOC_DISABLE_PLUGINS=a,b to skip some.
    """
    registry = get_registry()
    rows = [
        {
            "name": p.name,
            "version": p.version,
            "api": p.api or None,
            "distribution": p.distribution,
            "state": (p.skip_reason and f"skipped ({p.skip_reason})") or p.state,
            "hooks": [h.removeprefix("rfloc_") for h in p.hooks],
            **p.spec_counts,
            "errors": list(p.errors),
        }
        for p in registry.plugins
    ]
    console = wide_console()
    render(rows, HEADERS, output, console, title="rfloc plugins")
    if output is OutputFormat.table:
        for warning in registry.warnings:
            console.print(f"[yellow]warning:[/] {warning}")
