"""What a checkpoint's config.json records, its errors, and reading it back with every key,
type and the checkpoint hash checked. Torch is never imported here."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rfloc_core.errors import RflocError, UnknownNameError, WeightsError

FORMAT_NAME = "rfloc-checkpoint"
FORMAT_VERSION = 1
RECEIVER_SET_FORMAT_VERSION = 2
"""The version a receiver-set model's checkpoint is written as, so that an rfloc-core that
predates receiver-set models refuses it by version instead of misreading it."""
WEIGHTS_NAME = "weights.safetensors"
"""The weights' name in checkpoints written before ``weights_file``; config.json now names them."""
_WEIGHTS_FILE = re.compile(r"weights(-[0-9a-f]{16})?\.safetensors")
CONFIG_NAME = "config.json"
DTYPES = ("float32", "float16", "bfloat16", "float64")


class CheckpointError(RflocError):
    """A checkpoint folder that cannot be read or turned back into a model."""


class CheckpointMissingError(CheckpointError, FileNotFoundError):
    """The checkpoint folder, its config.json or the weights file it names does not exist."""


class CheckpointConfigError(CheckpointError):
    """A config.json that is not valid JSON, lacks keys, or has an unknown format version."""


class CheckpointWeightsError(CheckpointError, WeightsError):
    """Weights that are truncated, corrupt, or differ from the SHA-256 in config.json."""


class CheckpointMismatchError(CheckpointError, WeightsError):
    """Weights whose names or shapes do not match the model rebuilt from config.json."""


class CheckpointPluginError(CheckpointError, UnknownNameError):
    """The backbone or head a checkpoint needs is not registered by any loaded plugin."""


class PluginVersionWarning(UserWarning):
    """The plugin that provides a checkpoint's model is not the version that saved it."""


@dataclasses.dataclass(frozen=True)
class CheckpointConfig:
    """What config.json records: enough to rebuild the model and to say where it came from."""

    backbone: str
    backbone_family: str
    backbone_plugin: str
    backbone_plugin_version: str
    backbone_distribution: str
    head: str
    head_plugin: str
    head_plugin_version: str
    head_distribution: str
    head_options: dict[str, Any]
    receivers: int | None
    """The channel count of a fixed-network model; None for a receiver-set model."""
    input_size: tuple[int, int]
    """(mel_bins, frames)."""
    dtype: str
    weights_sha256: str
    rfloc_core_version: str
    scenario: dict[str, Any] | None
    features: dict[str, Any] | None
    extra: dict[str, Any]
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION
    receiver_set: dict[str, Any] | None = None
    """For a receiver-set model: ``fusion``, ``fusion_plugin``, ``fusion_plugin_version``,
    ``fusion_distribution``, ``fusion_options`` and ``receiver_scale_m``; None (or absent, in
    checkpoints written before receiver-set models) for a fixed-network model."""
    weights_file: str = WEIGHTS_NAME
    """The weights' file name in the folder: ``weights-<first 16 hex of their SHA-256>``, so a
    new save never overwrites the weights the committed config.json names."""

    @property
    def fusion(self) -> str | None:
        return None if self.receiver_set is None else str(self.receiver_set["fusion"])

    def to_json(self) -> str:
        fields = {"format": "", "format_version": 0} | dataclasses.asdict(self)  # format first
        fields["input_size"] = {"mel_bins": self.input_size[0], "frames": self.input_size[1]}
        fields[HASH_KEY] = checkpoint_sha256(fields)
        return json.dumps(fields, indent=2) + "\n"


HASH_KEY = "checkpoint_sha256"


def weights_file_name(sha256: str) -> str:
    return f"weights-{sha256[:16]}.safetensors"


def is_weights_file_name(name: str) -> bool:
    return _WEIGHTS_FILE.fullmatch(name) is not None


