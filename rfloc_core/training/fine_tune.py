"""Fine-tuning: a run that starts from a checkpoint's weights (``init_from``), with the head
or the backbone frozen if asked (``freeze``), and that records its parent.

The parent's head options travel with its weights: the head's ``position_scale_m`` (and a
receiver-set model's ``receiver_scale_m``) give the weights their meaning, so the child keeps
them even on a scenario of another size. Only ``sigma_scale`` is dropped: the child's own
validation set calibrates it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rfloc_core.checkpoint_config import HASH_KEY, CheckpointConfig, read_checkpoint_config
from rfloc_core.data.errors import ConfigError
from rfloc_core.errors import RflocError
from rfloc_core.training.config import TrainConfig

PARENT_KEY = "parent_checkpoint"
"""Where a fine-tuned checkpoint's ``extra`` (and its run's ``run.json``) name the parent."""
RECALIBRATED_OPTIONS = ("sigma_scale",)


@dataclass(frozen=True)
class ParentCheckpoint:
    folder: Path
    config: CheckpointConfig
    sha256: str
    mlflow_run_id: str | None

    def record(self) -> dict[str, Any]:
        """What the child records of its parent: folder, hash, MLflow run."""
        return {
            "path": str(self.folder.resolve()),
            "checkpoint_sha256": self.sha256,
            "mlflow_run_id": self.mlflow_run_id,
        }

    def head_options(self) -> dict[str, Any]:
        options = dict(self.config.head_options)
        for name in RECALIBRATED_OPTIONS:
            options.pop(name, None)
        return options

    def receiver_scale_m(self) -> float | None:
        if self.config.receiver_set is None:
            return None
        return float(self.config.receiver_set["receiver_scale_m"])


def _parent_run_id(folder: Path, config: CheckpointConfig) -> str | None:
    """The MLflow run that made the checkpoint: its own record, else its run folder's run.json."""
    recorded = config.extra.get("mlflow_run_id")
    if isinstance(recorded, str):
        return recorded
    run_json = folder.parent / "run.json"
    try:
        value = json.loads(run_json.read_text(encoding="utf-8")).get("mlflow_run_id")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def read_parent(config: TrainConfig, source: str = "the training config") -> ParentCheckpoint:
    """``config.init_from`` read and checked against ``config.model``: the same backbone,
    head, fusion, receivers and input size, so every weight has a place to go."""
    assert config.init_from is not None
    folder = Path(config.init_from)
    try:
        parent = read_checkpoint_config(folder)
        raw = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except RflocError as error:
        raise ConfigError(f"{source}: field init_from: {error}") from None
    model = config.model
    wanted: dict[str, tuple[object, object]] = {
        "backbone": (parent.backbone, model.backbone),
        "head": (parent.head, model.head),
        "fusion": (parent.fusion, model.fusion),
        "input_size": (tuple(parent.input_size), model.input_size.as_tuple()),
    }
    if model.fusion is None:
        wanted["receivers"] = (parent.receivers, model.receivers)
    differing = [
        f"{name} {stored!r} (model.{name} is {requested!r})"
        for name, (stored, requested) in wanted.items()
        if stored != requested
    ]
    if differing:
        raise ConfigError(
            f"{source}: field init_from: checkpoint {folder} has {', '.join(differing)}; set "
            "the model fields to the checkpoint's, or start from a checkpoint of this model"
        )
    return ParentCheckpoint(folder, parent, str(raw[HASH_KEY]), _parent_run_id(folder, parent))


def load_parent_weights(model: Any, parent: ParentCheckpoint) -> None:
    """Copy the parent's weights into ``model`` (built with the parent's head options)."""
    from rfloc_core.checkpoint import load_checkpoint

    stored, config = load_checkpoint(parent.folder)
    if config.weights_sha256 != parent.config.weights_sha256:
        raise ConfigError(
            f"init_from checkpoint {parent.folder} was saved again while this run read it (is "
            "its run still training?); start this run once that one has stopped, or copy the "
            "checkpoint folder and name the copy"
        )
    model.load_state_dict(stored.state_dict())


def freeze(model: Any, part: str) -> list[Any]:
    """Stop gradients to the ``head``, or to everything but the head (``backbone``), and return
    the frozen modules: the training module keeps them in eval mode, so their normalisation
    statistics stay the parent's too."""
    if part == "none":
        return []
    frozen = (
        [model.head]
        if part == "head"
        else [child for name, child in model.named_children() if name != "head"]
    )
    for module in frozen:
        module.requires_grad_(False)
    return frozen
