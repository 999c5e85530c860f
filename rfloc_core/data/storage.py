"""``simulate_to_disk``: a sharded HDF5 dataset with a manifest, every file written atomically.

Layout of ``out_dir``::

    manifest.json          scenario, feature config, seed, counts, per-shard SHA-256
    shard-00000.h5         one HDF5 file per ``shard_size`` samples, one dataset per item key

HDF5 (h5py) because one file holds several named, typed n-dimensional arrays that can be read
one row at a time without loading the shard (what a map-style dataset needs), it is
self-describing and readable from any language, and one file per shard keeps the write atomic
and the checksum simple (a Zarr store is many files; ``.npz`` has no partial reads).

The manifest is written last and is the commit point (see ``dataset_folder``): a folder
without one is an unfinished run, readers refuse it, and replacing a dataset never leaves a mix
of old and new.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py  # type: ignore[import-untyped]
import torch

from rfloc_core.__about__ import __version__
from rfloc_core.atomic import atomic_path
from rfloc_core.data.dataset_folder import (
    FORMAT_NAME,
    begin_write,
    commit_write,
    new_shard_names,
    prepare_dataset_folder,
)
from rfloc_core.data.datasets import ITEM_DTYPES, SyntheticDataset
from rfloc_core.data.errors import ConfigError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import SIGNAL_TYPES, ScenarioConfig
from rfloc_core.hashing import sha256_file

FORMAT_VERSION = 4
"""2: items carry ``receivers_m``; 3: the manifest carries its own SHA-256; 4: items carry
``measured_rss_dbm``, so the classical estimators run on a dataset read back."""
_NUMPY_DTYPES = {torch.float32: "float32", torch.bool: "bool", torch.int64: "int64"}


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_disk_space(out_dir: Path, n: int, sample: dict[str, torch.Tensor]) -> None:
    """Refuse at once, before anything is written, a dataset larger than the free space."""
    bytes_per_sample = sum(value[0].numel() * value.element_size() for value in sample.values())
    needed = n * bytes_per_sample
    free = shutil.disk_usage(_existing_ancestor(out_dir.resolve())).free
    if needed > free:
        raise ConfigError(
            f"{n:,} samples need about {needed / 1e9:,.1f} GB ({bytes_per_sample:,} bytes "
            f"each), but {out_dir} has {free / 1e9:,.1f} GB free; simulate fewer samples or "
            "choose another disk"
        )


def _write_shard(path: Path, items: dict[str, torch.Tensor], first_index: int) -> str:
    """Write one shard atomically and return its SHA-256."""
    with atomic_path(path) as temporary:
        with h5py.File(temporary, "w", track_order=True) as shard:
            shard.attrs["first_index"] = first_index
            for key, dtype in ITEM_DTYPES.items():
                array = items[key].cpu().numpy()
                shard.create_dataset(key, data=array, dtype=_NUMPY_DTYPES[dtype], track_times=False)
        checksum = sha256_file(temporary)
    return checksum


def simulate_to_disk(
    scenario: ScenarioConfig,
    n: int,
    out_dir: str | Path,
    seed: int = 0,
    feature_config: FeatureConfig | None = None,
    shard_size: int = 4096,
    *,
    batch_size: int = 256,
    device: str | torch.device = "cpu",
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Simulate samples ``0 .. n - 1`` and write them as HDF5 shards; returns the manifest path.

    ``progress`` is called with the number of samples finished after each batch.
    """
    if n < 1:
        raise ConfigError(f"n must be at least 1 sample, got {n}")
    if shard_size < 1 or batch_size < 1:
        raise ConfigError(
            f"shard_size and batch_size must be at least 1, got {shard_size} and {batch_size}"
        )
    feature_config = feature_config or FeatureConfig()
    out_dir = Path(out_dir)
    dataset = SyntheticDataset(scenario, n, seed, feature_config, device)
    _check_disk_space(out_dir, n, dataset.batch(range(1)))
    return write_dataset(
        out_dir,
        n,
        lambda first, stop: dataset.batch(range(first, stop)),
        head={
            "scenario": scenario.model_dump(mode="json"),
            "feature_config": feature_config.model_dump(mode="json"),
            "seed": seed,
        },
        tail={
            "noise_device_type": torch.device(device).type,
            "signal_types": [kind.value for kind in SIGNAL_TYPES],
        },
        shard_size=shard_size,
        batch_size=batch_size,
        overwrite=overwrite,
        progress=progress,
    )


def write_dataset(
    out_dir: Path,
    count: int,
    items: Callable[[int, int], dict[str, torch.Tensor]],
    *,
    head: dict[str, Any],
    tail: dict[str, Any],
    shard_size: int,
    batch_size: int,
    overwrite: bool,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write samples ``0 .. count - 1``, made ``items(first, stop)`` a batch at a time, as
    shards, then the manifest: format, generator, ``head`` (scenario, feature config, seed),
    count and shard size, ``tail``, item dtypes and shards. Returns the manifest path."""
    old_shards = prepare_dataset_folder(out_dir, overwrite)
    names = new_shard_names(-(-count // shard_size), old_shards)
    begin_write(out_dir, names, old_shards)
    shards: list[dict[str, Any]] = []
    for number, first in enumerate(range(0, count, shard_size)):
        stop = min(first + shard_size, count)
        parts = []
        for start in range(first, stop, batch_size):
            end = min(start + batch_size, stop)
            parts.append(items(start, end))
            if progress is not None:
                progress(end - start)
        batch = {key: torch.cat([part[key] for part in parts]) for key in ITEM_DTYPES}
        checksum = _write_shard(out_dir / names[number], batch, first)
        shards.append(
            {"file": names[number], "first_index": first, "count": stop - first, "sha256": checksum}
        )
    manifest = (
        {"format": FORMAT_NAME, "format_version": FORMAT_VERSION}
        | {"generator": f"rfloc-core {__version__}"}
        | head
        | {"count": count, "shard_size": shard_size}
        | tail
        | {"items": {key: _NUMPY_DTYPES[dtype] for key, dtype in ITEM_DTYPES.items()}}
        | {"shards": shards}
    )
    return commit_write(out_dir, manifest, old_shards)
