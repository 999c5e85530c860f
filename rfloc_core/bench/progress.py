"""The live display of a benchmark: which model, which backend, which stage, and the ETA.

Cells are weighted by a rough cost in seconds, so the time remaining, which rich extrapolates
from the weight finished per second, is not thrown off by one long training cell.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class BenchProgress:
    def __init__(self, total_cells: int, total_weight: float, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[model]}[/] {task.fields[backend]}"),
            TextColumn("{task.fields[stage]}"),
            BarColumn(),
            TextColumn("cells {task.fields[cells]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not enabled,
        )
        self.finished_cells = 0
        self.total_cells = total_cells
        self._task = self._progress.add_task(
            "benchmark",
            total=total_weight,
            model="",
            backend="",
            stage="starting",
            cells=self._cells_text(),
        )

    def _cells_text(self) -> str:
        return f"{self.finished_cells}/{self.total_cells}"

    def __enter__(self) -> BenchProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def stage(self, model: str, backend: str, stage: str) -> None:
        self._progress.update(
            self._task, model=model, backend=f"· {backend}" if backend else "", stage=stage
        )

    def cell_done(self, weight: float) -> None:
        self.finished_cells += 1
        self._progress.update(self._task, advance=weight, cells=self._cells_text())

    def note(self, text: str) -> None:
        """A line printed above the live display."""
        self._progress.console.print(text, highlight=False, soft_wrap=True)
