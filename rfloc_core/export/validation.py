"""Compare an exported model's outputs with PyTorch's, output by output.

An element passes when ``|got - expected| <= atol + rtol * scale + k * rounding``, where
``scale`` is the largest ``|expected|`` of that output in the batch: positions of 20 km carry
float32 rounding of about a millimetre, so a difference is judged against the output's
magnitude, not against each element's (which fails near zero for no fault of the export).
``rounding`` is how far PyTorch's own float32 output lies from the same model run in float64
on that input, and ``k`` is ``ROUNDING_FACTOR`` for float32 exports (0 for float16). The
report keeps, per output, the largest absolute difference (in the output's unit, metres for
positions) and the largest relative difference (to that scale), over every batch size and
input kind tried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from copy import deepcopy
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from rfloc_core.export.errors import ExportValidationError
from rfloc_core.model import LocalizationNet, ReceiverSetNet

Inputs = tuple[np.ndarray, ...]
"""``(spectrogram,)`` for a fixed-network model; ``(spectrogram, receivers_m, online)`` for a
receiver-set model."""

FP32_TOLERANCE = (1e-4, 1e-4)
"""(atol in the output's unit, rtol) for float32 exports."""
ROUNDING_FACTOR = 10.0
"""Beyond atol + rtol * scale, a float32 export may also differ from PyTorch by this many
times PyTorch's own float32 rounding on that input (its largest distance from the same model
in float64): a trained network with large intermediate values rounds more than 1e-4, and
an export that fuses operations differently rounds differently. A wrong graph misses by far
more."""
FP16_TOLERANCE = (1e-1, 2e-2)
"""(atol, rtol) for float16 exports: 11-bit mantissas give about 1e-3 relative per operation,
and a deep network accumulates tens of them."""

DEFAULT_BATCH_SIZES = (1, 2, 5)
DEFAULT_RECEIVER_COUNTS = (3, 5, 7, 12)
"""Receiver counts a receiver-set export is validated at."""


@dataclass
class OutputDifference:
    max_abs: float = 0.0
    """Over the elements where both are finite."""
    max_rel: float = 0.0
    failing_elements: int = 0
    non_finite_torch: int = 0
    """NaN or infinite values in PyTorch's output, which fail the comparison."""
    non_finite_export: int = 0
    float32_rounding: float = 0.0
    """The largest distance of PyTorch's float32 output from the float64 model's; the limit
    allows ``ROUNDING_FACTOR`` times it (0 where float64 was not run)."""


@dataclass
class ValidationReport:
    runtime: str
    atol: float
    rtol: float
    batch_sizes: tuple[int, ...]
    inputs: tuple[str, ...]
    outputs: dict[str, OutputDifference] = field(default_factory=dict)
    receiver_counts: tuple[int, ...] = ()
    """The receiver counts a receiver-set model was validated at; empty for a fixed network."""
    rounding_factor: float = 0.0
    """Times PyTorch's own float32 rounding the limit allows too (``ROUNDING_FACTOR`` for
    float32 exports, 0 for float16)."""

    @property
    def passed(self) -> bool:
        return all(d.failing_elements == 0 for d in self.outputs.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"passed": self.passed}

    def mismatch_error(self, what: str, recorded_in: str) -> ExportValidationError:
        """The error for a tolerance miss of ``what`` ("the ONNX export of resnet18")."""
        rounding = (
            f" + {self.rounding_factor:g}x PyTorch's own float32 rounding"
            if self.rounding_factor
            else ""
        )
        return ExportValidationError(
            f"{what} differs from PyTorch beyond atol {self.atol:g} + rtol {self.rtol:g}"
            f"{rounding} ({self.summary()}); pass --allow-mismatch to keep it anyway (the miss "
            f"is recorded in {recorded_in})"
        )

    def summary(self) -> str:
        parts = []
        for name, d in self.outputs.items():
            part = f"{name}: max abs {d.max_abs:.3g}, max rel {d.max_rel:.3g}"
            if d.float32_rounding:
                part += f", PyTorch's float32 rounding {d.float32_rounding:.3g}"
            if d.non_finite_torch or d.non_finite_export:
                part += (
                    f", NaN or infinite values: {d.non_finite_torch} in PyTorch's output and "
                    f"{d.non_finite_export} in the export's (the model itself is not finite "
                    "on these inputs)"
                    if d.non_finite_torch
                    else f", {d.non_finite_export} NaN or infinite values in the export only"
                )
            parts.append(part)
        return "; ".join(parts)


def random_inputs(
    model: LocalizationNet | ReceiverSetNet, batch: int, seed: int, receivers: int | None = None
) -> Inputs:
    """Uniform values in the feature range ([-1, 1]) of the model's input shape; for a
    receiver-set model with ``receivers`` receivers, positions spread over a few receiver
    scales and about a third of the receivers offline (never all of a sample's)."""
    generator = torch.Generator().manual_seed(seed)
    count = model.receivers if isinstance(model, LocalizationNet) else receivers
    assert count is not None
    spectrogram = torch.rand((batch, count, *model.input_size), generator=generator) * 2 - 1
    if isinstance(model, LocalizationNet):
        return (spectrogram.numpy(),)
    receivers_m = torch.randn(batch, count, 2, generator=generator) * model.receiver_scale_m
    online = torch.rand(batch, count, generator=generator) > 0.3
    online[:, 0] = True
    return spectrogram.numpy(), receivers_m.numpy(), online.numpy()


def simulated_inputs(
    model: LocalizationNet | ReceiverSetNet, batch: int, seed: int, receivers: int | None = None
) -> Inputs | None:
    """Log-mel features of ``batch`` simulated samples of the default scenario (with its
    receiver positions and online mask for a receiver-set model), when it has the model's
    receiver count; else None."""
    from rfloc_core.data.datasets import SyntheticDataset
    from rfloc_core.data.feature_config import FeatureConfig
    from rfloc_core.data.scenario import load_scenario

    scenario = load_scenario("vhf-rural")
    count = model.receivers if isinstance(model, LocalizationNet) else receivers
    if scenario.n_receivers != count:
        return None
    mel_bins, frames = model.input_size
    dataset = SyntheticDataset(
        scenario, batch, seed, FeatureConfig(mel_bins=mel_bins, frames=frames)
    )
    items = dataset.batch(range(batch))
    if isinstance(model, LocalizationNet):
        return (items["features"].numpy(),)
    online = items["online"].clone()
    online[:, 0] = True
    return items["features"].numpy(), items["receivers_m"].numpy(), online.numpy()


InputMaker = Callable[[LocalizationNet | ReceiverSetNet, int, int, int | None], Inputs | None]
"""(model, batch, seed, receivers) to inputs, or None where this kind does not apply."""
DEFAULT_INPUTS: Mapping[str, InputMaker] = {"random": random_inputs, "simulated": simulated_inputs}


def _as_runtime_inputs(inputs: Inputs, dtype: type[np.floating[Any]]) -> Inputs:
    """The inputs as an export takes them: floats in its dtype, the online mask as bool."""
    return tuple(value if value.dtype == np.bool_ else value.astype(dtype) for value in inputs)


def compare(
    expected: Mapping[str, np.ndarray],
    got: Mapping[str, np.ndarray],
    report: ValidationReport,
    where: str,
    exact: Mapping[str, np.ndarray] | None = None,
) -> None:
    """Fold one comparison into ``report``; a missing name or a shape mismatch raises.
    ``exact``, the float64 model's outputs, sets the float32 rounding allowance."""
    if tuple(got) != tuple(expected):
        raise ExportValidationError(
            f"the export's outputs are {list(got)} but PyTorch gives {list(expected)} ({where}); "
            "the file does not implement this model, export it again"
        )
    for name, reference in expected.items():
        value = np.asarray(got[name], dtype=np.float64)
        reference = np.asarray(reference, dtype=np.float64)
        if value.shape != reference.shape:
            raise ExportValidationError(
                f"output {name} has shape {value.shape} in the export but {reference.shape} in "
                f"PyTorch ({where}); export the model again"
            )
        finite = np.isfinite(value) & np.isfinite(reference)
        difference = np.abs(value - reference)
        largest = float(difference[finite].max(initial=0.0))
        scale = max(float(np.abs(reference[finite]).max(initial=0.0)), np.finfo(np.float64).tiny)
        entry = report.outputs.setdefault(name, OutputDifference())
        entry.max_abs = max(entry.max_abs, largest)
        entry.max_rel = max(entry.max_rel, largest / scale)
        entry.non_finite_torch += int((~np.isfinite(reference)).sum())
        entry.non_finite_export += int((~np.isfinite(value)).sum())
        rounding = 0.0
        if exact is not None and report.rounding_factor:
            off = np.abs(np.asarray(exact[name], dtype=np.float64) - reference)
            rounding = float(off[np.isfinite(off)].max(initial=0.0))
            entry.float32_rounding = max(entry.float32_rounding, rounding)
        limit = report.atol + report.rtol * scale + report.rounding_factor * rounding
        entry.failing_elements += int((~(difference <= limit)).sum())


def validate(
    model: LocalizationNet | ReceiverSetNet,
    run: Callable[..., Mapping[str, np.ndarray]],
    *,
    runtime: str,
    fp16: bool = False,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    receiver_counts: Sequence[int] = DEFAULT_RECEIVER_COUNTS,
    tolerance: tuple[float, float] | None = None,
    inputs: Mapping[str, InputMaker] = DEFAULT_INPUTS,
) -> ValidationReport:
    """Run ``run`` and the eager float32 ``model`` on fresh ``inputs`` (random and simulated
    by default) at each batch size (and, for a receiver-set model, each of
    ``receiver_counts``) and compare every output, with ``tolerance`` (atol, rtol), by default
    the float16 or float32 one; ``run(*inputs)`` gets its float inputs in float16 for an fp16
    export."""
    atol, rtol = tolerance or (FP16_TOLERANCE if fp16 else FP32_TOLERANCE)
    input_dtype = np.float16 if fp16 else np.float32
    counts: Sequence[int | None] = (
        [None] if isinstance(model, LocalizationNet) else list(receiver_counts)
    )
    report = ValidationReport(runtime, atol, rtol, tuple(batch_sizes), ())
    if not isinstance(model, LocalizationNet):
        report.receiver_counts = tuple(receiver_counts)
    was_training = model.training
    model.eval()
    in_float64 = None if fp16 else _float64_copy(model)
    report.rounding_factor = ROUNDING_FACTOR if in_float64 is not None else 0.0
    used = []
    try:
        for count in counts:
            for batch in batch_sizes:
                for kind, maker in inputs.items():
                    values = maker(model, batch, 1000 + batch, count)
                    if values is None:
                        continue
                    used.append(kind)
                    with torch.no_grad():
                        eager = model(*(torch.from_numpy(value) for value in values))
                    expected = {k: v.float().cpu().numpy() for k, v in eager.items()}
                    got = run(*_as_runtime_inputs(values, input_dtype))
                    where = f"{kind} input, batch {batch}"
                    compare(
                        expected,
                        got,
                        report,
                        where if count is None else f"{where}, {count} receivers",
                        exact=None if in_float64 is None else _run_float64(in_float64, values),
                    )
    finally:
        model.train(was_training)
    report.inputs = tuple(dict.fromkeys(used))
    return report


def _float64_copy(model: LocalizationNet | ReceiverSetNet) -> nn.Module | None:
    """The model in float64 on the CPU, the reference for float32 rounding; None where it
    cannot run in float64 (then only atol and rtol apply)."""
    try:
        copy = deepcopy(model).to(device="cpu", dtype=torch.float64).eval()
    except (RuntimeError, TypeError):
        return None
    return copy


def _run_float64(model: nn.Module, values: Inputs) -> dict[str, np.ndarray] | None:
    inputs = [
        torch.from_numpy(value) if value.dtype == np.bool_ else torch.from_numpy(value).double()
        for value in values
    ]
    try:
        with torch.no_grad():
            outputs = model(*inputs)
    except (RuntimeError, TypeError):
        return None
    return {name: value.cpu().numpy() for name, value in outputs.items()}
