"""The environment fingerprint of a benchmark run: which CPU or GPU, which driver, which
versions of torch, ONNX Runtime and TensorRT, and this machine's measured matmul peak."""

from __future__ import annotations

import importlib
import platform
import shutil
import socket
import subprocess
from pathlib import Path

import torch

from rfloc_core.bench.results import Environment


def cpu_model() -> str:
    """The CPU's marketing name, from ``/proc/cpuinfo`` where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def module_version(module: str) -> str | None:
    """``module.__version__``, or None where it cannot be imported here."""
    try:
        return str(importlib.import_module(module).__version__)
    except Exception:  # an ImportError, or an OSError from missing native libraries
        return None


def nvidia_driver() -> str | None:
    """The NVIDIA driver version as ``nvidia-smi`` reports it, or None."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return None
    try:
        completed = subprocess.run(
            [executable, "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip().splitlines()[0] if completed.stdout.strip() else None


def fingerprint(
    device: torch.device,
    *,
    threads: int,
    matmul_peak_gflops_per_s: float | None,
    label: str | None = None,
) -> Environment:
    """The environment one run measured in; ``label`` names the machine in merged reports
    (default: the GPU's name on a GPU run, else the CPU's, with the thread count)."""
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    cpu = cpu_model()
    return {
        "label": label or (gpu if gpu else f"{cpu}, {threads} threads"),
        "hostname": socket.gethostname(),
        "cpu": cpu,
        "gpu": gpu,
        "driver": nvidia_driver() if gpu else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": module_version("onnxruntime"),
        "tensorrt": module_version("tensorrt"),
        "platform": platform.platform(),
        "threads": threads,
        "matmul_peak_gflops_per_s": matmul_peak_gflops_per_s,
    }
