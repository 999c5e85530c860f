"""An rfloc dataset folder: what it holds, and how a new dataset replaces an old one.

The manifest is the commit point. A write first records what it will create in
``.rfloc-writing.json``, writes its shards under names the old manifest does not list, then
replaces the manifest atomically, and only then removes the old shards and the record. Killed
at any moment, the folder reads as the old dataset or the new one, never a mix, and the next
run can tell every file rfloc wrote (the manifest's, the record's, their temporaries) from
the user's, which it never touches.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from rfloc_core.atomic import write_text_atomic
from rfloc_core.data.errors import DatasetError
from rfloc_core.owned_folder import refuse_foreign, remove_owned

MANIFEST_NAME = "manifest.json"
FORMAT_NAME = "rfloc-simulated-dataset"
WRITING_NAME = ".rfloc-writing.json"
WRITING_FORMAT = "rfloc-dataset-write"
MANIFEST_HASH_KEY = "manifest_sha256"
_GENERATIONS = ("", "-b", "-c")
"""Shard name suffixes: a new dataset takes the first one the old manifest does not use."""


def shard_name(number: int, generation: str = "") -> str:
    return f"shard-{number:05d}{generation}.h5"


def manifest_sha256(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON without its own hash field: it covers the
    scenario, the features, the seed and every shard's checksum."""
    body = {key: value for key, value in manifest.items() if key != MANIFEST_HASH_KEY}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def checked_shard_file(root: Path, name: object, manifest_path: Path) -> Path:
    """The path of a shard the manifest lists, refused unless it is a plain file name inside
    ``root`` (an absolute path or ``..`` would read outside the dataset)."""
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
        raise DatasetError(
            f"{manifest_path} lists shard file {name!r}, but shards are plain file names "
            "inside the dataset folder; regenerate the dataset"
        )
    return root / name


def _json_object(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _names(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [name for name in value if isinstance(name, str) and name and Path(name).name == name]


def _manifest_shards(manifest: dict[str, Any]) -> list[str]:
    shards = manifest.get("shards")
    if not isinstance(shards, list):
        return []
    return _names([shard.get("file") for shard in shards if isinstance(shard, dict)])


def prepare_dataset_folder(out_dir: Path, overwrite: bool) -> list[str]:
    """Make ``out_dir`` ready for a new dataset; returns the shard files of the dataset it
    replaces, which stay until the new manifest is in place.

    Refuses a folder holding anything rfloc did not write, and a finished dataset unless
    ``overwrite``. Leftovers of a killed write are removed."""
    if not out_dir.exists():
        out_dir.mkdir(parents=True)
        return []
    if not out_dir.is_dir():
        raise DatasetError(f"{out_dir} is a file, not a folder; choose a folder for the dataset")
    manifest = _json_object(out_dir / MANIFEST_NAME)
    finished = manifest is not None and manifest.get("format") == FORMAT_NAME
    old_shards = _manifest_shards(manifest) if finished and manifest is not None else []
    owned = {MANIFEST_NAME, *old_shards} if finished else set()
    writing = _json_object(out_dir / WRITING_NAME)
    if writing is not None and writing.get("format") == WRITING_FORMAT:
        owned |= {WRITING_NAME, *_names(writing.get("files")), *_names(writing.get("replaces"))}
    refuse_foreign(out_dir, owned, "the dataset", temporaries_of=(WRITING_NAME,))
    if finished and not overwrite and manifest is not None:
        raise DatasetError(
            f"{out_dir} already holds an rfloc dataset ({manifest.get('count')} samples); pass "
            "overwrite=True (--overwrite) to replace it"
        )
    kept = {MANIFEST_NAME, *old_shards}
    remove_owned(out_dir, (owned | {WRITING_NAME}) - kept, temporaries_of=kept)
    return old_shards


def new_shard_names(count: int, old_shards: list[str]) -> list[str]:
    """Names for ``count`` new shards that the dataset being replaced does not use."""
    for generation in _GENERATIONS:
        names = [shard_name(number, generation) for number in range(count)]
        if not set(names) & set(old_shards):
            return names
    raise AssertionError("three shard generations cannot all collide")


def begin_write(out_dir: Path, new_shards: list[str], old_shards: list[str]) -> None:
    record = {
        "format": WRITING_FORMAT,
        "files": [*new_shards, MANIFEST_NAME],
        "replaces": old_shards,
    }
    write_text_atomic(out_dir / WRITING_NAME, json.dumps(record, indent=2) + "\n")


def commit_write(out_dir: Path, manifest: dict[str, Any], old_shards: list[str]) -> Path:
    """Write the manifest with its hash (the commit point), then remove what it replaced."""
    manifest = {**manifest, MANIFEST_HASH_KEY: manifest_sha256(manifest)}
    path = out_dir / MANIFEST_NAME
    write_text_atomic(path, json.dumps(manifest, indent=2) + "\n")
    listed = set(_manifest_shards(manifest))
    remove_owned(out_dir, [name for name in old_shards if name not in listed])
    (out_dir / WRITING_NAME).unlink(missing_ok=True)
    return path
