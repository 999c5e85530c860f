"""The README's quick-benchmark table is the committed quick report's summary, cell for cell,
and the README's claims about that report hold: every model learned and the bound is right."""

from __future__ import annotations

import re
from pathlib import Path

from rfloc_core.bench.headline import DID_NOT_LEARN, headline_table
from rfloc_core.bench.results import load_results
from rfloc_core.bench.results_views import format_number

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "quick" / "results.json"


def _readme_table() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("| model | params M")
    block = text[start : text.index("\n\n", start)]
    rows = [line.strip("|").split("|") for line in block.splitlines()]
    return [[cell.strip() for cell in row] for row in rows if not set(row[0]) <= {"-"}]


def test_the_readme_table_is_the_committed_quick_reports_summary():
    headers, rows = headline_table(load_results(RESULTS))
    assert _readme_table() == [headers, *rows]


def test_no_model_in_the_committed_quick_report_is_flagged_and_the_bound_is_quoted():
    results = load_results(RESULTS)
    _, rows = headline_table(results)
    assert not any(DID_NOT_LEARN in row[0] for row in rows)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bound = re.search(r"Cramér–Rao RMSE bound of that set: ([\d,]+) m", readme)
    assert bound is not None
    assert bound.group(1) == format_number(round(results["crb_rmse_m"]))
