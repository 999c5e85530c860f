"""A benchmark's finished cells on disk, so a run cut short resumes where it stopped.

Under ``<out>/cells/``: ``run.json`` (the suite, the environment and the start time, written
when the run starts), ``latency/<model>.json`` (every row of one model) and
``accuracy/<model>-seed<N>.json`` (one trained model's test outcome, or its error). Each file
is written atomically when its cell ends; a cell whose file exists is finished. Delete a
cell's file to measure it again on ``--resume``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from rfloc_core.atomic import write_text_atomic
from rfloc_core.errors import RflocError

CELLS_DIR = "cells"
RUN_JSON = "run.json"
RUNS_DIR = "runs"


class BenchStoreError(RflocError):
    """An output folder that cannot be started or resumed."""


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


class CellStore:
    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out_dir = Path(out_dir)
        self.root = self.out_dir / CELLS_DIR

    def latency_path(self, model: str) -> Path:
        return self.root / "latency" / f"{_safe(model)}.json"

    def accuracy_path(self, model: str, seed: int) -> Path:
        return self.root / "accuracy" / f"{_safe(model)}-seed{seed}.json"

    def run_dir(self, model: str, seed: int) -> Path:
        """The training run folder of one accuracy cell."""
        return self.out_dir / RUNS_DIR / f"{_safe(model)}-seed{seed}"

    def start(self, run: dict[str, Any], *, resume: bool) -> dict[str, Any]:
        """Begin a run, or on ``resume`` continue the one stored; returns the stored run."""
        path = self.root / RUN_JSON
        if path.is_file():
            if not resume:
                raise BenchStoreError(
                    f"{self.out_dir} already holds a benchmark run; pass --resume to finish it, "
                    "or choose a new --out folder"
                )
            stored: dict[str, Any] = self.read(path)
            if stored["suite"] != run["suite"]:
                raise BenchStoreError(
                    f"{self.out_dir} holds a run of a different suite or selection "
                    f"({stored['suite'].get('name')!r}); resume it with the same --suite and "
                    "--only, or choose a new --out folder"
                )
            if stored["environment"]["label"] != run["environment"]["label"]:
                raise BenchStoreError(
                    f"{self.out_dir} was started on {stored['environment']['label']!r}, not on "
                    f"this machine ({run['environment']['label']!r}); resume on the same machine "
                    "or choose a new --out folder"
                )
            return stored
        self.write(path, run)
        return run

    def read(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise BenchStoreError(
                f"expected a readable JSON cell file at {path}, got {error}; delete that file "
                "to measure the cell again"
            ) from error

    def write(self, path: Path, data: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps(data, indent=1, allow_nan=True) + "\n")
