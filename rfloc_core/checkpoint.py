"""Checkpoints: a folder holding the weights in safetensors and the config as JSON.

Layout of ``CKPT/``::

    weights-<sha16>.safetensors  the model's state dict, written first, under a name of its own
    config.json                  how to rebuild the model, its plugins, the weights' file name and
                                 SHA-256, last, with ``checkpoint_sha256`` over all of it

Replacing config.json is the commit: until then the folder is the old checkpoint, after it the
new one, and only then are the old weights removed. Loading rebuilds the model through
``create_model`` and reads the weights with safetensors, so no pickled code ever runs.
``import rfloc_core.checkpoint`` does not import torch; only ``save_checkpoint`` and
``load_checkpoint`` do.
"""

from __future__ import annotations

import dataclasses
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rfloc_core.__about__ import __version__
from rfloc_core.atomic import write_named_atomic, write_text_atomic
from rfloc_core.checkpoint_config import (
    CONFIG_NAME,
    DTYPES,
    FORMAT_NAME,
    FORMAT_VERSION,
    HASH_KEY,
    RECEIVER_SET_FORMAT_VERSION,
    WEIGHTS_NAME,
    CheckpointConfig,
    CheckpointConfigError,
    CheckpointError,
    CheckpointMismatchError,
    CheckpointMissingError,
    CheckpointPluginError,
    CheckpointWeightsError,
    PluginVersionWarning,
    checkpoint_sha256,
    existing_file,
    is_weights_file_name,
    read_checkpoint_config,
    weights_file_name,
)
from rfloc_core.contract import DEFAULT_RECEIVERS
from rfloc_core.errors import UnknownNameError
from rfloc_core.hashing import sha256_file
from rfloc_core.owned_folder import is_temporary_of
from rfloc_core.registry import get_registry
from rfloc_core.registry._loading import INTERNAL_PLUGIN
from rfloc_core.registry._registry import KNOWN_FAMILY_PACKAGES
from rfloc_core.scratch_folder import scratch_folder
from rfloc_core.specs import BackboneSpec, HeadSpec

if TYPE_CHECKING:
    import torch

    from rfloc_core.model import LocalizationNet, ReceiverSetNet

__all__ = [
    "CONFIG_NAME",
    "DTYPES",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "HASH_KEY",
    "RECEIVER_SET_FORMAT_VERSION",
    "WEIGHTS_NAME",
    "CheckpointConfig",
    "CheckpointConfigError",
    "CheckpointError",
    "CheckpointMismatchError",
    "CheckpointMissingError",
    "CheckpointPluginError",
    "CheckpointWeightsError",
    "PluginVersionWarning",
    "checkpoint_sha256",
    "load_checkpoint",
    "read_checkpoint_config",
    "save_checkpoint",
]


WEIGHTS_SCRATCH_PREFIX = "rfloc-weights-"
"""The prefix of the private folder (under the temporary folder) that weights are written in
before they are copied into the checkpoint."""
SAVES_FOLLOWED = 3
"""How many saves committed while one load reads it follows before it gives up: a training run
saves at most every few seconds, and a load takes less."""


class _Dumpable(Protocol):
    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


