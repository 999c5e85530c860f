"""``rfloc models``: every registered backbone with figures measured from the model itself."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress

from rfloc_core.cli.tabular import OutputFormat, render, wide_console
from rfloc_core.contract import DEFAULT_INPUT_SIZE, DEFAULT_RECEIVERS
from rfloc_core.errors import InvalidInputError, RflocError, build_failure
from rfloc_core.registry import get_registry
from rfloc_core.registry._registry import KNOWN_FAMILY_PACKAGES
from rfloc_core.specs import BackboneSpec, InputSize

HEADERS = {
    "name": "name",
    "family": "family",
    "plugin": "plugin",
    "params_m": "params (M)",
    "gflops": "GFLOPs",
    "feature_dim": "feature dim",
    "pretrained": "pretrained source",
    "imagenet_top1": "ImageNet top-1 (%)",
    "top1_note": "top-1 measured as",
    "top1_source": "top-1 source",
    "status": "status",
    "problem": "problem",
}
TABLE_HIDDEN = {"top1_source", "problem"}
"""Too long for a terminal; CSV and JSON carry it, and the table's caption names it."""

NO_BACKBONE_MESSAGE = (
    "No backbone plugin is installed. Install a family, for example "
    "`pip install rfloc-resnet` (from a checkout: `pip install ./plugins/resnet`); "
    f"published families: {', '.join(KNOWN_FAMILY_PACKAGES.values())}."
)


def parse_input_size(text: str) -> InputSize:
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise InvalidInputError(
            f"--input-size must look like MELSxFRAMES, for example 128x32, got {text!r}"
        )
    return int(parts[0]), int(parts[1])


def _row(spec: BackboneSpec, measured: Any, problem: str | None = None) -> dict[str, Any]:
    top1 = spec.reference("imagenet_top1_percent")
    if measured is not None and measured.feature_dim != spec.feature_dim:
        problem = (
            f"{spec.name} from plugin {spec.plugin!r} declares feature_dim={spec.feature_dim} "
            f"but its network outputs {measured.feature_dim} features; the plugin's spec needs "
            "fixing"
        )
    return {
        "name": spec.name,
        "family": spec.family,
        "plugin": f"{spec.plugin} {spec.plugin_version}",
        "params_m": round(measured.params_m, 2) if measured else None,
        "gflops": round(measured.gflops, 3) if measured else None,
        "feature_dim": measured.feature_dim if measured else None,
        "pretrained": spec.pretrained.source if spec.pretrained else None,
        "imagenet_top1": top1.value if top1 else None,
        "top1_note": top1.note if top1 else None,
        "top1_source": top1.source if top1 else None,
        "status": "error (below)" if problem else "ok",
        "problem": problem,
    }


def _measure_all(
    specs: list[BackboneSpec], receivers: int, input_size: InputSize, refresh: bool
) -> list[dict[str, Any]]:
    from rfloc_core.measure import measure_backbone
    from rfloc_core.measure_cache import MeasurementCache, cache_key

    cache = MeasurementCache()
    rows = []
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("measuring backbones", total=len(specs))
        for spec in specs:
            key = cache_key(spec, receivers, input_size)
            measured = None if refresh else cache.get(key)
            problem = None
            if measured is None:
                progress.update(task, description=f"measuring {spec.name}")
                try:
                    measured = measure_backbone(spec, receivers=receivers, input_size=input_size)
                    cache.put(key, measured)
                except Exception as error:
                    problem = build_failure(spec, error, f"{receivers} receivers").args[0]
            rows.append(_row(spec, measured, problem))
            progress.advance(task)
    cache.save()
    return rows


def models(
    patterns: Annotated[
        list[str] | None,
        typer.Argument(help="fnmatch patterns, e.g. 'convnext_*' (quote them). Default: all."),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")
    ] = OutputFormat.table,
    receivers: Annotated[
        int, typer.Option(min=1, help="Receiver count: the input channels.")
    ] = DEFAULT_RECEIVERS,
    input_size: Annotated[
        str, typer.Option(help="Spectrogram size as MELSxFRAMES.")
    ] = f"{DEFAULT_INPUT_SIZE[0]}x{DEFAULT_INPUT_SIZE[1]}",
    refresh: Annotated[
        bool, typer.Option(help="Re-measure instead of reading the measurement cache.")
    ] = False,
) -> None:
    """List backbones from every installed plugin, with figures measured from each model.

    Parameters, GFLOPs (a multiply-add counts as two FLOPs, per sample) and the feature
    dimension are measured by building the backbone on the meta device at the given input,
    never typed in. ImageNet top-1 is quoted, with its source, where the plugin knows it.
    Measurements are cached per plugin version; --refresh re-measures. The table ends with the
    installed set fusions, which turn any backbone into a receiver-set model.
    """
    registry = get_registry()
    size = parse_input_size(input_size)
    console = wide_console()
    every = registry.backbones()
    if not every:
        console.print(NO_BACKBONE_MESSAGE)
        return
    specs = registry.backbones(patterns or ["*"])
    if not specs:
        raise RflocError(
            f"no backbone matches {' '.join(patterns or [])!r}; installed: "
            f"{', '.join(s.name for s in every)}"
        )
    rows = _measure_all(specs, receivers, size, refresh)
    problems = [row["problem"] for row in rows if row["problem"]]
    if output is not OutputFormat.table:
        render(rows, HEADERS, output, console)
        _exit_on(problems)
        return
    render(
        rows,
        {k: v for k, v in HEADERS.items() if k not in TABLE_HIDDEN},
        output,
        console,
        title=f"rfloc backbones at {receivers}x{size[0]}x{size[1]} (receivers x mels x frames)",
    )
    for source in sorted({r["top1_source"] for r in rows if r["top1_source"]}):
        console.print(f"top-1 source: {source}", highlight=False, soft_wrap=True)
    fusions = ", ".join(f"{spec.name} ({spec.plugin})" for spec in registry.fusions())
    console.print(
        f"receiver-set fusions (any backbone, any receiver network; create_model(..., "
        f"fusion=NAME)): {fusions or 'none'}",
        highlight=False,
        soft_wrap=True,
    )
    _warn_about_plugin_problems(len(registry.problems()))
    _exit_on(problems)


def _exit_on(problems: list[str]) -> None:
    """Each failing backbone's one line on stderr, then exit 1; the other rows are listed."""
    if not problems:
        return
    errors = Console(stderr=True)
    for problem in problems:
        errors.print(f"[red]error:[/] {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _warn_about_plugin_problems(count: int) -> None:
    if count:
        Console(stderr=True).print(
            f"[yellow]warning:[/] {count} plugin problem(s); `rfloc plugins` shows them",
            highlight=False,
        )
