"""Writers killed at a random moment: what they write is the old state or the new one, never
half of either, and the same command run again finishes without manual cleanup."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from rfloc_core.checkpoint import load_checkpoint, read_checkpoint_config
from rfloc_core.data.disk_dataset import DiskDataset
from tests.cli_runner import run_rfloc
from tests.training.toy_run import write_toy_config

T = TypeVar("T")
KILL_POINTS = 3
"""Random kill moments per writer, from a fixed seed so that a failure reproduces."""
QUICK_RESULTS = Path(__file__).parents[2] / "benchmarks" / "results" / "quick" / "results.json"
URBAN_RESULTS = Path(__file__).parents[2] / "benchmarks" / "results" / "urban" / "results.json"


def _run(args: list[str], site: Path | None = None) -> float:
    started = time.monotonic()
    result = run_rfloc(*args, site=site, env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    return time.monotonic() - started


def _run_again(args: list[str], site: Path | None = None) -> None:
    """Run a killed command again as its user would: as it was, and with --resume where the
    command says that is what it needs."""
    result = run_rfloc(*args, site=site, env={"OMP_NUM_THREADS": "1"})
    if result.returncode != 0 and "pass --resume" in result.stderr:
        result = run_rfloc(*args, "--resume", site=site, env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]


def _kill_at(args: list[str], seconds: float, site: Path | None = None) -> None:
    """Run ``rfloc args`` and SIGKILL it after ``seconds`` unless it finished before."""
    environment = dict(os.environ, OMP_NUM_THREADS="1")
    if site is not None:
        environment["PYTHONPATH"] = os.pathsep.join([str(site), environment.get("PYTHONPATH", "")])
    process = subprocess.Popen(
        [sys.executable, "-m", "rfloc_core", *args],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()


def _kill_moments(full_s: float, earliest_s: float = 0.2, count: int = KILL_POINTS) -> list[float]:
    rng = random.Random(20261202)
    return [rng.uniform(earliest_s, full_s) for _ in range(count)]


def _dataset(folder: Path, *, leftovers_allowed: bool = False) -> tuple[int, int] | str:
    """(seed, count) of the dataset the folder reads as; a killed write may leave files the
    manifest does not list (readers ignore them, the next write removes them)."""
    try:
        dataset = DiskDataset(folder)
    except Exception as error:
        return f"unreadable: {error}"
    listed = {"manifest.json", *(shard["file"] for shard in dataset.manifest["shards"])}
    extra = sorted({path.name for path in folder.iterdir()} - listed)
    return (dataset.seed, len(dataset)) if leftovers_allowed or not extra else f"leftovers {extra}"


def test_a_killed_simulate_leaves_the_old_dataset_or_the_new(tmp_path: Path) -> None:
    out = str(tmp_path / "data")
    old = ["simulate", "--n", "64", "--seed", "1", "--shard-size", "16", "--out", out]
    new = ["simulate", "--n", "1024", "--seed", "2", "--shard-size", "64", "--out", out]
    full_s = _run([*new, "--overwrite"])
    for moment in _kill_moments(full_s):
        _run([*old, "--overwrite"])
        assert _dataset(Path(out)) == (1, 64)
        _kill_at([*new, "--overwrite"], moment)
        assert _dataset(Path(out), leftovers_allowed=True) in ((1, 64), (2, 1024))
        _run([*new, "--overwrite"])
        assert _dataset(Path(out)) == (2, 1024)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


def _report_files(folder: Path) -> tuple[str, ...]:
    names = ("results.json", "results.csv", "report.md", "report.html")
    return tuple(_digest(folder / name) for name in names)


def test_a_killed_report_leaves_each_file_old_or_new(tmp_path: Path) -> None:
    out = tmp_path / "merged"
    old = ["report", str(QUICK_RESULTS), "--out", str(out), "--no-tracking"]
    new = ["report", str(QUICK_RESULTS), str(URBAN_RESULTS), "--out", str(out), "--no-tracking"]
    full_s = _run(new)
    new_files = _report_files(out)
    _run(old)
    old_files = _report_files(out)
    for moment in _kill_moments(full_s):
        _run(old)
        _kill_at(new, moment)
        now = zip(_report_files(out), old_files, new_files, strict=True)
        assert all(file in (before, after) for file, before, after in now)
        _run(new)
        assert _report_files(out) == new_files


def test_a_killed_export_leaves_the_old_file_or_the_new(
    checkpoint: Path, toy_site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model.onnx"
    command = ["export", str(checkpoint), "--out", str(out)]
    full_s = _run(command, toy_site)
    for moment in _kill_moments(full_s):
        _kill_at(command, moment, toy_site)
        assert _is_whole_onnx(out)
        _run(command, toy_site)
        assert _is_whole_onnx(out)
        assert not [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")]


_SAVE_AND_KILL = """
import os, random, signal, sys, time
from pathlib import Path
import torch
torch.set_num_threads(1)
from rfloc_core import create_model
from rfloc_core.checkpoint import load_checkpoint, save_checkpoint

folder, kills = Path(sys.argv[1]), int(sys.argv[2])
models = {}
for head in ("gaussian", "gaussian_full"):
    torch.manual_seed(0)
    models[head] = create_model("toynet", head=head).eval()
