"""rfloc's torch-eager row against the same network called bare, or against timm's own loop.

``python -m benchmarks.peer_timm [--backbones convnext_atto,resnet18] [--batch-sizes 1,8]
[--seconds 30] [--threads 0] [--timm-benchmark PATH/benchmark.py]``

rfloc's row is the call ``rfloc bench`` times for its ``torch`` backend: the checkpoint loaded
by ``TorchModel`` and ``run_torch`` on a prepared input (input checks, head, runtime wrapper),
timed by the harness's own timer. The benchmark installs nothing.

- Without ``--timm-benchmark`` the peer is a bare loop written here: ``perf_counter`` around
  ``head(backbone(x))`` under ``torch.inference_mode()``, the same weights and layers with none of
  rfloc's code around them. The calls take turns one at a time for ``--seconds``, and each
  figure is a median over its calls, so drift in the machine's speed hits both alike. A third
  call, the bare network on a second copy of the weights, gives the noise floor: its ratio to
  the bare loop would be 1.000 on a perfect machine.
- With ``--timm-benchmark`` (timm's ``benchmark.py`` from huggingface/pytorch-image-models,
  not shipped here), rounds alternate timm's script, run as a subprocess with ``--bench
  inference`` on the backbone's timm model at the same input ``(B, receivers, mel, frames)``
  and thread count, and rfloc's row. timm reports a mean step time, rfloc a p50: the mean is at
  least the p50, so the ratio flatters timm if anything. Backbones not built by timm are
  skipped.

The last column is the CPUs other processes kept busy meanwhile; above 0.5 the figures do not
describe this machine. The target is a ratio of at most 1.03.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch

from rfloc_core.bench.backends import Target, prepare_backend, random_input
from rfloc_core.bench.config import load_suite
from rfloc_core.bench.contention import OtherProcessesMeter
from rfloc_core.bench.timing import call_timer, interleaved_medians_ms, time_calls
from rfloc_core.checkpoint import load_checkpoint, save_checkpoint
from rfloc_core.model import create_model
from rfloc_core.model.localization_net import HeadedNet
from rfloc_core.registry import get_registry

TARGET_RATIO = 1.03
WARMUP_CALLS = 20
TIMM_ROUNDS = 5
RECEIVER_CHANNELS = """
import runpy, sys
import timm.models

script, channels, height, width = sys.argv[1], *map(int, sys.argv[2:5])
create_model = timm.models.create_model


def create_for_receivers(*args, **kwargs):
    kwargs["in_chans"] = channels
    try:  # transformers are built for the input size, as rfloc builds them
        return create_model(*args, **kwargs, img_size=(height, width))
    except TypeError:
        return create_model(*args, **kwargs)


timm.models.create_model = create_for_receivers
sys.argv = [script, *sys.argv[5:]]
runpy.run_path(script, run_name="__main__")
"""
"""Runs timm's benchmark.py with its models built for the receivers as input channels (and,
where the model takes one, for the input size): the script passes ``in_chans=3`` to
``create_model`` whatever ``--input-size`` says, and takes no option to change it."""

Call = Callable[[], object]


class Row(NamedTuple):
    model: str
    batch: int
    rfloc_ms: float
    peer_ms: float
    noise_floor: float | None
    """The bare loop on a second copy of the weights over the bare loop (None: timm peer)."""
    other_cpus: float | None

    @property
    def ratio(self) -> float:
        return self.rfloc_ms / self.peer_ms


def quick_suite_backbones() -> list[str]:
    """The quick suite's backbones that are installed here."""
    installed = {spec.name for spec in get_registry().backbones()}
    return [name for name in load_suite("quick").backbones if name in installed]


def bare_call(model: HeadedNet, x: torch.Tensor) -> Call:
    """``head(backbone(x))`` under ``inference_mode``: the network with no rfloc code around
    it."""
    backbone, head = model.backbone, model.head

    def call() -> object:
        with torch.inference_mode():
            return head(backbone(x))

    return call


def loaded_calls(backbone: str, batch: int, threads: int) -> tuple[dict[str, Call], torch.Tensor]:
    """rfloc bench's torch call, the bare network on the same weights, the bare network on a
    second copy of the weights, and the input they share."""
    target = Target(torch.device("cpu"), "fp32", threads, (batch,))
    with tempfile.TemporaryDirectory(prefix="rfloc-peer-") as folder:
        torch.manual_seed(0)
        model = create_model(backbone).eval()
        checkpoint = save_checkpoint(model, Path(folder) / "checkpoint")
        rfloc_call = prepare_backend("torch", model, Path(folder), checkpoint, target)(batch)
        copy = load_checkpoint(checkpoint)[0].eval()
    x = random_input(model, batch)
    return {"rfloc": rfloc_call, "bare": bare_call(model, x), "copy": bare_call(copy, x)}, x


def measure_bare(backbone: str, batch: int, seconds: float, threads: int) -> Row:
    calls, _ = loaded_calls(backbone, batch, threads)
    with OtherProcessesMeter() as others:
        medians = interleaved_medians_ms(calls, seconds)
    return Row(
        backbone,
        batch,
        medians["rfloc"],
        medians["bare"],
        medians["copy"] / medians["bare"],
        others.other_cpus,
    )


