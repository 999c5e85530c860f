"""A run that fails ends honestly: run.json says failed and why, and its folder can be used
again; a run killed before its first save can be started again in the same folder."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from rfloc_core.training import session, train
from rfloc_core.training.run import RUN_JSON
from tests.training.toy_run import write_toy_config

pytestmark = pytest.mark.usefixtures("toy_registry")


def test_a_run_that_fails_is_marked_failed_and_its_folder_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_toy_config(tmp_path)
    run_dir = tmp_path / "run"

    def fail(*_: object, **__: object) -> None:
        raise RuntimeError("the data source went away\nsecond line")

    monkeypatch.setattr(session, "_fit", fail)
    with pytest.raises(RuntimeError):
        train(config, ["max_steps=2"], run_dir=run_dir, progress=False, tracking=False)
    stored = json.loads((run_dir / RUN_JSON).read_text())
    assert (stored["status"], stored["error"]) == ("failed", "the data source went away")
    monkeypatch.undo()
    result = train(config, ["max_steps=2"], run_dir=run_dir, progress=False, tracking=False)
    assert result is not None and result.steps_completed == 2
    assert json.loads((run_dir / RUN_JSON).read_text())["status"] == "finished"


def test_a_run_killed_before_its_first_save_can_start_again(tmp_path: Path) -> None:
    config = write_toy_config(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    gone = {"status": "running", "pid": 2**22 + 12345, "host": socket.gethostname()}
    alive = gone | {"pid": os.getpid()}
    (run_dir / RUN_JSON).write_text(json.dumps(alive | {"config": {}}))
    with pytest.raises(Exception, match="already holds files"):
        train(config, ["max_steps=2"], run_dir=run_dir, progress=False, tracking=False)
    (run_dir / RUN_JSON).write_text(json.dumps(gone | {"config": {}}))
    result = train(config, ["max_steps=2"], run_dir=run_dir, progress=False, tracking=False)
    assert result is not None and result.steps_completed == 2


class _Foreign:
    """Any class: a weights-only load refuses to build it."""


def test_a_tampered_resume_state_is_one_line(tmp_path: Path) -> None:
    import pickle

    from rfloc_core.training.callbacks import RESUME_DIR, RESUME_STATE
    from rfloc_core.training.run import RunFolderError

    config = write_toy_config(tmp_path)
    run_dir = tmp_path / "run"
    train(config, ["max_steps=6"], run_dir=run_dir, progress=False, tracking=False)
    state = run_dir / RESUME_DIR / RESUME_STATE
    assert state.is_file()
    state.write_bytes(pickle.dumps({"state_dict": _Foreign()}))
    with pytest.raises(RunFolderError, match="cannot be loaded as weights only") as raised:
        train(config, ["max_steps=6"], run_dir=run_dir, resume=True, progress=False)
    assert "\n" not in str(raised.value)


def test_resume_starts_again_a_run_killed_after_its_best_checkpoint_but_before_its_state(
    tmp_path: Path,
) -> None:
    import shutil

    from rfloc_core.training.callbacks import RESUME_DIR
    from rfloc_core.training.run import RunFolderError

    config = write_toy_config(tmp_path)
    run_dir = tmp_path / "run"
    train(config, ["max_steps=2"], run_dir=run_dir, progress=False, tracking=False)
    shutil.rmtree(run_dir / RESUME_DIR)
    shutil.rmtree(run_dir / "last")
    shutil.rmtree(run_dir / "evaluation")
    stored = json.loads((run_dir / RUN_JSON).read_text())
    gone = {"status": "running", "pid": 2**22 + 12345, "host": socket.gethostname()}
    (run_dir / RUN_JSON).write_text(json.dumps(stored | gone))
    (run_dir / "best" / "notes.txt").write_text("a user's file")
    with pytest.raises(RunFolderError, match="cannot be started again"):
        train(run_dir=run_dir, resume=True, progress=False, tracking=False)
    assert (run_dir / "best" / "notes.txt").read_text() == "a user's file"
    (run_dir / "best" / "notes.txt").unlink()
    result = train(run_dir=run_dir, resume=True, progress=False, tracking=False)
    assert result is not None and result.steps_completed == 2
    assert json.loads((run_dir / RUN_JSON).read_text())["status"] == "finished"
