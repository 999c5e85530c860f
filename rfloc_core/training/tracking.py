"""MLflow tracking of a training run: params, per-epoch metrics, environment, artifacts, and
the registered model ``rfloc-<backbone>-<head>``.

The store is MLflow's own default unless ``MLFLOW_TRACKING_URI`` names another (a server, a
folder, a database). Only the global-zero process of a DDP run talks to MLflow.
"""

from __future__ import annotations

import logging
import platform
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import lightning
import torch

from rfloc_core.errors import RflocError, first_line

EXPERIMENT = "rfloc"
"""Experiment name used unless the caller names another."""


def registered_model_name(backbone: str, head: str) -> str:
    return f"rfloc-{backbone}-{head}"


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"model": {"backbone": "x"}}`` -> ``{"model.backbone": "x"}``, values as strings."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, Mapping) and value:
            flat |= flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment() -> dict[str, str]:
    """Versions and the device, as MLflow tags."""
    tags = {
        "env.python": sys.version.split()[0],
        "env.platform": platform.platform(),
        "env.cpu": platform.processor() or platform.machine(),
        "env.torch": torch.__version__,
        "env.lightning": lightning.__version__,
        "env.mlflow": _version("mlflow"),
        "env.rfloc_core": _version("rfloc-core"),
        "env.cuda": str(torch.version.cuda) if torch.cuda.is_available() else "unavailable",
        "env.device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "env.cpu_threads": str(torch.get_num_threads()),
    }
    return tags


class TrackingError(RflocError):
    """The MLflow tracking store stopped answering or refused a request."""


class _Answering:
    """Calls of an MLflow client whose failures (a server gone, a refused request) become one
    ``TrackingError`` naming the tracking URI."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.tracking_uri = client.tracking_uri

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            from mlflow.exceptions import MlflowException
            from requests.exceptions import RequestException

            try:
                return method(*args, **kwargs)
            except (MlflowException, RequestException, OSError) as error:
                if getattr(error, "error_code", None) == "RESOURCE_ALREADY_EXISTS":
                    raise
                raise TrackingError(
                    f"the MLflow tracking store {self.tracking_uri} failed on {name} "
                    f"({first_line(error)[:300]}); the run's files on disk are intact: resume "
                    "it with --resume once the store answers, or train with --no-tracking"
                ) from error

        return call


class RunTracker:
    """One MLflow run, new or resumed, with a client bound to the current tracking URI."""

    def __init__(self, run_id: str, client: Any) -> None:
        self.run_id = run_id
        self.client = client if isinstance(client, _Answering) else _Answering(client)

    @classmethod
    def start(
        cls,
        *,
        run_name: str,
        experiment: str = EXPERIMENT,
        resume_run_id: str | None = None,
    ) -> RunTracker:
        import mlflow
        from mlflow.tracking import MlflowClient

        # A new local store announces its table creation at INFO; rfloc's own lines suffice.
        logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
        client = _Answering(MlflowClient(mlflow.get_tracking_uri()))
        if resume_run_id is not None:
            client.update_run(resume_run_id, status="RUNNING")
            return cls(resume_run_id, client)
        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found else client.create_experiment(experiment)
        run = client.create_run(experiment_id, run_name=run_name)
        return cls(run.info.run_id, client)

    @property
    def tracking_uri(self) -> str:
        return str(self.client.tracking_uri)

    def log_params(self, params: Mapping[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(key, value[:6000]) for key, value in params.items()]
        for begin in range(0, len(items), 100):
            self.client.log_batch(self.run_id, params=items[begin : begin + 100])

    def set_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        self.client.log_batch(self.run_id, tags=[RunTag(k, v) for k, v in tags.items()])

    def log_metrics(self, metrics: Mapping[str, float], step: int) -> None:
        import time

        from mlflow.entities import Metric

        now_ms = int(time.time() * 1000)
        items = [Metric(k, float(v), now_ms, step) for k, v in metrics.items()]
        self.client.log_batch(self.run_id, metrics=items)

    def log_artifacts(self, folder: Path, artifact_path: str | None = None) -> None:
        self.client.log_artifacts(self.run_id, str(folder), artifact_path)

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        self.client.log_artifact(self.run_id, str(path), artifact_path)

    def register_model(
        self, name: str, artifact_path: str, tags: Mapping[str, str], description: str
    ) -> str:
        """A new version of registered model ``name`` from this run's ``artifact_path``."""
        from mlflow.exceptions import MlflowException

        try:
            self.client.create_registered_model(name, description=description)
        except MlflowException as error:
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        version = self.client.create_model_version(
            name, source=f"runs:/{self.run_id}/{artifact_path}", run_id=self.run_id, tags=dict(tags)
        )
        return str(version.version)

    def finish(self, status: str = "FINISHED") -> None:
        self.client.set_terminated(self.run_id, status=status)


class TrackingCallback(lightning.Callback):
    """Logs the validation and training metrics to MLflow: step = epoch, or the optimizer
    step for validation metrics when ``per_step`` (validation every few steps)."""

    def __init__(self, tracker: RunTracker | None, *, per_step: bool = False) -> None:
        self.tracker = tracker
        self.per_step = per_step

    def on_validation_end(
        self, trainer: lightning.Trainer, pl_module: lightning.LightningModule
    ) -> None:
        if self.tracker is None or trainer.sanity_checking or not trainer.is_global_zero:
            return
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val_")}
        if metrics:
            step = trainer.global_step if self.per_step else trainer.current_epoch
            self.tracker.log_metrics(metrics, step=step)

    def on_train_epoch_end(
        self, trainer: lightning.Trainer, pl_module: lightning.LightningModule
    ) -> None:
        if self.tracker is None or not trainer.is_global_zero:
            return
        metrics = {}
        if "train_loss_epoch" in trainer.callback_metrics:
            metrics["train_loss"] = float(trainer.callback_metrics["train_loss_epoch"])
        optimizer = trainer.optimizers[0] if trainer.optimizers else None
        if optimizer is not None:
            metrics["learning_rate"] = float(optimizer.param_groups[0]["lr"])
        self.tracker.log_metrics(metrics, step=trainer.current_epoch)
