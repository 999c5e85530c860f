"""The ``rfloc`` command line. ``rfloc --help`` and ``rfloc plugins`` never import torch."""

from __future__ import annotations

import sys
import traceback
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from rfloc_core.__about__ import __version__
from rfloc_core.bench.cli import bench, report
from rfloc_core.cli.help_text import flow_help
from rfloc_core.cli.models_cmd import models
from rfloc_core.cli.plugin_cmd import plugin_app
from rfloc_core.cli.plugins_cmd import plugins
from rfloc_core.data.cli import simulate
from rfloc_core.data.gains_cli import calibrate_gains
from rfloc_core.data.import_cli import dataset_app
from rfloc_core.errors import RflocError, first_line
from rfloc_core.evaluation.cli import evaluate
from rfloc_core.export.cli import export
from rfloc_core.export.predict_cli import predict
from rfloc_core.training.cli import train

app = typer.Typer(
    name="rfloc",
    help=(
        "Locate radio transmitters from multi-receiver log-mel spectrograms. Backbones come "
        "from installed plugins (rfloc-convnext, rfloc-resnet, rfloc-vit, rfloc-efficientnet "
        "or your own); see `rfloc plugins` and `rfloc models`."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"rfloc-core {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """rfloc: a plugin-based model zoo for locating radio transmitters."""


app.command("plugins")(plugins)
app.command("models")(models)
app.command("simulate")(simulate)
app.command("train")(train)
app.command("evaluate")(evaluate)
app.command("calibrate-gains")(calibrate_gains)
app.command("export")(export)
app.command("predict")(predict)
app.command("bench")(bench)
app.command("report")(report)
app.add_typer(plugin_app, name="plugin")
app.add_typer(dataset_app, name="dataset")
for _app in (app, plugin_app, dataset_app):
    flow_help(_app)


def main() -> None:
    """Entry point: an ``RflocError`` becomes one line on stderr and exit status 1.

    So do the two foreign errors that only the user's environment causes: an ``OSError`` on
    a named path (permissions, a full disk, a folder where a file belongs) and running out of
    memory. Anything else is a bug: its traceback is printed, with a line asking to report it.
    """
    try:
        app()
    except RflocError as error:
        _fail(str(error))
    except OSError as error:
        if error.filename is None:
            _report_bug()
        _fail(f"{error.strerror or error}: {error.filename}; check the path and its permissions")
    except MemoryError:
        _fail(_OUT_OF_MEMORY)
    except KeyboardInterrupt:
        _fail("interrupted", status=130)
    except Exception as error:
        if _is_out_of_memory(error):
            _fail(f"{first_line(error)}: {_OUT_OF_MEMORY}")
        _report_bug()


_OUT_OF_MEMORY = (
    "ran out of memory; use a smaller batch size, fewer samples or a smaller input size"
)
_CPU_ALLOCATOR_REFUSAL = "DefaultCPUAllocator: can't allocate memory"


def _is_out_of_memory(error: Exception) -> bool:
    """torch's CUDA out-of-memory error, or its CPU allocator's refusal (a RuntimeError)."""
    return type(error).__name__ == "OutOfMemoryError" or (
        isinstance(error, RuntimeError) and _CPU_ALLOCATOR_REFUSAL in str(error)
    )


def _fail(message: str, *, status: int = 1) -> NoReturn:
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(message)}", highlight=False
    )
    sys.exit(status)


def _report_bug() -> NoReturn:
    traceback.print_exc()
    print(
        f"rfloc-core {__version__} hit an unexpected error, which is a bug; please report it "
        "with the traceback above and the command you ran",
        file=sys.stderr,
    )
    sys.exit(2)
