"""``python -m benchmarks.sim_to_real`` end to end at a toy size: the measured world's
recordings are written, imported, the gains estimated, the model fine-tuned, and the report
holds every row before and after."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchmarks import sim_to_real


def test_the_sim_to_real_command_runs_every_step(
    tmp_path: Path, toy_registry: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report"
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "sim_to_real", "--backbone", "toynet", "--steps", "6", "--measured", "60",
            "--fine-tune-fraction", "0.5", "--fine-tune-steps", "4", "--out", str(out),
        ],
    )  # fmt: skip
    sim_to_real.main()
    figures = json.loads((out / "sim_to_real.json").read_text(encoding="utf-8"))
    assert figures["test_samples"] == 30
    assert figures["labelled_samples"] == {"fine-tune": 24, "validate": 6}
    for when in ("before", "after"):
        assert set(sim_to_real.ROWS) <= set(figures[when])
    # The baselines do not change with the model; the model's figures come from its own run.
    assert figures["before"]["rss_mle"] == figures["after"]["rss_mle"]
    assert figures["fine_tune_steps"] == 4
    assert figures["reference_model"]["rmse_m"] > 0
    assert "model RMSE change from fine-tuning" in (out / "sim_to_real.md").read_text("utf-8")
