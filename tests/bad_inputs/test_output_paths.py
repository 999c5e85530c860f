"""Classes 3 and 7: output paths that cannot be written, or that hold the user's own files.
Each command refuses in one line and leaves every file that was there as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_inputs.conftest import Case, run_case

QUICK_RESULTS = Path(__file__).parents[2] / "benchmarks" / "results" / "quick" / "results.json"


def _a_file(workspace: Path) -> Path:
    blocker = workspace / "notes.txt"
    blocker.write_text("my notes, not a folder")
    return blocker


def _users_folder(workspace: Path) -> Path:
    folder = workspace / "mine"
    folder.mkdir()
    (folder / "report.md").write_text("# my own report\n")
    (folder / "data.csv").write_text("a,b\n1,2\n")
    return folder


def _export_under_a_file(workspace: Path, checkpoint: Path) -> list[str]:
    return ["export", str(checkpoint), "--out", str(_a_file(workspace) / "model.onnx")]


def _export_to_a_folder(workspace: Path, checkpoint: Path) -> list[str]:
    return ["export", str(checkpoint), "--out", str(_users_folder(workspace))]


def _export_over_a_users_file(workspace: Path, checkpoint: Path) -> list[str]:
    target = workspace / "thesis.onnx"
    target.write_text("chapter one")
    return ["export", str(checkpoint), "--out", str(target)]


def _evaluate_under_a_file(workspace: Path, checkpoint: Path) -> list[str]:
    out = _a_file(workspace) / "evaluation"
    return ["evaluate", str(checkpoint), "--n", "4", "--out", str(out)]


def _predict_under_a_file(workspace: Path, checkpoint: Path) -> list[str]:
    out = _a_file(workspace) / "predictions.csv"
    return ["predict", str(checkpoint), "--simulate", "1", "--out", str(out)]


def _plugin_under_a_file(workspace: Path, checkpoint: Path) -> list[str]:
    return ["plugin", "new", "acme", "--out", str(_a_file(workspace))]


def _simulate_into_a_users_folder(workspace: Path, checkpoint: Path) -> list[str]:
    out = _users_folder(workspace)
    return ["simulate", "--n", "2", "--out", str(out), "--overwrite"]


def _bench_into_a_users_folder(workspace: Path, checkpoint: Path) -> list[str]:
    return ["bench", "--only", "toynet", "--out", str(_users_folder(workspace))]


def _report_over_a_users_report(workspace: Path, checkpoint: Path) -> list[str]:
    return ["report", str(QUICK_RESULTS), "--out", str(_users_folder(workspace))]


CASES = [
    Case("export under a file", _export_under_a_file, ("notes.txt",)),
    Case("export to a folder", _export_to_a_folder, ("mine", "folder")),
    Case("export over a user's file", _export_over_a_users_file, ("thesis.onnx", "--overwrite")),
    Case("evaluate under a file", _evaluate_under_a_file, ("notes.txt",)),
    Case("predict under a file", _predict_under_a_file, ("notes.txt",)),
    Case("plugin new under a file", _plugin_under_a_file, ("notes.txt",)),
    Case("simulate --overwrite a user's folder", _simulate_into_a_users_folder, ("data.csv",)),
    Case("bench into a user's folder", _bench_into_a_users_folder, ("data.csv", "--overwrite")),
    Case("report over a user's report", _report_over_a_users_report, ("report.md", "--overwrite")),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_output_paths(case: Case, checkpoint: Path, toy_site: Path, tmp_path: Path) -> None:
    run_case(case, checkpoint, toy_site, tmp_path)
