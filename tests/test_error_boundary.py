"""The CLI's error boundary: what bad input causes is one line; a bug keeps its traceback."""

from __future__ import annotations

import errno

import pytest

from rfloc_core import cli
from rfloc_core.errors import InvalidInputError


def _exit_of(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> int:
    def app() -> None:
        raise error

    monkeypatch.setattr(cli, "app", app)
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    return int(stopped.value.code or 0)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (InvalidInputError("the [[receivers]] table is missing"), "the [[receivers]] table"),
        (OSError(errno.EACCES, "Permission denied", "/data/out.csv"), "/data/out.csv"),
        (MemoryError(), "ran out of memory"),
        (
            RuntimeError(
                "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate "
                "memory: you tried to allocate 171798691840 bytes. Error code 12"
            ),
            "171798691840 bytes. Error code 12: ran out of memory; use a smaller batch size",
        ),
    ],
)
def test_input_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error, expected
) -> None:
    assert _exit_of(monkeypatch, error) == 1
    stderr = capsys.readouterr().err.strip()
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr
    assert stderr.startswith("error:") and expected in stderr


def test_a_bug_keeps_its_traceback_and_asks_for_a_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_of(monkeypatch, ZeroDivisionError("division by zero")) == 2
    stderr = capsys.readouterr().err
    assert "Traceback" in stderr and "ZeroDivisionError" in stderr
    assert "which is a bug; please report it" in stderr.splitlines()[-1]


def test_torch_refusing_a_cpu_allocation_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real allocator's message, not a copy of it: 2**60 float32 cannot be allocated."""
    import torch

    def app() -> None:
        torch.empty(2**60, dtype=torch.float32)

    monkeypatch.setattr(cli, "app", app)
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    stderr = capsys.readouterr().err.strip()
    assert stopped.value.code == 1 and len(stderr.splitlines()) == 1
    assert "ran out of memory" in stderr
