"""Scratch folders: what a dead process left is removed, a running process's folder never."""

from __future__ import annotations

import os
import subprocess
import sys

from rfloc_core.scratch_folder import remove_left_by_dead_processes


def test_only_folders_of_processes_that_no_longer_run_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(dead.stdout)
    left = tmp_path / f"rfloc-weights-{dead_pid}-abc"
    running = tmp_path / f"rfloc-weights-{os.getpid()}-def"
    foreign = tmp_path / "rfloc-weights-notapid-ghi"
    user_file = tmp_path / f"rfloc-weights-{dead_pid}-file"
    for folder in (left, running, foreign):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"x")
    user_file.write_text("not a folder")
    assert remove_left_by_dead_processes("rfloc-weights-", tmp_path) == [left]
    assert not left.exists() and running.exists() and foreign.exists() and user_file.exists()