save_checkpoint(models["gaussian"], folder)
rng = random.Random(20261202)
seen = set()
for _ in range(kills):
    child = os.fork()
    if child == 0:
        for turn in range(10**9):
            save_checkpoint(models[("gaussian_full", "gaussian")[turn % 2]], folder)
    time.sleep(rng.uniform(0.0, 0.05))
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    model, config = load_checkpoint(folder)
    expected = models[config.head].state_dict()
    assert all(torch.equal(model.state_dict()[k], v) for k, v in expected.items()), config.head
    seen.add(config.head)
    leftovers = sorted(p.name for p in folder.iterdir() if p.name.startswith("weights-"))
    assert len(leftovers) <= 3, leftovers
scratch = Path(os.environ["TMPDIR"])
killed_scratch = len(list(scratch.glob("rfloc-weights-*")))
save_checkpoint(models["gaussian"], folder)
print(killed_scratch, len(list(scratch.glob("rfloc-weights-*"))))
print(sorted(seen), sorted(p.name for p in folder.iterdir()))
"""


def test_a_killed_checkpoint_save_leaves_the_old_checkpoint_or_the_new(
    toy_site: Path, tmp_path: Path
) -> None:
    """A process saving two models in turn over one folder, SIGKILLed at random moments: the
    folder always loads as exactly one of them, and one more save leaves only its own pair and
    removes the scratch folders the killed saves left in the temporary folder."""
    folder = tmp_path / "ckpt"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    # Whether a kill lands inside a save's scratch folder is chance: one surely left by a
    # process that no longer runs is there from the start.
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    (scratch / f"rfloc-weights-{int(finished.stdout)}-left").mkdir()
    environment = dict(os.environ, PYTHONPATH=str(toy_site), TMPDIR=str(scratch))
    result = subprocess.run(
        [sys.executable, "-c", _SAVE_AND_KILL, str(folder), "40"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    scratch_counts, listing = result.stdout.strip().split("\n")
    killed_scratch, scratch_left = map(int, scratch_counts.split())
    assert scratch_left == 0, (killed_scratch, scratch_left)  # the planted one included
    seen, names = listing.split("] ")
    assert seen == "['gaussian', 'gaussian_full'"  # kills landed on both sides of a commit
    config = read_checkpoint_config(folder)
    assert names == str(sorted(["config.json", config.weights_file]))


def _is_whole_onnx(path: Path) -> bool:
    import onnx

    try:
        onnx.checker.check_model(onnx.load(str(path)))
    except Exception:
        return False
    return True


def _killed_and_rerun(
    command: Callable[[Path], list[str]],
    site: Path,
    tmp_path: Path,
    earliest_fraction: float,
    check_left: Callable[[Path], object],
    outcome: Callable[[Path], T],
) -> Iterator[tuple[T, T]]:
    """Run ``command`` into a target once unkilled, then into fresh targets killed at two random
    moments: ``check_left`` reads what each kill left, the command runs again, and each rerun's
    ``outcome`` is yielded beside the unkilled run's."""
    full_s = _run(command(tmp_path / "whole"), site)
    expected = outcome(tmp_path / "whole")
    for number, moment in enumerate(_kill_moments(full_s, earliest_fraction * full_s, count=2)):
        target = tmp_path / f"killed{number}"
        _kill_at(command(target), moment, site)
        if target.exists():
            check_left(target)
        _run_again(command(target), site)
        yield expected, outcome(target)


def _whole_run_folder(run_dir: Path) -> None:
    """Every file a killed run left reads whole: run.json, the best checkpoint, the resume
    state (as `--resume` loads it, weights only)."""
    import torch

    if (run_dir / "run.json").exists():
        assert json.loads((run_dir / "run.json").read_text())["config"]
    if (run_dir / "best" / "config.json").exists():
        load_checkpoint(run_dir / "best")
    if (run_dir / "resume" / "last.ckpt").exists():
        torch.load(run_dir / "resume" / "last.ckpt", weights_only=True)


def _last_weights(run_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(run_dir / "last" / read_checkpoint_config(run_dir / "last").weights_file)


def test_a_killed_train_leaves_whole_files_and_its_rerun_ends_as_an_unkilled_run(
    toy_site: Path, tmp_path: Path
) -> None:
    config = write_toy_config(tmp_path, epochs=2, train_samples=96)

    def command(run_dir: Path) -> list[str]:
        return ["train", "--config", str(config), "--run-dir", str(run_dir), "--no-tracking"]

    runs = _killed_and_rerun(command, toy_site, tmp_path, 0.4, _whole_run_folder, _last_weights)
    for expected, actual in runs:
        assert max(float((expected[k] - actual[k]).abs().max()) for k in expected) <= 1e-6


def _bench_files(out: Path) -> dict[str, object]:
    """Each JSON file the benchmark wrote, parsed: a half-written one fails here."""
    return {
        str(path.relative_to(out)): json.loads(path.read_text())
        for path in out.rglob("*.json")
        if not path.name.startswith(".") or path.name == ".rfloc-files.json"
    }


def _accuracy(out: Path) -> dict[str, float]:
    rows = json.loads((out / "results.json").read_text())["accuracy"]
    return {row["model"]: row["error_median_m"] for row in rows}


def test_a_killed_bench_leaves_whole_files_and_its_rerun_ends_as_an_unkilled_run(
    toy_site: Path, tmp_path: Path
) -> None:
    from tests.bench.toy_suite import write_toy_suite

    suite = write_toy_suite(tmp_path, seeds=(0,), backends=("torch",))

    def command(out: Path) -> list[str]:
        return ["bench", "--suite", str(suite), "--out", str(out), "--no-progress"]

    for expected, actual in _killed_and_rerun(
        command, toy_site, tmp_path, 0.3, _bench_files, _accuracy
    ):
        assert actual == pytest.approx(expected)
