"""``train``: one training run from a ``TrainConfig`` to a registered, evaluated checkpoint.

A run lives in its own folder (``RUN_JSON``, ``resume/``, ``best/``, ``last/``,
``evaluation/``). The folder and the MLflow run are created by the launching process only;
DDP worker processes that Lightning starts find the folder through ``RUN_DIR_ENV``.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rfloc_core.atomic import write_text_atomic
from rfloc_core.data.errors import ConfigError
from rfloc_core.data.validation import validate_config
from rfloc_core.errors import RflocError
from rfloc_core.owned_folder import is_temporary_of
from rfloc_core.training.config import TrainConfig, load_train_config

RUN_JSON = "run.json"
LAST_DIR = "last"
EVALUATION_DIR = "evaluation"
RUN_DIR_ENV = "RFLOC_RUN_DIR"
RESUME_ENV = "RFLOC_RESUME"
"""Set by the launching process so DDP worker processes join the same run folder."""


class RunFolderError(RflocError):
    """A run folder that cannot be started or resumed."""


@dataclass(frozen=True)
class TrainResult:
    config: TrainConfig
    run_dir: Path
    best_checkpoint: Path
    last_checkpoint: Path
    evaluation: Any
    """``rfloc_core.evaluation.Evaluation`` of the best checkpoint on the validation set."""
    epochs_completed: int
    steps_completed: int
    learning_curve: dict[str, list[Any]]
    """``steps`` and ``val_error_median_m`` (m) after each validation."""
    train_samples_per_s: float | None
    """Samples per second of training steps alone (no validation, data or checkpoints)."""
    simulated_samples_per_s: float | None
    """Samples per second the in-memory sets were simulated at, where this run simulated them."""
    prior_position_m: tuple[float, float]
    """The training set's mean true position (east, north), m: the prior baseline."""
    mlflow_run_id: str | None
    registered_model: str | None
    model_version: str | None
    test_evaluation: Any = None
    """``Evaluation`` of the best checkpoint on ``test_data``, or None without one."""
    uncertainty_calibration: Any = None
    """``rfloc_core.training.calibrate.UncertaintyCalibration`` of the best checkpoint on the
    validation set, or None (turned off, or a head that is not the core's)."""


def is_launching_process() -> bool:
    """False inside the extra processes a DDP launch starts (local or node rank above 0)."""
    return all(int(os.environ.get(name, "0")) == 0 for name in ("LOCAL_RANK", "NODE_RANK", "RANK"))


def resolve_precision(precision: str, accelerator: str) -> str:
    """``auto``: bf16-mixed on CUDA GPUs with bf16, 16-mixed on other CUDA GPUs, else 32-true."""
    if precision != "auto":
        return precision
    import torch

    if accelerator == "cpu" or not torch.cuda.is_available():
        return "32-true"
    return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"


