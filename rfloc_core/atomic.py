"""Atomic file writes: write beside the target, then rename over it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces ``target``.

    A crash or an exception leaves the previous file (or none), never half a file.
    """
    target = Path(target)
    with _temporary_in(target.parent, prefix=f".{target.name}.") as temporary:
        yield temporary
        _publish(temporary, target)


def write_named_atomic(
    folder: str | os.PathLike[str], write: Callable[[Path], str], *, temporary_of: str
) -> Path:
    """Let ``write`` fill a temporary file in ``folder`` and return the name the file is to
    have (say one derived from its contents); the file then appears under that name at once.

    The temporary file is named as ``atomic_path(folder / temporary_of)`` would name its own.
    Returns the written file's path.
    """
    folder = Path(folder)
    with _temporary_in(folder, prefix=f".{temporary_of}.") as temporary:
        target = folder / write(temporary)
        if target.parent != folder:
            raise ValueError(f"write() must return a plain file name, got {target.name!r}")
        _publish(temporary, target)
    return target


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def _temporary_in(folder: Path, prefix: str) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


def _publish(temporary: Path, target: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    # mkstemp's 0600, or a writer that recreates the file with its own mode, would make the
    # output private; give it what a plain open() would.
    os.chmod(temporary, 0o666 & ~umask)
    with open(temporary, "rb+") as written:
        os.fsync(written.fileno())
    os.replace(temporary, target)
