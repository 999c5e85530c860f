"""Folders rfloc writes into: which of their entries rfloc wrote, and refusing the rest.

A command may replace or remove only files it can show it wrote: those its own record (a
dataset manifest, a run's files) lists, and the temporary files its atomic writer leaves
beside them when killed (``.<name>.<random>.tmp``). Anything else in the folder is the
user's, and the command stops before touching the folder.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from rfloc_core.errors import RflocError


class ForeignFilesError(RflocError):
    """An output folder that holds files rfloc did not write."""


def is_temporary_of(name: str, owned: Collection[str]) -> bool:
    """Whether ``name`` is what ``atomic_path`` leaves for one of ``owned`` when killed."""
    return name.endswith(".tmp") and any(name.startswith(f".{target}.") for target in owned)


def foreign_entries(
    folder: Path, owned: Collection[str], temporaries_of: Collection[str] = ()
) -> list[str]:
    """Names in ``folder`` that are neither in ``owned`` nor temporaries of ``owned`` or of
    ``temporaries_of``, sorted. A sub-folder is always foreign: rfloc writes none inside the
    folders it owns."""
    writers = {*owned, *temporaries_of}
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.is_dir() or (entry.name not in owned and not is_temporary_of(entry.name, writers))
    )


def refuse_foreign(
    folder: Path, owned: Collection[str], purpose: str, temporaries_of: Collection[str] = ()
) -> None:
    """Raise ``ForeignFilesError`` when ``folder`` holds entries rfloc did not write."""
    foreign = foreign_entries(folder, owned, temporaries_of)
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        shown = ", ".join(foreign[:3]) + more
        raise ForeignFilesError(
            f"{folder} holds files rfloc did not write ({shown}); rfloc never replaces or "
            f"deletes those, so choose an empty or new folder for {purpose}"
        )


def remove_owned(
    folder: Path, names: Collection[str], temporaries_of: Collection[str] = ()
) -> None:
    """Remove ``names`` (rfloc's own files) and the leftover temporaries of ``names`` and of
    ``temporaries_of`` from ``folder``."""
    writers = {*names, *temporaries_of}
    for entry in folder.iterdir():
        if entry.is_file() and (entry.name in names or is_temporary_of(entry.name, writers)):
            entry.unlink(missing_ok=True)