def _read_run(run_dir: Path) -> dict[str, Any]:
    path = run_dir / RUN_JSON
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(
            f"{run_dir} holds no {RUN_JSON}, so it is not an rfloc run folder; pass the folder "
            "that `rfloc train` printed"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunFolderError(
            f"{path} is not valid JSON ({error}); the run cannot resume"
        ) from error
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise RunFolderError(
            f"{path} must be a JSON object with a config object, as `rfloc train` writes it; "
            "the run cannot resume"
        )
    return data


def _write_run(run_dir: Path, data: dict[str, Any]) -> None:
    write_text_atomic(run_dir / RUN_JSON, json.dumps(data, indent=2) + "\n")


def latest_run(output_dir: Path) -> Path:
    """The most recently started run folder under ``output_dir`` that can resume."""
    from rfloc_core.training.callbacks import RESUME_DIR, RESUME_STATE

    candidates = sorted(
        (p for p in output_dir.glob(f"*/{RESUME_DIR}/{RESUME_STATE}")),
        key=lambda p: p.stat().st_mtime,
    )
    if not candidates:
        raise RunFolderError(
            f"no run under {output_dir} has resume state ({RESUME_DIR}/{RESUME_STATE}); start "
            "a run without --resume, or pass its folder with --run-dir"
        )
    return candidates[-1].parent.parent


def _failed_before_any_save(run_dir: Path) -> bool:
    """A run folder holding only the run.json of a run that failed, or was killed, before it
    saved anything: starting again there replaces nothing but rfloc's own record."""
    return {entry.name for entry in run_dir.iterdir()} == {RUN_JSON} and _ended(run_dir)


def _ended(run_dir: Path) -> bool:
    """Whether the run in ``run_dir`` failed, or was killed (its process is gone)."""
    try:
        stored = _read_run(run_dir)
    except RunFolderError:
        return False
    return stored.get("status") == "failed" or (
        stored.get("status") == "running" and not process_alive(stored)
    )


def _restartable_files(run_dir: Path) -> list[Path] | None:
    """For a run that ended before it saved resume state, the files and folders it left, each
    folder after its files (a restart with the run's own configuration writes them again); None
    where the folder holds resume state, its run may still be alive, or it holds anything such
    a run does not write."""
    from rfloc_core.checkpoint_config import CONFIG_NAME, is_weights_file_name
    from rfloc_core.training.callbacks import BEST_DIR, RESUME_DIR, RESUME_POSITION, RESUME_STATE

    if (run_dir / RESUME_DIR / RESUME_STATE).exists() or not _ended(run_dir):
        return None
    expected: dict[str, Callable[[str], bool]] = {
        RUN_JSON: lambda name: False,
        BEST_DIR: lambda name: name == CONFIG_NAME or is_weights_file_name(name),
        RESUME_DIR: lambda name: name == RESUME_POSITION,
    }
    left = []
    for entry in run_dir.iterdir():
        inside = expected.get(entry.name)
        if inside is None and not is_temporary_of(entry.name, (RUN_JSON,)):
            return None
        if entry.is_dir() and inside is not None:
            for path in entry.iterdir():
                if not path.is_file() or not (inside(path.name) or path.name.endswith(".tmp")):
                    return None
                left.append(path)
        left.append(entry)  # a folder after its files
    return left


def _remove(left: list[Path]) -> None:
    for path in left:
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink()


def process_alive(stored: dict[str, Any]) -> bool:
    """Whether the process a run.json names (``pid`` on ``host``) may still be running: True
    unless it is on this host and gone."""
    pid, host = stored.get("pid"), stored.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _new_run_dir(config: TrainConfig, run_dir: Path | None) -> Path:
    if run_dir is None:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S-%f")
        run_dir = Path(config.output_dir) / stamp
    if run_dir.exists() and _failed_before_any_save(run_dir):
        (run_dir / RUN_JSON).unlink()
    if run_dir.exists() and any(run_dir.iterdir()):
        raise RunFolderError(
            f"{run_dir} already holds files; pass --resume to continue that run, or choose an "
            "empty or new --run-dir"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _resumed_config(
    run_dir: Path, requested: TrainConfig | None
) -> tuple[TrainConfig, dict[str, Any]]:
    stored = _read_run(run_dir)
    config = validate_config(TrainConfig, stored["config"], f"{run_dir / RUN_JSON} field config")
    if requested is not None and requested != config:
        before, after = config.model_dump(), requested.model_dump()
        changed = sorted(k for k in before if before[k] != after[k])
        raise ConfigError(
            f"{run_dir} was started with a different configuration (fields {', '.join(changed)} "
            "differ); resume it with its own settings (omit the preset and overrides) or start "
            "a new run"
        )
    return config, stored


def train(
    config: TrainConfig | str | Path | None = None,
    overrides: Iterable[str] = (),
    *,
    run_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    tracking: bool = True,
) -> TrainResult | None:
    """Train ``config`` (a ``TrainConfig``, a preset name or a TOML path, with ``key=value``
    ``overrides``), keep the best checkpoint by validation error, evaluate it beside the RSS
    baselines, and log everything to MLflow.

    ``resume=True`` continues the run in ``run_dir`` (default: the newest resumable run under
    the config's ``output_dir``) from its last saved state; its stored configuration is used.
    Returns None in DDP worker processes other than the launching one.
    """
    if not is_launching_process():
        folder = Path(os.environ[RUN_DIR_ENV])
        stored = _read_run(folder)
        chosen = validate_config(TrainConfig, stored["config"], f"{folder / RUN_JSON} field config")
        resume = os.environ.get(RESUME_ENV) == "1"
    else:
        requested = None
        if config is not None:
            requested = (
                config if isinstance(config, TrainConfig) else load_train_config(config, overrides)
            )
        given = Path(run_dir) if run_dir is not None else None
        if resume:
            if given is None and requested is None:
                raise ConfigError("--resume needs the run folder (--run-dir) or its preset")
            folder = given if given is not None else latest_run(Path(requested.output_dir))  # type: ignore[union-attr]
            chosen, stored = _resumed_config(folder, requested)
            left = _restartable_files(folder)
            if left is not None:  # ended before its first resume state: run it from the start
                _remove(left)
                resume, stored = False, {}
        else:
            if requested is None:
                raise ConfigError("give a preset, a config file or a TrainConfig to train")
            chosen, stored = requested, {}
            folder = _new_run_dir(chosen, given)
        os.environ[RUN_DIR_ENV] = str(folder.resolve())
        os.environ[RESUME_ENV] = "1" if resume else "0"
    from rfloc_core.training.session import run_training

    return run_training(
        chosen,
        folder,
        stored=stored,
        resume=resume,
        launching=is_launching_process(),
        progress=progress,
        tracking=tracking,
        write_run=_write_run,
    )
