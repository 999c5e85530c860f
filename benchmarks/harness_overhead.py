"""The latency harness's overhead: its median torch-eager latency against a bare timm-style
loop on the same model, in one process.

``python -m benchmarks.harness_overhead [--backbone convnext_atto] [--batch-size 1]
[--repeats 5] [--min-seconds 2] [--device cpu|cuda]``

The bare loop is timm ``benchmark.py``'s inference step: ``perf_counter`` (synchronised on a
GPU) around ``model(x)`` under ``torch.no_grad()``, after a warm-up. The harness is
``rfloc_core.bench.latency.measure_latency`` with the ``torch`` backend only, as ``rfloc bench``
calls it. The two alternate ``--repeats`` times, so drift hits both; each figure is the median
of its repeats' medians. The target is an overhead of at most 3 %.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from rfloc_core.bench.backends import Target, random_input
from rfloc_core.bench.config import LatencyProtocol
from rfloc_core.bench.latency import measure_latency
from rfloc_core.checkpoint import load_checkpoint, save_checkpoint
from rfloc_core.model import create_model

TARGET_OVERHEAD = 0.03


def bare_loop_median_ms(
    model: torch.nn.Module,
    x: torch.Tensor,
    device: torch.device,
    *,
    warmup: int,
    iterations: int,
    min_seconds: float,
) -> float:
    def synchronise() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    latencies_ms: list[float] = []
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        synchronise()
        start_s = time.perf_counter()
        while len(latencies_ms) < iterations or time.perf_counter() - start_s < min_seconds:
            step_start = time.perf_counter()
            model(x)
            synchronise()
            latencies_ms.append((time.perf_counter() - step_start) * 1e3)
    return statistics.median(latencies_ms)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.harness_overhead",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--backbone", default="convnext_atto")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    parser.add_argument("--min-iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device("cuda", 0) if args.device == "cuda" else torch.device("cpu")
    protocol = LatencyProtocol(
        backends=("torch",),
        device=args.device,
        batch_sizes=(args.batch_size,),
        threads=args.threads,
        warmup_iterations=args.warmup,
        min_iterations=args.min_iterations,
        min_seconds=args.min_seconds,
        rounds=1,
    )
    target = Target(device, "fp32", args.threads, (args.batch_size,))
    with tempfile.TemporaryDirectory() as folder:
        torch.manual_seed(0)
        checkpoint = save_checkpoint(create_model(args.backbone).eval(), Path(folder) / "ckpt")
        model = load_checkpoint(checkpoint, map_location=str(device))[0].eval()
    x = random_input(model, args.batch_size).to(device)
    harness_ms: list[float] = []
    bare_ms: list[float] = []
    for repeat in range(args.repeats):
        rows = measure_latency(
            args.backbone, "", ("torch",), protocol, target, peak_gflops_per_s=None
        )
        harness_ms.append(float(rows[0]["p50_ms"] or float("nan")))
        bare_ms.append(
            bare_loop_median_ms(
                model,
                x,
                device,
                warmup=args.warmup,
                iterations=args.min_iterations,
                min_seconds=args.min_seconds,
            )
        )
        print(
            f"repeat {repeat + 1}/{args.repeats}: harness {harness_ms[-1]:.3f} ms, "
            f"bare loop {bare_ms[-1]:.3f} ms",
            flush=True,
        )
    harness, bare = statistics.median(harness_ms), statistics.median(bare_ms)
    overhead = harness / bare - 1.0
    print(
        f"{args.backbone} batch {args.batch_size} on {device} ({args.threads} threads), "
        f"median of {args.repeats} repeats:"
    )
    print(f"  rfloc bench harness, torch eager: {harness:.3f} ms")
    print(f"  bare timm-style loop:             {bare:.3f} ms")
    verdict = "within" if overhead <= TARGET_OVERHEAD else "OVER"
    print(f"  overhead {overhead * 100:+.2f} % ({verdict} the {TARGET_OVERHEAD:.0%} target)")


if __name__ == "__main__":
    main()