def checkpoint_sha256(stored: Mapping[str, Any]) -> str:
    """SHA-256 of config.json's canonical JSON without this hash itself. config.json holds the
    weights' SHA-256, so this one hash covers the weights and the config together."""
    body = {key: value for key, value in stored.items() if key != HASH_KEY}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_KEY_TYPES: dict[str, type | tuple[type, ...]] = {
    f.name: str for f in dataclasses.fields(CheckpointConfig)
}
_KEY_TYPES |= {"head_options": dict, "input_size": dict, "extra": dict}
_KEY_TYPES |= {"receivers": (int, type(None)), "receiver_set": (dict, type(None))}
_KEY_TYPES |= {"scenario": (dict, type(None)), "features": (dict, type(None))}
_OPTIONAL_KEYS: dict[str, Any] = {"receiver_set": None, "weights_file": WEIGHTS_NAME}
"""Keys that checkpoints written before them lack, and what they read as."""

_RECEIVER_SET_TYPES: dict[str, type | tuple[type, ...]] = {
    "fusion": str,
    "fusion_plugin": str,
    "fusion_plugin_version": str,
    "fusion_distribution": str,
    "fusion_options": dict,
    "receiver_scale_m": (int, float),
}
_KEY_TYPES |= {"format_version": int}


def read_checkpoint_config(folder: str | Path) -> CheckpointConfig:
    """Read and check ``folder/config.json``; torch is not imported."""
    path = existing_file(Path(folder), CONFIG_NAME)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointConfigError(
            f"{path} is not valid JSON ({error}); save the checkpoint again or restore it"
        ) from error
    if not isinstance(raw, dict):
        raise CheckpointConfigError(f"{path} must hold a JSON object; save the checkpoint again")
    versions = (FORMAT_VERSION, RECEIVER_SET_FORMAT_VERSION)
    if raw.get("format") != FORMAT_NAME or raw.get("format_version") not in versions:
        raise CheckpointConfigError(
            f"{path} must be format {FORMAT_NAME!r} version 1 or 2, got "
            f"{raw.get('format')!r} version {raw.get('format_version')!r}; load it with the "
            f"rfloc-core that wrote it ({raw.get('rfloc_core_version', 'unknown')})"
        )
    stored: dict[str, Any] = _OPTIONAL_KEYS | raw
    wrong = {k for k, kind in _KEY_TYPES.items() if not isinstance(stored.get(k, ...), kind)}
    receiver_set = stored.get("receiver_set")
    if isinstance(receiver_set, dict) and any(
        not isinstance(receiver_set.get(k, ...), kind) for k, kind in _RECEIVER_SET_TYPES.items()
    ):
        wrong.add("receiver_set")
    if (stored.get("receivers") is None) == (receiver_set is None):
        wrong.add("receivers")
    if (receiver_set is not None) != (stored.get("format_version") == RECEIVER_SET_FORMAT_VERSION):
        wrong.add("format_version")
    size: dict[str, Any] = stored["input_size"] if "input_size" not in wrong else {}
    if not all(isinstance(size.get(side), int) for side in ("mel_bins", "frames")):
        wrong.add("input_size")
    if stored.get("dtype") not in DTYPES:
        wrong.add("dtype")
    if "weights_file" not in wrong and not is_weights_file_name(stored["weights_file"]):
        wrong.add("weights_file")
    if wrong:
        raise CheckpointConfigError(
            f"{path} lacks or mistypes key(s) {', '.join(sorted(wrong))}; save the checkpoint "
            "again with save_checkpoint"
        )
    if raw.get(HASH_KEY) != checkpoint_sha256(raw):
        raise CheckpointConfigError(
            f"{path} was changed after it was saved: its contents do not match its {HASH_KEY}, "
            "which covers config.json and the weights; save the checkpoint again instead of "
            "editing config.json"
        )
    values: dict[str, Any] = {k: stored[k] for k in _KEY_TYPES}
    values["input_size"] = (size["mel_bins"], size["frames"])
    return CheckpointConfig(**values)


def existing_file(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        what = f"{folder} is not a folder" if not folder.is_dir() else f"{path} does not exist"
        raise CheckpointMissingError(
            f"expected a checkpoint folder holding {CONFIG_NAME} and the weights it names, but "
            f"{what}; pass the folder that save_checkpoint wrote"
        )
    return path
