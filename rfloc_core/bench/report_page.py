"""The HTML building blocks of the benchmark report: the page shell with its inline CSS and
script (a Content-Security-Policy forbids every fetch), sortable tables, escaped text."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from rfloc_core.bench.results_views import format_number


class Column(NamedTuple):
    header: str
    key: str
    numeric: bool


CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

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


def page(title: str, body: str) -> str:
    head = [
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{text(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{text(title)}</title>",
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


def table(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], *, sortable: bool) -> str:
    head = "".join(_header_cell(column, sortable) for column in columns)
    body = "".join(_body_row(columns, row) for row in rows)
    css = ' class="sortable"' if sortable else ""
    return (
        f'<div class="table-wrap"><table{css}><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _header_cell(column: Column, sortable: bool) -> str:
    if not sortable:
        return f'<th scope="col">{text(column.header)}</th>'
    kind = "number" if column.numeric else "text"
    return (
        f'<th scope="col" data-type="{kind}" aria-sort="none"><button type="button">'
        f'{text(column.header)}<span class="arrow" aria-hidden="true"></span></button></th>'
    )


def _body_row(columns: Sequence[Column], row: Mapping[str, Any]) -> str:
    cells = "".join(_body_cell(row.get(column.key), column.numeric) for column in columns)
    status = row.get("status")
    css = f' class="status-{text(status)}"' if isinstance(status, str) else ""
    return f"<tr{css}>{cells}</tr>"


def _body_cell(value: Any, numeric: bool) -> str:
    shown = ", ".join(str(item) for item in value) if isinstance(value, list) else value
    css = ' class="num"' if numeric else ""
    return f'<td{css} data-value="{text(_sort_value(value))}">{text(format_number(shown))}</td>'


def _sort_value(value: Any) -> str:
    """What the page's script sorts by: a number JavaScript's Number() reads, or text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return repr(value) if isinstance(value, float) else str(value)


def text(value: object) -> str:
    return html.escape(str(value), quote=True)
