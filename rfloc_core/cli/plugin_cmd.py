"""``rfloc plugin``: tools for plugin authors. ``rfloc plugin new`` writes a plugin package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

plugin_app = typer.Typer(
    name="plugin",
    help="Tools for plugin authors: `rfloc plugin new NAME` writes a complete plugin package.",
    no_args_is_help=True,
)


@plugin_app.command("new")
def new(
    name: Annotated[
        str,
        typer.Argument(
            help="Plugin name: lower-case letters, digits, underscores (the entry point name).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder in which rfloc-NAME/ is created.")
    ] = Path("."),
    family: Annotated[
        str | None,
        typer.Option("--family", help="Family of its backbones (default: NAME)."),
    ] = None,
    timm_model: Annotated[
        str | None,
        typer.Option(
            "--timm-model",
            help="Wrap this timm model, e.g. mobilenetv3_small_100: its feature dimension is "
            "measured and its default published weights declared (needs timm).",
        ),
    ] = None,
    torchvision_model: Annotated[
        str | None,
        typer.Option(
            "--torchvision-model",
            help="Wrap this torchvision model, e.g. shufflenet_v2_x0_5: its first convolution, "
            "classifier and feature dimension are found and its default published weights "
            "declared (needs torchvision).",
        ),
    ] = None,
) -> None:
    """Create rfloc-NAME/, a complete plugin package, ready to install and test.

    It holds pyproject.toml (distribution rfloc-NAME, entry point NAME = "rfloc_NAME" in the
    rfloc group), rfloc_NAME/__init__.py (the RFLOC_PLUGIN_API it is built for and one
    backbone spec: a small CNN to replace, or the --timm-model or --torchvision-model
    wrapped), tests/ running the conformance kit, and README.md. An existing non-empty
    folder is never overwritten.

    Next: `pip install -e "./rfloc-NAME\\[test]"`, then `rfloc models`, `pytest rfloc-NAME/tests`
    and `rfloc train --backbone BACKBONE --preset dev_test`. Guide: docs/plugins/tutorial.md.
    """
    from rfloc_core.cli.tabular import wide_console
    from rfloc_core.scaffold import new_plugin

    folder = new_plugin(
        name, out, family=family, timm_model=timm_model, torchvision_model=torchvision_model
    )
    shown = str(folder) if folder.is_absolute() else f"./{folder}"
    console = wide_console()
    console.out(f"created {shown}/", highlight=False)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        console.out(f"  {path.relative_to(folder)}", highlight=False)
    console.out(
        f'next: pip install -e "{shown}[test]" && rfloc models && pytest {shown}/tests',
        highlight=False,
    )