def save_checkpoint(
    model: LocalizationNet | ReceiverSetNet,
    folder: str | Path,
    *,
    scenario: _Dumpable | Mapping[str, Any] | None = None,
    features: _Dumpable | Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model`` to ``folder``: new weights beside the old, then config.json atomically,
    then the old weights are removed. A kill at any point leaves the old checkpoint or the new.

    ``scenario``/``features``: pydantic models (``ScenarioConfig``, ``FeatureConfig``) or plain
    dicts; ``extra``: any JSON-serialisable dict (epoch, metrics). Returns the folder.
    """
    from safetensors.torch import save_model

    folder = Path(folder)
    backbone, head = model.backbone_spec, model.head_spec
    config = CheckpointConfig(
        backbone=backbone.name,
        backbone_family=backbone.family,
        backbone_plugin=backbone.plugin,
        backbone_plugin_version=backbone.plugin_version,
        backbone_distribution=_distribution(backbone.plugin),
        head=head.name,
        head_plugin=head.plugin,
        head_plugin_version=head.plugin_version,
        head_distribution=_distribution(head.plugin),
        head_options=dict(model.head_options),
        receivers=model.receivers,
        input_size=(int(model.input_size[0]), int(model.input_size[1])),
        dtype=str(next(model.parameters()).dtype).removeprefix("torch."),
        weights_sha256="",
        rfloc_core_version=__version__,
        scenario=_as_dict(scenario),
        features=_as_dict(features),
        extra=dict(extra or {}),
        receiver_set=_receiver_set(model),
    )
    if config.receiver_set is not None:
        config = dataclasses.replace(config, format_version=RECEIVER_SET_FORMAT_VERSION)
    try:
        config.to_json()  # fail before touching the folder
    except (TypeError, ValueError) as error:
        raise CheckpointConfigError(
            f"scenario, features and extra must be JSON-serialisable, got {error}; convert "
            "tensors with .item() or .tolist()"
        ) from error
    sha256 = ""

    def write_weights(temporary: Path) -> str:
        nonlocal sha256
        # safetensors writes through a temporary file of its own beside the target, which a
        # kill would leave under a name rfloc cannot recognise as its own; so it writes in a
        # private folder, and the bytes are copied into rfloc's temporary.
        # A kill leaves that folder behind; the next save removes it.
        with scratch_folder(WEIGHTS_SCRATCH_PREFIX) as private:
            written = private / WEIGHTS_NAME
            save_model(model, str(written), metadata={"format": "pt"})
            shutil.copyfile(written, temporary)
        sha256 = sha256_file(temporary)
        return weights_file_name(sha256)

    replaced = _committed_weights_file(folder)
    weights = write_named_atomic(folder, write_weights, temporary_of=WEIGHTS_NAME)
    config = dataclasses.replace(config, weights_sha256=sha256, weights_file=weights.name)
    write_text_atomic(folder / CONFIG_NAME, config.to_json())
    _remove_old_weights(folder, replaced, kept=weights.name)
    return folder


def _committed_weights_file(folder: Path) -> str | None:
    try:
        return read_checkpoint_config(folder).weights_file
    except CheckpointError:
        return None


def _remove_old_weights(folder: Path, replaced: str | None, kept: str) -> None:
    """Remove the weights the previous config.json named, and what a killed save left: its
    temporary files, and weights it never committed (recognised by a name that is the start of
    their own SHA-256)."""
    if replaced is not None and replaced != kept:
        (folder / replaced).unlink(missing_ok=True)
    for path in folder.iterdir():
        name = path.name
        if not path.is_file() or name == kept:
            continue
        if is_temporary_of(name, (WEIGHTS_NAME, CONFIG_NAME)) or (
            is_weights_file_name(name)
            and name != WEIGHTS_NAME
            and weights_file_name(sha256_file(path)) == name
        ):
            path.unlink(missing_ok=True)


def _receiver_set(model: LocalizationNet | ReceiverSetNet) -> dict[str, Any] | None:
    spec = getattr(model, "fusion_spec", None)
    if spec is None:
        return None
    return {
        "fusion": spec.name,
        "fusion_plugin": spec.plugin,
        "fusion_plugin_version": spec.plugin_version,
        "fusion_distribution": _distribution(spec.plugin),
        "fusion_options": dict(getattr(model, "fusion_options", {})),
        "receiver_scale_m": float(getattr(model, "receiver_scale_m")),  # noqa: B009
    }


def load_checkpoint(
    folder: str | Path, *, map_location: str | torch.device = "cpu"
) -> tuple[LocalizationNet | ReceiverSetNet, CheckpointConfig]:
    """Rebuild the model from ``folder`` (through ``create_model``) and load its weights.

    The model comes back in training mode on ``map_location``; call ``.eval()`` to infer. A
    save that commits while this reads is followed to the weights it wrote.
    """
    folder = Path(folder)
    config = read_checkpoint_config(folder)
    followed_saves = 0
    while True:
        try:
            return _load_named_weights(folder, config, map_location), config
        except (OSError, CheckpointWeightsError):  # CheckpointMissingError is an OSError
            # A save that committed after config.json was read has removed the weights that
            # config named; the new config.json names the save's own.
            if followed_saves == SAVES_FOLLOWED or (folder / config.weights_file).exists():
                raise
            current = read_checkpoint_config(folder)
            if current.weights_file == config.weights_file:
                raise
            followed_saves += 1
            config = current


def _load_named_weights(
    folder: Path, config: CheckpointConfig, map_location: str | torch.device
) -> LocalizationNet | ReceiverSetNet:
    import torch
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_model

    from rfloc_core.model import create_model
    from rfloc_core.model.receiver_set_net import DEFAULT_RECEIVER_SCALE_M

    weights = existing_file(folder, config.weights_file)
    backbone, head = _resolve(config, folder)
    _warn_if_changed(config.backbone_plugin, config.backbone_plugin_version, backbone)
    if head.plugin != INTERNAL_PLUGIN:
        _warn_if_changed(config.head_plugin, config.head_plugin_version, head)
    if sha256_file(weights) != config.weights_sha256:
        raise CheckpointWeightsError(
            f"{weights} does not have the SHA-256 that config.json records "
            f"({config.weights_sha256[:16]}…), so it is partial or was replaced; save the "
            "checkpoint again or restore both files from one copy"
        )
    try:
        with safe_open(str(weights), framework="pt") as stored:
            shapes = {key: tuple(stored.get_slice(key).get_shape()) for key in stored.keys()}  # noqa: SIM118
    except (SafetensorError, OSError) as error:
        raise CheckpointWeightsError(
            f"{weights} is not a readable safetensors file ({error}); save the checkpoint again"
        ) from error
    receiver_set = config.receiver_set or {}
    _check_stored_options(config, head, folder)
    model = create_model(
        config.backbone,
        head=config.head,
        receivers=config.receivers or DEFAULT_RECEIVERS,
        input_size=config.input_size,
        pretrained=False,
        head_options=config.head_options,
        fusion=config.fusion,
        fusion_options=receiver_set.get("fusion_options"),
        receiver_scale_m=receiver_set.get("receiver_scale_m", DEFAULT_RECEIVER_SCALE_M),
    ).to(device=map_location, dtype=getattr(torch, config.dtype))
    _check_shapes(model, shapes, weights)
    load_model(model, weights, strict=True, device=str(map_location))
    return model


def _check_stored_options(config: CheckpointConfig, head: HeadSpec, folder: Path) -> None:
    from rfloc_core.model.builder_options import check_builder_options
    from rfloc_core.registry import get_registry

    source = f"{folder / CONFIG_NAME} field"
    check_builder_options(
        "head", head.name, head.build, config.head_options, f"{source} head_options"
    )
    if config.receiver_set is not None:
        fusion = get_registry().fusion(str(config.receiver_set["fusion"]))
        options = config.receiver_set.get("fusion_options")
        check_builder_options(
            "fusion", fusion.name, fusion.build, options, f"{source} receiver_set.fusion_options"
        )


def _as_dict(value: _Dumpable | Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None or isinstance(value, Mapping):
        return None if value is None else dict(value)
    return value.model_dump(mode="json")


def _distribution(plugin: str) -> str:
    info = next((p for p in get_registry().plugins if p.name == plugin), None)
    return info.distribution if info else plugin


def _resolve(config: CheckpointConfig, folder: Path) -> tuple[BackboneSpec, HeadSpec]:
    registry = get_registry()
    try:
        backbone = registry.backbone(config.backbone)
    except UnknownNameError as error:
        package = KNOWN_FAMILY_PACKAGES.get(config.backbone_family) or KNOWN_FAMILY_PACKAGES.get(
            config.backbone_plugin, config.backbone_distribution
        )
        raise _plugin_error(
            "backbone", config.backbone, config.backbone_plugin, package, folder
        ) from error
    try:
        head = registry.head(config.head)
    except UnknownNameError as error:
        raise _plugin_error(
            "head", config.head, config.head_plugin, config.head_distribution, folder
        ) from error
    if config.receiver_set is not None:
        try:
            registry.fusion(str(config.receiver_set["fusion"]))
        except UnknownNameError as error:
            raise _plugin_error(
                "fusion",
                str(config.receiver_set["fusion"]),
                str(config.receiver_set["fusion_plugin"]),
                str(config.receiver_set["fusion_distribution"]),
                folder,
            ) from error
    return backbone, head


def _plugin_error(
    kind: str, name: str, plugin: str, package: str, folder: Path
) -> CheckpointPluginError:
    info = next((p for p in get_registry().plugins if p.name == plugin), None)
    if info is None:
        state = "which is not installed"
    elif info.state in ("loaded", "internal"):
        state = f"whose installed version {info.version} does not register it"
    else:
        state = f"which is {info.state} ({info.skip_reason or '; '.join(info.errors)})"
    return CheckpointPluginError(
        f"checkpoint {folder} needs {kind} {name!r} from plugin {plugin!r}, {state}; install "
        f"it with `pip install {package}` and check that RFLOC_PLUGINS and "
        "RFLOC_DISABLE_PLUGINS do not skip it"
    )


def _warn_if_changed(plugin: str, version: str, spec: BackboneSpec | HeadSpec) -> None:
    if (plugin, version) != (spec.plugin, spec.plugin_version):
        warnings.warn(
            f"checkpoint's {spec.name!r} was saved with plugin {plugin!r} {version} but plugin "
            f"{spec.plugin!r} {spec.plugin_version} is installed; loading it anyway",
            PluginVersionWarning,
            stacklevel=3,
        )


def _check_shapes(
    model: LocalizationNet | ReceiverSetNet, stored: dict[str, tuple[int, ...]], path: Path
) -> None:
    expected = model.state_dict()
    # save_model keeps one name per tied tensor, so a name missing from the file is fine when
    # its storage is loaded under another name.
    loaded_storage = {expected[k].data_ptr() for k in stored if k in expected}
    problems = [f"{k} is not in the model" for k in stored if k not in expected]
    for key, tensor in expected.items():
        if key not in stored and tensor.data_ptr() not in loaded_storage:
            problems.append(f"{key} is missing")
        elif key in stored and stored[key] != tuple(tensor.shape):
            problems.append(f"{key} is {stored[key]} but the model has {tuple(tensor.shape)}")
    if problems:
        shown = "; ".join(problems[:3]) + (f"; {len(problems) - 3} more" if problems[3:] else "")
        raise CheckpointMismatchError(
            f"{path} does not fit the model rebuilt from config.json ({shown}); check that "
            "config.json's receivers, input_size and head_options are the ones it was saved with"
        )
