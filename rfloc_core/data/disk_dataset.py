"""``DiskDataset``: reads what ``simulate_to_disk`` wrote, after checking it is what you asked for.

Opening verifies the manifest, every shard's SHA-256 (unless ``verify_checksums=False``) and
that the stored feature configuration equals the requested one, since a model trained on
one front end gives wrong positions on another.
"""

from __future__ import annotations

import bisect
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py  # type: ignore[import-untyped]
import numpy as np
import torch
from torch.utils.data import Dataset

from rfloc_core.data.dataset_folder import (
    FORMAT_NAME,
    MANIFEST_HASH_KEY,
    MANIFEST_NAME,
    checked_shard_file,
    manifest_sha256,
)
from rfloc_core.data.datasets import ITEM_DTYPES, Item
from rfloc_core.data.errors import ChecksumError, DatasetError, FeatureMismatchError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.data.storage import FORMAT_VERSION
from rfloc_core.data.validation import ModelT, validate_config
from rfloc_core.hashing import sha256_file

READABLE_VERSIONS = (1, 2, 3)
"""Older formats still read: version 1 shards lack ``receivers_m``, which is the manifest
scenario's fixed network in every row (version 1 had no random networks); versions 1 and 2
carry no manifest hash; versions 1 to 3 lack ``measured_rss_dbm``, which reads as NaN
(``measures_rss`` is False), so models train and run on them but the classical estimators
cannot."""


def read_manifest(root: Path) -> dict[str, Any]:
    if not root.is_dir():
        raise DatasetError(
            f"{root} is not a folder; give the folder that `rfloc simulate --out` wrote"
        )
    path = root / MANIFEST_NAME
    if not path.is_file():
        raise DatasetError(
            f"{root} has no {MANIFEST_NAME}, so it is not an rfloc dataset or its generation "
            "did not finish; rerun `rfloc simulate` into it"
        )
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path} is not valid JSON ({error}); regenerate the dataset") from None
    if not isinstance(manifest, dict):
        raise DatasetError(f"{path} is not a JSON object; regenerate the dataset")
    readable = (*READABLE_VERSIONS, FORMAT_VERSION)
    if manifest.get("format") != FORMAT_NAME or manifest.get("format_version") not in readable:
        raise DatasetError(
            f"{path} describes format {manifest.get('format')!r} version "
            f"{manifest.get('format_version')!r}, but this rfloc reads {FORMAT_NAME!r} versions "
            f"{', '.join(map(str, readable))}; regenerate the dataset with this version"
        )
    if manifest["format_version"] >= 3 and manifest.get(MANIFEST_HASH_KEY) != manifest_sha256(
        manifest
    ):
        raise ChecksumError(
            f"{path} was changed after rfloc wrote it: its contents do not match its "
            f"{MANIFEST_HASH_KEY}; regenerate the dataset rather than editing its manifest"
        )
    return manifest


def _manifest_field(manifest: dict[str, Any], key: str, model: type[ModelT], path: Path) -> ModelT:
    value = manifest.get(key)
    if not isinstance(value, dict):
        raise DatasetError(f"{path} field {key} must be a JSON object; regenerate the dataset")
    return validate_config(model, value, f"{path} field {key}")


