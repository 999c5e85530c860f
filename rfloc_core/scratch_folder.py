"""A private scratch folder under the system's temporary folder, named after the process that
made it, so that what a killed process left behind is recognised and removed by the next one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive, and not ours to judge
    return True


def remove_left_by_dead_processes(prefix: str, parent: Path | None = None) -> list[Path]:
    """Remove ``<prefix><pid>-*`` folders in ``parent`` (the temporary folder) whose process
    no longer runs; return what was removed. A folder of a running process is never touched."""
    parent = Path(parent or tempfile.gettempdir())
    removed = []
    for path in parent.glob(f"{prefix}*-*"):
        pid_text = path.name.removeprefix(prefix).split("-", 1)[0]
        if not pid_text.isdigit() or not path.is_dir() or _alive(int(pid_text)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            removed.append(path)
    return removed


@contextlib.contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A new empty folder ``<prefix><pid>-<random>``, removed on exit; folders of the same
    prefix that killed processes left are removed first."""
    remove_left_by_dead_processes(prefix)
    with tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-") as folder:
        yield Path(folder)
