from __future__ import annotations

import os

import pytest

from rfloc_core.atomic import atomic_path, write_text_atomic


def test_success_replaces_the_file(tmp_path):
    target = tmp_path / "sub" / "file.txt"
    write_text_atomic(target, "first")
    write_text_atomic(target, "second")
    assert target.read_text() == "second"
    assert list(target.parent.iterdir()) == [target]


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half written")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_written_files_follow_the_umask_like_a_plain_open(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = tmp_path / "atomic.txt"
    write_text_atomic(atomic, "x")
    assert atomic.stat().st_mode == plain.stat().st_mode


def test_a_writer_that_recreates_the_file_still_gets_the_umask_mode(tmp_path):
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"x")
    atomic = tmp_path / "atomic.bin"
    with atomic_path(atomic) as temporary:
        temporary.unlink()
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT, 0o600)  # like safetensors
        os.write(descriptor, b"x")
        os.close(descriptor)
    assert atomic.stat().st_mode == plain.stat().st_mode
