"""Simulation-plus-features throughput: ``python -m benchmarks.data [--device cuda]``.

Prints samples per second for the simulator alone, the log-mel front end alone, and both
together (what training on the fly costs), in this process and, with ``--workers N``,
through a ``DataLoader`` with N worker processes.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

import torch

from rfloc_core.data.datasets import SyntheticDataset
from rfloc_core.data.features import log_mel_features
from rfloc_core.data.presets import DEFAULT_PRESET
from rfloc_core.data.scenario import load_preset
from rfloc_core.data.simulator import Simulator


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _rate(run: Callable[[int], object], batch: int, seconds: float, device: torch.device) -> float:
    """Samples per second of ``run(first_index)``, after one warm-up call."""
    run(0)
    _synchronise(device)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        run(batch * (done // batch + 1))
        done += batch
    _synchronise(device)
    return done / (time.perf_counter() - start)


def _loader_rate(dataset: SyntheticDataset, batch: int, workers: int, seconds: float) -> float:
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch, num_workers=workers, persistent_workers=False
    )
    done, start = 0, None
    for items in loader:
        if start is None:
            start = time.perf_counter()
            continue
        done += items["features"].shape[0]
        if time.perf_counter() - start >= seconds:
            break
    return done / (time.perf_counter() - (start or time.perf_counter()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.data", description=__doc__)
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="scenario preset to simulate")
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1 ...")
    parser.add_argument("--batch-size", type=int, default=256, help="samples per batch")
    parser.add_argument("--seconds", type=float, default=8.0, help="time per measurement, s")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads in this process (0: torch's)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="also time a DataLoader with N worker processes, as training uses it (0: skip)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    scenario = load_preset(args.preset)
    simulator = Simulator(scenario, device=device)
    config = simulator.feature_config
    batch = args.batch_size
    iq = simulator.simulate(range(batch)).iq
    online = torch.ones(iq.shape[:2], dtype=torch.bool, device=device)

    def simulate_only(first: int) -> object:
        return simulator.simulate(range(first, first + batch))

    def features_only(first: int) -> object:
        return log_mel_features(iq, config, online)

    def both(first: int) -> object:
        simulated = simulator.simulate(range(first, first + batch))
        return log_mel_features(simulated.iq, config, simulated.online)

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(
        f"device {device} ({name or platform.machine()}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads, preset {scenario.name}, batch {batch}, "
        f"input ({iq.shape[1]}, {config.mel_bins}, {config.frames})"
    )
    for label, run in (
        ("simulation only", simulate_only),
        ("features only", features_only),
        ("simulation + features", both),
    ):
        rate = _rate(run, batch, args.seconds, device)
        print(f"{label:<34} {rate:>10,.0f} samples/s")
    if args.workers:
        if device.type != "cpu":
            print("DataLoader workers: skipped, they only make sense on the CPU")
            return
        dataset = SyntheticDataset(scenario, 10**9, feature_config=config)
        torch.set_num_threads(1)
        rate = _loader_rate(dataset, batch, args.workers, args.seconds)
        print(f"{f'DataLoader, {args.workers} workers':<34} {rate:>10,.0f} samples/s")


if __name__ == "__main__":
    main()
