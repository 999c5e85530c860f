"""Benchmark results in MLflow: one run in experiment ``rfloc-bench`` with the suite as
parameters, each measured cell as a metric and the report files as artifacts."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

BENCH_EXPERIMENT = "rfloc-bench"
TRACKING_ENV = "MLFLOW_TRACKING_URI"
_METRIC_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. /]")


def tracking_wanted(flag: bool | None) -> bool:
    """``flag`` where given, else whether a tracking server is configured."""
    return bool(os.environ.get(TRACKING_ENV)) if flag is None else flag


def metric_key(*parts: object) -> str:
    """An MLflow metric key from ``parts`` (characters MLflow refuses become ``_``)."""
    return "/".join(_METRIC_KEY_UNSAFE.sub("_", str(part)) for part in parts)


def bench_metrics(results: Mapping[str, Any]) -> dict[str, float]:
    """``p50_ms/<model>/<backend>/<device>-<precision>/b<batch>`` and the like for every
    latency cell measured, ``error_median_m/<model>`` and the like for every accuracy row."""
    metrics: dict[str, float] = {}
    for row in results["latency"]:
        if row["status"] != "ok":
            continue
        where = (row["model"], row["backend"], f"{row['device']}-{row['precision']}")
        for key in ("p50_ms", "p95_ms", "samples_per_s", "peak_memory_mb"):
            if row[key] is not None:
                metrics[metric_key(key, *where, f"b{row['batch_size']}")] = float(row[key])
    for row in results["accuracy"]:
        if row["status"] != "ok":
            continue
        for key in ("error_mean_m", "error_median_m", "error_p95_m", "ratio_to_crb"):
            if row[key] is not None:
                metrics[metric_key(key, row["model"])] = float(row[key])
    return metrics


def log_bench_results(results: Mapping[str, Any], files: Sequence[Path]) -> str:
    """Log ``results`` and the report ``files`` to the tracking server; returns the run id."""
    from rfloc_core.training.tracking import RunTracker

    suite = results["suite"]
    environment = results.get("environment") or {}
    tracker = RunTracker.start(
        run_name=f"bench-{suite.get('name', 'suite')}", experiment=BENCH_EXPERIMENT
    )
    try:
        tracker.log_params(
            {
                "suite": str(suite.get("name")),
                "models": ",".join(suite.get("selected", [])),
                "backends": ",".join(suite.get("latency", {}).get("backends", [])),
                "machine": str(environment.get("label")),
            }
        )
        tracker.set_tags({f"env.{k}": str(v) for k, v in environment.items()})
        metrics = bench_metrics(results)
        if metrics:
            tracker.log_metrics(metrics, step=0)
        for path in files:
            tracker.log_artifact(path, "report")
    except Exception:
        tracker.finish("FAILED")
        raise
    tracker.finish()
    return tracker.run_id