def _shard_entries(manifest: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    shards = manifest.get("shards")
    fields = {"file": str, "first_index": int, "count": int, "sha256": str}
    if (
        isinstance(shards, list)
        and shards
        and all(
            isinstance(shard, dict)
            and all(isinstance(shard.get(key), kind) for key, kind in fields.items())
            for shard in shards
        )
    ):
        return shards
    raise DatasetError(
        f"{path} field shards must be a non-empty list of {{file, first_index, count, "
        "sha256}} entries; regenerate the dataset"
    )


def dataset_scenario(root: str | Path) -> ScenarioConfig:
    """The scenario a dataset folder's manifest records, read without opening its shards."""
    path = Path(root)
    return _manifest_field(read_manifest(path), "scenario", ScenarioConfig, path / MANIFEST_NAME)


def _config_difference(stored: FeatureConfig, requested: FeatureConfig) -> str:
    fields = [
        f"{name}={getattr(stored, name)!r} (requested {getattr(requested, name)!r})"
        for name in FeatureConfig.model_fields
        if getattr(stored, name) != getattr(requested, name)
    ]
    return ", ".join(fields)


class DiskDataset(Dataset[Item]):
    """Map-style dataset over a folder written by ``simulate_to_disk``; with ``count``, only its
    first ``count`` samples (all of them when it holds fewer). Its features must equal
    ``feature_config`` (the default ``FeatureConfig()`` when None) unless ``any_features``."""

    def __init__(
        self,
        root: str | Path,
        feature_config: FeatureConfig | None = None,
        *,
        verify_checksums: bool = True,
        count: int | None = None,
        any_features: bool = False,
    ) -> None:
        self.root = Path(root)
        manifest = read_manifest(self.root)
        self.manifest = manifest
        manifest_path = self.root / MANIFEST_NAME
        self.feature_config = _manifest_field(
            manifest, "feature_config", FeatureConfig, manifest_path
        )
        requested = feature_config or FeatureConfig()
        if self.feature_config != requested and not any_features:
            raise FeatureMismatchError(
                f"dataset {self.root} was made with different features: "
                f"{_config_difference(self.feature_config, requested)}; regenerate it with the "
                "requested feature config or request the stored one"
            )
        self.scenario = _manifest_field(manifest, "scenario", ScenarioConfig, manifest_path)
        if not isinstance(manifest.get("seed"), int) or not isinstance(manifest.get("count"), int):
            raise DatasetError(
                f"{manifest_path} fields seed and count must be integers; regenerate the dataset"
            )
        self.seed = int(manifest["seed"])
        self.shards: list[dict[str, Any]] = _shard_entries(manifest, manifest_path)
        self._starts = [int(shard["first_index"]) for shard in self.shards]
        self.stored_count = int(manifest["count"])
        self._length = self.stored_count if count is None else min(count, self.stored_count)
        self.measures_rss = manifest["format_version"] >= 4
        for shard in self.shards:
            path = checked_shard_file(self.root, shard["file"], manifest_path)
            if not path.is_file():
                raise DatasetError(
                    f"shard {path} listed in the manifest is missing; regenerate the dataset"
                )
            if verify_checksums:
                actual = sha256_file(path)
                if actual != shard["sha256"]:
                    raise ChecksumError(
                        f"shard {path} is corrupt: its SHA-256 is {actual[:16]}… but the manifest "
                        f"records {shard['sha256'][:16]}…; regenerate the dataset"
                    )
        self._handles: dict[int, h5py.File] = {}
        self._pid = os.getpid()
        self._network_m: torch.Tensor | None = None
        if manifest["format_version"] == 1:
            from rfloc_core.data.geometry import receivers_enu_m

            enu_m = receivers_enu_m(self.scenario)[:, :2]
            self._network_m = torch.as_tensor(enu_m, dtype=ITEM_DTYPES["receivers_m"])

    def __len__(self) -> int:
        return self._length

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handles"] = {}
        return state

    def _shard(self, number: int) -> h5py.File:
        if self._pid != os.getpid():
            self._handles, self._pid = {}, os.getpid()
        handle = self._handles.get(number)
        if handle is None:
            handle = h5py.File(self.root / self.shards[number]["file"], "r")
            self._handles[number] = handle
        return handle

    def _locate(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self._length:
            raise IndexError(f"sample index {index} outside 0..{self._length - 1}")
        number = bisect.bisect_right(self._starts, index) - 1
        return number, index - self._starts[number]

    def __getitem__(self, index: int) -> Item:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: Sequence[int]) -> list[Item]:
        """Items for ``indices``, reading each shard once with its rows in increasing order."""
        located = [self._locate(int(index)) for index in indices]
        rows_by_shard: dict[int, list[int]] = {}
        for number, row in located:
            rows_by_shard.setdefault(number, []).append(row)
        arrays: dict[tuple[int, int], Item] = {}
        for number, rows in rows_by_shard.items():
            unique = sorted(set(rows))
            shard = self._shard(number)
            columns = {
                key: self._column(shard, key, unique).to(dtype)
                for key, dtype in ITEM_DTYPES.items()
            }
            for position, row in enumerate(unique):
                arrays[(number, row)] = {key: value[position] for key, value in columns.items()}
        return [arrays[place] for place in located]

    def _column(self, shard: h5py.File, key: str, rows: list[int]) -> torch.Tensor:
        if key == "receivers_m" and self._network_m is not None:
            return self._network_m.expand(len(rows), -1, -1)
        if key == "measured_rss_dbm" and not self.measures_rss:
            return torch.full((len(rows), self.scenario.n_receivers), float("nan"))
        return torch.as_tensor(np.asarray(shard[key][rows]))

    @property
    def positions_m(self) -> torch.Tensor:
        """``(len(self), 2)`` float32 true east, north of every sample, metres, read without
        the features."""
        parts = []
        for number, shard_entry in enumerate(self.shards):
            first = int(shard_entry["first_index"])
            if first >= self._length:
                break
            rows = min(int(shard_entry["count"]), self._length - first)
            parts.append(torch.as_tensor(np.asarray(self._shard(number)["position_m"][:rows])))
        return torch.cat(parts).to(ITEM_DTYPES["position_m"])

    def batch(self, indices: Sequence[int]) -> Item:
        """Stacked items ``(len(indices), ...)``."""
        items = self.__getitems__(indices)
        return {key: torch.stack([item[key] for item in items]) for key in ITEM_DTYPES}

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles = {}
