"""The benchmark report as one self-contained HTML file: inline CSS, inline vanilla JS and
matplotlib plots as inline SVG; a Content-Security-Policy forbids every fetch, so the page
works offline and from an e-mail attachment.

It holds the environments and which backends ran on which hardware, a latency-against-accuracy
Pareto plot per backend and machine, the error CDFs, the calibration curves, one table of every
latency cell joined to its model's accuracy that sorts by any column, the accuracy table with
the baselines, and every cell that was not measured with its reason.
"""

from __future__ import annotations

import html
import io
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter

from rfloc_core.atomic import write_text_atomic
from rfloc_core.bench.results import (
    BackendKey,
    HardwareUse,
    busy_machines,
    environments_of,
    failed_cells,
    format_number,
    group_by_backend,
    hardware_use,
    latency_rows_for_table,
    pareto_front,
    sorted_accuracy_rows,
)


class _Column(NamedTuple):
    header: str
    key: str
    numeric: bool


_SIGMA = "\N{GREEK SMALL LETTER SIGMA}"
_BOUND_LABEL = "Cram\N{LATIN SMALL LETTER E WITH ACUTE}r\N{EN DASH}Rao RMSE bound"
_PARETO_SIZE_IN = (7.5, 5.0)
_CDF_SIZE_IN = (7.5, 5.0)
_CALIBRATION_SIZE_IN = (6.0, 5.5)
_LOG_SCALE_MIN_SPREAD = 100.0
_COLOR_CYCLE = 10
_NO_SVG_METADATA: dict[str, str | None] = {
    "Creator": None,
    "Date": None,
    "Format": None,
    "Type": None,
}
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

_LATENCY_TABLE: tuple[_Column, ...] = (
    _Column("machine", "machine", False),
    _Column("model", "model", False),
    _Column("family", "family", False),
    _Column("backend", "backend", False),
    _Column("device", "device", False),
    _Column("precision", "precision", False),
    _Column("batch", "batch_size", True),
    _Column("status", "status", False),
    _Column("p50 ms", "p50_ms", True),
    _Column("p90 ms", "p90_ms", True),
    _Column("p95 ms", "p95_ms", True),
    _Column("p99 ms", "p99_ms", True),
    _Column("mean ms", "mean_ms", True),
    _Column("CV", "cv", True),
    _Column("samples/s", "samples_per_s", True),
    _Column("peak MB", "peak_memory_mb", True),
    _Column("others' CPUs", "other_cpus_busy", True),
    _Column("params M", "params_m", True),
    _Column("GFLOPs", "gflops", True),
    _Column("GFLOP/s", "achieved_gflops_per_s", True),
    _Column("fraction of peak", "fraction_of_peak", True),
    _Column("median error m", "error_median_m", True),
    _Column("p95 error m", "error_p95_m", True),
    _Column("ratio to CRB", "ratio_to_crb", True),
    _Column(f"inside 1{_SIGMA}", "inside_1sigma", True),
    _Column("reason", "reason", False),
)

_ACCURACY_TABLE: tuple[_Column, ...] = (
    _Column("name", "model", False),
    _Column("kind", "kind", False),
    _Column("family", "family", False),
    _Column("scenario", "scenario", False),
    _Column("seeds", "seeds", False),
    _Column("train samples", "train_samples", True),
    _Column("test samples", "test_samples", True),
    _Column("mean m", "error_mean_m", True),
    _Column("median m", "error_median_m", True),
    _Column("p68 m", "error_p68_m", True),
    _Column("p95 m", "error_p95_m", True),
    _Column("RMSE m", "error_rmse_m", True),
    _Column("ratio to CRB", "ratio_to_crb", True),
    _Column(f"inside 1{_SIGMA}", "inside_1sigma", True),
    _Column(f"inside 2{_SIGMA}", "inside_2sigma", True),
    _Column("NLL", "nll_mean", True),
    _Column("train s", "train_seconds", True),
    _Column("status", "status", False),
    _Column("reason", "reason", False),
)

