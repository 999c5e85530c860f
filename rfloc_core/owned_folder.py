"""Folders rfloc writes into: which of their entries rfloc wrote, and refusing the rest.

A command may replace or remove only files it can show it wrote: those its own record (a
dataset manifest, a run's files) lists, and the temporary files its atomic writer leaves
beside them when killed (``.<name>.<random>.tmp``). Anything else in the folder is the
user's, and the command stops before touching the folder.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from rfloc_core.atomic import write_text_atomic
from rfloc_core.errors import RflocError

RECORD_NAME = ".rfloc-files.json"
"""In an output folder: the names of the entries rfloc wrote there."""
_RECORD_FORMAT = "rfloc-files"


class ForeignFilesError(RflocError):
    """An output folder that holds files rfloc did not write."""


def is_temporary_of(name: str, owned: Collection[str]) -> bool:
    """Whether ``name`` is what ``atomic_path`` leaves for one of ``owned`` when killed."""
    return name.endswith(".tmp") and any(name.startswith(f".{target}.") for target in owned)


def foreign_entries(
    folder: Path, owned: Collection[str], temporaries_of: Collection[str] = ()
) -> list[str]:
    """Names in ``folder`` that are neither in ``owned`` nor temporaries of ``owned`` or of
    ``temporaries_of``, sorted. A sub-folder is foreign unless ``owned`` names it."""
    writers = {*owned, *temporaries_of}
    return sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name not in owned and (entry.is_dir() or not is_temporary_of(entry.name, writers))
    )


def _first_few(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def refuse_foreign(
    folder: Path, owned: Collection[str], purpose: str, temporaries_of: Collection[str] = ()
) -> None:
    """Raise ``ForeignFilesError`` when ``folder`` holds entries rfloc did not write."""
    foreign = foreign_entries(folder, owned, temporaries_of)
    if foreign:
        raise ForeignFilesError(
            f"{folder} holds files rfloc did not write ({_first_few(foreign)}); rfloc never "
            f"replaces or deletes those, so choose an empty or new folder for {purpose}"
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


def recorded_names(folder: Path) -> set[str]:
    """The entries of ``folder`` that its record says rfloc wrote (the record included)."""
    try:
        record = json.loads((folder / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return set()
    if not isinstance(record, dict) or record.get("format") != _RECORD_FORMAT:
        return set()
    names = record.get("files")
    if not isinstance(names, list):
        return set()
    return {RECORD_NAME} | {
        name for name in names if isinstance(name, str) and name and Path(name).name == name
    }


def claim_output_folder(
    folder: Path,
    names: Collection[str],
    purpose: str,
    *,
    overwrite: bool,
    also_owned: Collection[str] = (),
) -> None:
    """Make ``folder`` ready for rfloc to write ``names`` into: refuse it if it holds entries
    rfloc did not write (its record, or ``also_owned`` for folders written before records
    were kept) unless ``overwrite``, then record ``names`` before any of them is written, so
    a run killed half-way leaves a folder the next run recognises as its own."""
    if folder.exists() and not folder.is_dir():
        raise ForeignFilesError(f"{folder} is a file, but {purpose} needs a folder there")
    folder.mkdir(parents=True, exist_ok=True)
    owned = recorded_names(folder) | set(also_owned)
    foreign = foreign_entries(folder, owned, temporaries_of=names)
    if foreign and not overwrite:
        raise ForeignFilesError(
            f"{folder} holds files rfloc did not write ({_first_few(foreign)}); choose "
            f"an empty or new folder for {purpose}, or pass --overwrite to let rfloc replace "
            f"only the files it writes ({', '.join(sorted(names))}) and keep the rest"
        )
    remove_owned(folder, (), temporaries_of=names)
    recorded = sorted((recorded_names(folder) - {RECORD_NAME}) | set(names))
    record = {"format": _RECORD_FORMAT, "files": recorded}
    write_text_atomic(folder / RECORD_NAME, json.dumps(record, indent=2) + "\n")