class PeerFailed(RuntimeError):
    """timm's script could not time a model; its row says why and the others run."""


def timm_step_ms(
    script: Path, timm_name: str, batch: int, shape: tuple[int, ...], threads: int
) -> float:
    """timm ``benchmark.py``'s mean inference step time (ms), run as its own process."""
    command = [
        sys.executable,
        "-c",
        RECEIVER_CHANNELS,
        str(script),
        *(str(size) for size in shape),
        "--model",
        timm_name,
        "--bench",
        "inference",
        "--batch-size",
        str(batch),
        "--input-size",
        *(str(size) for size in shape),
        "--num-classes",
        "0",
        "--num-warm-iter",
        str(WARMUP_CALLS),
        "--num-bench-iter",
        "100",
    ]
    if "'--device'" in script.read_text(encoding="utf-8"):  # older scripts always use CUDA
        command += ["--device", "cpu"]
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads), "CUDA_VISIBLE_DEVICES": ""}
    finished = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    _, _, result = finished.stdout.partition("--result")
    if finished.returncode != 0 or not result.strip():
        last = (finished.stderr.strip().splitlines() or ["no output"])[-1]
        raise PeerFailed(f"timm's benchmark.py failed on {timm_name}: {last}")
    measured = json.loads(result)
    if "infer_step_time" not in measured:
        raise PeerFailed(
            f"timm's benchmark.py gave no step time for {timm_name}: "
            f"{measured.get('error', measured)}"
        )
    return float(measured["infer_step_time"])


def measure_timm(
    backbone: str, batch: int, seconds: float, threads: int, script: Path, timm_name: str
) -> Row:
    calls, x = loaded_calls(backbone, batch, threads)
    time_ms = call_timer(torch.device("cpu"))
    rfloc_ms: list[float] = []
    timm_ms: list[float] = []
    with OtherProcessesMeter() as others:
        for _ in range(TIMM_ROUNDS):
            timm_ms.append(timm_step_ms(script, timm_name, batch, tuple(x.shape[1:]), threads))
            for _ in range(WARMUP_CALLS):
                calls["rfloc"]()
            latencies = time_calls(
                calls["rfloc"],
                time_ms,
                min_iterations=100,
                min_seconds=seconds / TIMM_ROUNDS / 2,
            )
            rfloc_ms.append(statistics.median(latencies))
    return Row(
        backbone,
        batch,
        statistics.median(rfloc_ms),
        statistics.median(timm_ms),
        None,
        others.other_cpus,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.peer_timm",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--backbones",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=None,
        help="comma-separated backbones (default: the quick suite's installed ones)",
    )
    parser.add_argument(
        "--batch-sizes", type=lambda text: [int(size) for size in text.split(",")], default=[1, 8]
    )
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="timed seconds per backbone and batch size"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads (0: every core, as the quick suite)"
    )
    parser.add_argument(
        "--timm-benchmark",
        type=Path,
        default=None,
        help="path to timm's benchmark.py; without it the peer is a bare loop",
    )
    args = parser.parse_args(argv)
    script: Path | None = args.timm_benchmark
    if script is not None and not script.is_file():
        parser.error(f"--timm-benchmark {script} is not a file")
    threads = args.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    peer = "timm benchmark.py mean" if script else "bare loop p50"
    print(f"rfloc bench's torch row against the {peer}; {threads} threads")
    print(
        f"| model | batch | rfloc p50 ms | {peer} ms | rfloc / peer | noise floor | others' CPUs |"
    )
    print("|---|---|---|---|---|---|---|")
    ratios: list[float] = []
    for backbone in args.backbones or quick_suite_backbones():
        timm_name = getattr(get_registry().backbone(backbone).build, "model_name", None)
        for batch in args.batch_sizes:
            if script is not None and timm_name is None:
                print(f"| {backbone} | {batch} | — | — | not built by timm | — | — |", flush=True)
                continue
            try:
                row = (
                    measure_timm(backbone, batch, args.seconds, threads, script, str(timm_name))
                    if script is not None
                    else measure_bare(backbone, batch, args.seconds, threads)
                )
            except PeerFailed as failure:
                print(f"| {backbone} | {batch} | — | — | {failure} | — | — |", flush=True)
                continue
            ratios.append(row.ratio)
            floor = "—" if row.noise_floor is None else f"{row.noise_floor:.3f}"
            busy = "—" if row.other_cpus is None else f"{row.other_cpus:.2f}"
            print(
                f"| {backbone} | {batch} | {row.rfloc_ms:.3f} | {row.peer_ms:.3f} | "
                f"{row.ratio:.3f} | {floor} | {busy} |",
                flush=True,
            )
    if ratios:
        worst = max(ratios)
        verdict = "within" if worst <= TARGET_RATIO else "OVER"
        print(f"worst ratio {worst:.3f} ({verdict} the {TARGET_RATIO} target)")


if __name__ == "__main__":
    main()