_FAILED_TABLE: tuple[_Column, ...] = (
    _Column("cell", "what", False),
    _Column("status", "status", False),
    _Column("reason", "reason", False),
)

_ENVIRONMENT_TABLE: tuple[_Column, ...] = (
    _Column("machine", "label", False),
    _Column("host", "hostname", False),
    _Column("CPU", "cpu", False),
    _Column("GPU", "gpu", False),
    _Column("driver", "driver", False),
    _Column("Python", "python", False),
    _Column("torch", "torch", False),
    _Column("ONNX Runtime", "onnxruntime", False),
    _Column("TensorRT", "tensorrt", False),
    _Column("platform", "platform", False),
    _Column("threads", "threads", True),
    _Column("matmul peak GFLOP/s", "matmul_peak_gflops_per_s", True),
)

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  line-height: 1.45; max-width: 1500px; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
.note { color: #57606a; }
.warning { background: #fff8c5; border-left: 4px solid #bf8700; padding: 0.5em 0.8em; }
.figures { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure { margin: 0; flex: 1 1 560px; max-width: 780px; }
figure svg { width: 100%; height: auto; }
figcaption { font-size: .9rem; color: #57606a; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .82rem; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th button { all: unset; cursor: pointer; font-weight: 600; }
th button:focus-visible { outline: 2px solid #0969da; }
th .arrow { display: inline-block; min-width: 1em; }
tr.status-unavailable td, tr.status-error td { color: #6e7781; background: #fafbfc; }
tr.status-error td { background: #fff5f5; }
"""

# Plain ES5 without module syntax, so any browser runs it from file://.
_SCRIPT = r"""
(function () {
  "use strict";
  function sortValue(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell ? cell.getAttribute("data-value") : null;
    if (raw === null || raw === "") {
      return null;
    }
    if (!numeric) {
      return raw;
    }
    var number = Number(raw);
    return isNaN(number) ? null : number;
  }
  function compareValues(a, b, numeric) {
    if (numeric) {
      return a < b ? -1 : (a > b ? 1 : 0);
    }
    return a.localeCompare(b, undefined, {numeric: true, sensitivity: "base"});
  }
  function showDirection(table, header, ascending) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      var active = cell === header;
      var direction = ascending ? "ascending" : "descending";
      cell.setAttribute("aria-sort", active ? direction : "none");
      var arrow = cell.querySelector(".arrow");
      if (arrow) {
        arrow.textContent = active ? (ascending ? " \u25B2" : " \u25BC") : "";
      }
    });
  }
  function sortTable(table, header, index) {
    var numeric = header.getAttribute("data-type") === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var entries = Array.prototype.map.call(body.rows, function (row, position) {
      return {row: row, value: sortValue(row, index, numeric), position: position};
    });
    entries.sort(function (a, b) {
      if (a.value === null || b.value === null) {
        if (a.value === b.value) {
          return a.position - b.position;
        }
        return a.value === null ? 1 : -1;
      }
      var order = compareValues(a.value, b.value, numeric);
      if (order === 0) {
        return a.position - b.position;
      }
      return ascending ? order : -order;
    });
    entries.forEach(function (entry) {
      body.appendChild(entry.row);
    });
    showDirection(table, header, ascending);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || table.tBodies.length === 0) {
      return;
    }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      var button = header.querySelector("button");
      if (button) {
        button.addEventListener("click", function () {
          sortTable(table, header, index);
        });
      }
    });
  });
})();
"""

_SVG_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SVG_NAMESPACE = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_SVG_ID = re.compile(r'\bid="([^"]+)"')
_SVG_REFERENCE = re.compile(r'(href="#|url\(#)([^")]+)')


def render_html(results: Mapping[str, Any]) -> str:
    """The whole report page; ``results`` as ``validate_results`` accepts them."""
    rows = latency_rows_for_table(results)
    title = f"rfloc benchmark: {results['suite'].get('name', 'unnamed suite')}"
    sections = [
        _header(results, title),
        _pareto_section(results, rows),
        _distribution_section(results),
        _latency_table_section(rows),
        _accuracy_table_section(results),
        _not_measured_section(results),
    ]
    return _page(title, "\n".join(sections))


def write_html(results: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``render_html(results)`` atomically to ``path``."""
    write_text_atomic(path, render_html(results))
    return Path(path)


