"""The dev_test preset trains convnext_atto on this CPU to beat the weighted centroid."""

from __future__ import annotations

from pathlib import Path

import pytest

from rfloc_core.training import train


@pytest.mark.slow
def test_dev_test_ends_below_the_weighted_centroid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    result = train("dev_test", [f"output_dir={tmp_path.as_posix()}"], progress=False)
    assert result is not None
    model = result.evaluation.row("model").errors
    centroid = result.evaluation.row("weighted_centroid").errors
    print(
        f"dev_test validation mean error: model {model.mean_m:,.0f} m, weighted centroid "
        f"{centroid.mean_m:,.0f} m ({model.count} samples)"
    )
    assert model.count == centroid.count == 500
    assert model.mean_m < centroid.mean_m
    assert model.median_m < centroid.median_m
