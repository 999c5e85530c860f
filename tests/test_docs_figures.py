"""The accuracy figures quoted in docs/ are the committed benchmark reports', cell for cell:
the converge table in docs/benchmarks.md and the σ-scaling table in docs/training.md."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from rfloc_core.bench.results import load_results

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _table(doc: str, header_start: str) -> dict[str, list[str]]:
    """The rows of the Markdown table whose header starts with ``header_start``, by first cell."""
    lines = (ROOT / "docs" / doc).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header_start))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.strip().startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _close(quoted: str, value: float) -> bool:
    """Whether ``quoted`` is ``value`` rounded to the digits it shows."""
    decimals = len(quoted.split(".")[1]) if "." in quoted else 0
    return math.isclose(_number(quoted), value, abs_tol=0.5 * 10**-decimals + 1e-9)


def _rows(suite: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    results = load_results(RESULTS / suite / "results.json")
    return results, {row["model"]: row for row in results["accuracy"]}


def test_the_converge_table_is_the_committed_converge_report():
    results, rows = _rows("converge")
    table = _table("benchmarks.md", "| estimator | steps | train s |")
    mle_rmse_m = rows["rss_mle"]["error_rmse_m"]
    names = {"RSS MLE": "rss_mle", "weighted centroid": "weighted_centroid", "prior": "prior"}
    assert {names.get(name, name) for name in table} == set(rows)
    for name, cells in table.items():
        row = rows[names.get(name, name)]
        steps, train_s, median, rmse, to_crb, to_mle, inside_1, inside_2, scale = cells
        assert _close(median, row["error_median_m"]), name
        assert _close(rmse, row["error_rmse_m"]), name
        assert _close(to_crb, row["error_rmse_m"] / results["crb_rmse_m"]), name
        assert _close(to_mle, row["error_rmse_m"] / mle_rmse_m), name
        if row["kind"] == "model":
            assert _close(steps, row["protocol"]["steps"]), name
            assert _close(train_s, row["train_seconds"]), name
            assert _close(inside_1, row["inside_1sigma"]), name
            assert _close(inside_2, row["inside_2sigma"]), name
            assert _close(scale, row["protocol"]["sigma_scale"]), name
    bound = f"Cramér–Rao RMSE bound {results['crb_rmse_m']:,.0f} m"
    assert bound in (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")


def test_the_sigma_scaling_table_is_the_committed_quick_report():
    _, rows = _rows("quick")
    table = _table("training.md", "| backbone | inside 1σ before |")
    assert set(table) == {name for name, row in rows.items() if row["kind"] == "model"}
    for name, (_, inside_1, _, inside_2, factor) in table.items():
        row = rows[name]
        assert _close(inside_1, row["inside_1sigma"]), name
        assert _close(inside_2, row["inside_2sigma"]), name
        assert _close(factor, row["protocol"]["sigma_scale"]), name