def _page(title: str, body: str) -> str:
    head = [
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_text(_CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{_text(title)}</title>",
        f"<style>{_STYLE}</style>",
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            *head,
            "</head>",
            "<body>",
            body,
            f"<script>{_SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _header(results: Mapping[str, Any], title: str) -> str:
    suite = results["suite"]
    started, finished = results["started_utc"] or "?", results["finished_utc"] or "?"
    parts = [f"<header><h1>{_text(title)}</h1>"]
    if suite.get("description"):
        parts.append(f"<p>{_text(suite['description'])}</p>")
    parts.append(f"<p>Started {_text(started)}, finished {_text(finished)} (UTC).</p>")
    parts += [
        f'<p class="warning"><strong>Busy machine.</strong> {_text(busy.warning())}</p>'
        for busy in busy_machines(results)
    ]
    parts.append("<h2>Hardware</h2>")
    parts.append(_table(_ENVIRONMENT_TABLE, environments_of(results), sortable=False))
    items = "".join(_hardware_item(use) for use in hardware_use(results))
    parts.append(f"<p>Which backends ran where:</p><ul>{items}</ul>")
    parts.append(
        '<p class="note">Latencies compare only within one machine; accuracy does not depend '
        "on the machine.</p></header>"
    )
    return "\n".join(parts)


def _hardware_item(use: HardwareUse) -> str:
    item = f"<li><strong>{_text(use.machine)}</strong>: measured {_pairs(use.measured)}"
    if use.not_measured:
        item += f"; not measured: {_pairs(use.not_measured)} (see <em>Not measured</em>)"
    return item + "</li>"


def _pairs(pairs: Sequence[tuple[str, str]]) -> str:
    if not pairs:
        return "nothing"
    return ", ".join(f"{_text(backend)} on {_text(device)}" for backend, device in pairs)


def _pareto_section(results: Mapping[str, Any], rows: list[dict[str, Any]]) -> str:
    baselines_m = _baseline_medians_m(results)
    figures = [
        _pareto_figure(index, key, group, baselines_m, results["crb_rmse_m"])
        for index, (key, group) in enumerate(group_by_backend(rows).items())
    ]
    intro = (
        '<p class="note">One plot per backend and machine: p50 latency at batch 1 (log scale) '
        "against the model's median position error. The step line is the Pareto front (no "
        "other model is both faster and more accurate); dashed lines are the baselines, the "
        f"dotted line the {_text(_BOUND_LABEL)}.</p>"
    )
    body = "\n".join(figures) if figures else "<p>No latency was measured.</p>"
    return (
        f'<section id="pareto"><h2>Latency against accuracy</h2>{intro}'
        f'<div class="figures">{body}</div></section>'
    )


def _pareto_figure(
    index: int,
    key: BackendKey,
    group: list[dict[str, Any]],
    baselines_m: list[tuple[str, float]],
    crb_m: float | None,
) -> str:
    name = f"{key.backend} on {key.machine} ({key.device}, {key.precision})"
    batch = _plotted_batch(group)
    timed = [row for row in group if row["batch_size"] == batch and _positive(row["p50_ms"])]
    points = [row for row in timed if _finite(row["error_median_m"])]
    unplotted = sorted({row["model"] for row in timed} - {row["model"] for row in points})
    if not points:
        return (
            f'<div class="pareto-missing"><h3>{_text(name)}</h3><p>Nothing to plot: no model '
            "has both a latency and an accuracy here; see <em>Not measured</em>.</p></div>"
        )
    figure = _draw_pareto(name, batch, points, baselines_m, crb_m)
    caption = _text(name)
    if unplotted:
        caption += f"; left out, no accuracy: {_text(', '.join(unplotted))}"
    attributes = f'data-backend="{_text(key.backend)}" data-machine="{_text(key.machine)}"'
    return (
        f'<figure class="pareto" {attributes}>{_svg(figure, f"pareto{index}")}'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _plotted_batch(group: list[dict[str, Any]]) -> int | None:
    """Batch 1 where it was measured, else the smallest measured batch."""
    batches = {row["batch_size"] for row in group if row["status"] == "ok"}
    return 1 if 1 in batches else min(batches, default=None)


def _draw_pareto(
    name: str,
    batch: int | None,
    points: list[dict[str, Any]],
    baselines_m: list[tuple[str, float]],
    crb_m: float | None,
) -> Figure:
    figure, axes = _new_figure(_PARETO_SIZE_IN)
    families = list(dict.fromkeys(str(row["family"]) for row in points))
    for color, family in enumerate(families):
        members = [row for row in points if str(row["family"]) == family]
        axes.scatter(
            [row["p50_ms"] for row in members],
            [row["error_median_m"] for row in members],
            color=f"C{color % _COLOR_CYCLE}",
            label=_plain(family),
            zorder=3,
        )
    for row in points:
        axes.annotate(
            _plain(str(row["model"])),
            (row["p50_ms"], row["error_median_m"]),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=8,
        )
    _draw_front(axes, [(row["p50_ms"], row["error_median_m"]) for row in points])
    _draw_references(axes, baselines_m, crb_m, first_color=len(families))
    axes.set_xscale("log")
    axes.xaxis.set_major_formatter(LogFormatter())
    axes.xaxis.set_minor_formatter(LogFormatter())
    errors_m = [row["error_median_m"] for row in points] + [m for _, m in baselines_m]
    if _log_scale_fits([*errors_m, *([] if crb_m is None else [crb_m])]):
        axes.set_yscale("log")
    axes.set_xlabel(f"p50 latency at batch {batch} (ms)")
    axes.set_ylabel("median position error (m)")
    axes.set_title(_plain(name))
    axes.grid(True, which="both", alpha=0.3)
    figure.legend(loc="outside lower center", ncol=3, fontsize="small")
    return figure


def _draw_front(axes: Axes, points: list[tuple[float, float]]) -> None:
    front = pareto_front(points)
    axes.step(
        [points[index][0] for index in front],
        [points[index][1] for index in front],
        where="post",
        color="black",
        linewidth=1.0,
        alpha=0.7,
        label="Pareto front",
        zorder=2,
    )


def _draw_references(
    axes: Axes, baselines_m: list[tuple[str, float]], crb_m: float | None, *, first_color: int
) -> None:
    for offset, (name, median_m) in enumerate(baselines_m):
        axes.axhline(
            median_m,
            color=f"C{(first_color + offset) % _COLOR_CYCLE}",
            linestyle="--",
            linewidth=1.0,
            label=f"{_plain(name)} (baseline)",
        )
    if crb_m is not None and _positive(crb_m):
        axes.axhline(crb_m, color="black", linestyle=":", linewidth=1.2, label=_BOUND_LABEL)


def _distribution_section(results: Mapping[str, Any]) -> str:
    figures = [_cdf_figure(results), _calibration_figure(results)]
    return (
        '<section id="distributions"><h2>Error distributions and calibration</h2>'
        f'<div class="figures">{"".join(figures)}</div></section>'
    )


def _cdf_figure(results: Mapping[str, Any]) -> str:
    labels = _accuracy_labels(results)
    series = [
        (labels[index], row)
        for index, row in enumerate(results["accuracy"])
        if row["status"] == "ok" and row["error_cdf"] and _finite_values(row["error_cdf"])
    ]
    if not series:
        return "<p>No error distribution was recorded.</p>"
    figure, axes = _new_figure(_CDF_SIZE_IN)
    drawn_m: list[float] = []
    for label, row in series:
        errors_m = _finite_values(row["error_cdf"])
        drawn_m += errors_m
        _draw_quantile_cdf(axes, errors_m, len(row["error_cdf"]["errors_m"]), label, row["kind"])
    crb_m = results["crb_rmse_m"]
    if crb_m is not None and _positive(crb_m):
        axes.axvline(crb_m, color="black", linestyle=":", label=_BOUND_LABEL)
        drawn_m.append(crb_m)
    if _log_scale_fits(drawn_m):
        axes.set_xscale("log")
    axes.set_ylim(0.0, 1.0)
    axes.set_xlabel("position error (m)")
    axes.set_ylabel("fraction of test samples")
    axes.set_title("Position error CDF (dashed: baselines)")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    return f'<figure class="cdf">{_svg(figure, "cdf")}<figcaption>Error CDFs</figcaption></figure>'


def _draw_quantile_cdf(
    axes: Axes, errors_m: list[float], total: int, label: str, kind: str
) -> None:
    """Missing or infinite quantiles are misses: the curve stops short of 1."""
    sorted_m = sorted(errors_m)
    fractions = [(rank + 1) / total for rank in range(len(sorted_m))]
    axes.step(
        [sorted_m[0], *sorted_m],
        [0.0, *fractions],
        where="post",
        linestyle="--" if kind == "baseline" else "-",
        label=_plain(label),
    )


def _calibration_figure(results: Mapping[str, Any]) -> str:
    labels = _accuracy_labels(results)
    series = [
        (labels[index], row["calibration"])
        for index, row in enumerate(results["accuracy"])
        if row["status"] == "ok" and row["calibration"] and row["calibration"]["expected"]
    ]
    if not series:
        return "<p>No calibration curve was recorded.</p>"
    figure, axes = _new_figure(_CALIBRATION_SIZE_IN)
    axes.plot([0.0, 1.0], [0.0, 1.0], color="grey", linestyle="--", label="ideal")
    for label, calibration in series:
        axes.plot(
            calibration["expected"],
            calibration["observed"],
            marker="o",
            markersize=2.5,
            label=_plain(label),
        )
    axes.set_xlim(0.0, 1.0)
    axes.set_ylim(0.0, 1.0)
    axes.set_aspect("equal")
    axes.set_xlabel(f"expected fraction inside the k-{_SIGMA} ellipse")
    axes.set_ylabel(f"observed fraction inside the k-{_SIGMA} ellipse")
    axes.set_title("Calibration")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    caption = "Calibration: above the diagonal is under-confident, below over-confident"
    return (
        f'<figure class="calibration">{_svg(figure, "calibration")}'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _latency_table_section(rows: list[dict[str, Any]]) -> str:
    return (
        '<section id="latency"><h2>Every latency cell with its accuracy</h2>'
        '<p class="note">Click a header to sort by it; empty cells sort last.</p>'
        f"{_table(_LATENCY_TABLE, rows, sortable=True)}</section>"
    )


def _accuracy_table_section(results: Mapping[str, Any]) -> str:
    bound_m = results["crb_rmse_m"]
    bound = "not available" if bound_m is None else f"{_text(format_number(bound_m))} m"
    return (
        '<section id="accuracy"><h2>Accuracy</h2>'
        '<p class="note">Models and baselines on the same held-out test set.</p>'
        f"{_table(_ACCURACY_TABLE, sorted_accuracy_rows(results), sortable=True)}"
        f"<p>{_text(_BOUND_LABEL)} of the test set: <strong>{bound}</strong>.</p></section>"
    )


def _not_measured_section(results: Mapping[str, Any]) -> str:
    cells = [
        {"what": cell.what, "status": cell.status, "reason": cell.reason}
        for cell in failed_cells(results)
    ]
    body = (
        _table(_FAILED_TABLE, cells, sortable=True) if cells else "<p>Every cell was measured.</p>"
    )
    return f'<section id="not-measured"><h2>Not measured</h2>{body}</section>'


def _table(columns: Sequence[_Column], rows: Iterable[Mapping[str, Any]], *, sortable: bool) -> str:
    head = "".join(_header_cell(column, sortable) for column in columns)
    body = "".join(_body_row(columns, row) for row in rows)
    css = ' class="sortable"' if sortable else ""
    return (
        f'<div class="table-wrap"><table{css}><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _header_cell(column: _Column, sortable: bool) -> str:
    if not sortable:
        return f'<th scope="col">{_text(column.header)}</th>'
    kind = "number" if column.numeric else "text"
    return (
        f'<th scope="col" data-type="{kind}" aria-sort="none"><button type="button">'
        f'{_text(column.header)}<span class="arrow" aria-hidden="true"></span></button></th>'
    )


def _body_row(columns: Sequence[_Column], row: Mapping[str, Any]) -> str:
    cells = "".join(_body_cell(row.get(column.key), column.numeric) for column in columns)
    status = row.get("status")
    css = f' class="status-{_text(status)}"' if isinstance(status, str) else ""
    return f"<tr{css}>{cells}</tr>"


def _body_cell(value: Any, numeric: bool) -> str:
    shown = ", ".join(str(item) for item in value) if isinstance(value, list) else value
    css = ' class="num"' if numeric else ""
    return f'<td{css} data-value="{_text(_sort_value(value))}">{_text(format_number(shown))}</td>'


def _sort_value(value: Any) -> str:
    """What the page's script sorts by: a number JavaScript's Number() reads, or text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return repr(value) if isinstance(value, float) else str(value)


def _baseline_medians_m(results: Mapping[str, Any]) -> list[tuple[str, float]]:
    labels = _accuracy_labels(results)
    return [
        (labels[index], float(row["error_median_m"]))
        for index, row in enumerate(results["accuracy"])
        if row["kind"] == "baseline" and row["status"] == "ok" and _finite(row["error_median_m"])
    ]


def _accuracy_labels(results: Mapping[str, Any]) -> list[str]:
    """Each accuracy row's name, with its scenario where the results hold several."""
    rows = results["accuracy"]
    several_scenarios = len({row["scenario"] for row in rows}) > 1
    return [
        f"{row['model']} ({row['scenario']})" if several_scenarios else str(row["model"])
        for row in rows
    ]


def _finite_values(error_cdf: Mapping[str, Any]) -> list[float]:
    return [float(value) for value in error_cdf.get("errors_m") or [] if _finite(value)]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value: Any) -> bool:
    return _finite(value) and value > 0


def _log_scale_fits(values: Iterable[float]) -> bool:
    """Log scale where every value is positive and they span more than two decades."""
    finite = [value for value in values if _finite(value)]
    if not finite or min(finite) <= 0:
        return False
    return max(finite) / min(finite) > _LOG_SCALE_MIN_SPREAD


def _new_figure(size_in: tuple[float, float]) -> tuple[Figure, Axes]:
    figure = Figure(figsize=size_in, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _svg(figure: Figure, prefix: str) -> str:
    """The figure as an ``<svg>`` element to inline in HTML: no XML prologue, namespaces,
    comments or metadata, and its ids prefixed so that several plots on a page never clash."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata=_NO_SVG_METADATA)
    text = buffer.getvalue()
    svg = _SVG_COMMENT.sub("", text[text.index("<svg") :])
    svg = _SVG_NAMESPACE.sub("", svg).replace("xlink:href=", "href=")
    svg = _SVG_ID.sub(lambda match: f'id="{prefix}-{match[1]}"', svg)
    return _SVG_REFERENCE.sub(lambda match: f"{match[1]}{prefix}-{match[2]}", svg)


def _plain(text: str) -> str:
    """Text matplotlib draws as is, never as mathtext."""
    return text.replace("$", r"\$")


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)
