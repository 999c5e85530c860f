"""Compare an exported model's outputs with PyTorch's, output by output.

An element passes when ``|got - expected| <= atol + rtol * scale``, where ``scale`` is the
largest ``|expected|`` of that output in the batch: positions of 20 km carry float32 rounding
of about a millimetre, so a difference is judged against the output's magnitude, not against
each element's (which fails near zero for no fault of the export). The report keeps, per
output, the largest absolute difference (in the output's unit, metres for positions) and the
largest relative difference (to that scale), over every batch size and input kind tried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from rfloc_core.export.errors import ExportValidationError
from rfloc_core.model import LocalizationNet

FP32_TOLERANCE = (1e-4, 1e-4)
"""(atol in the output's unit, rtol) for float32 exports."""
FP16_TOLERANCE = (1e-1, 2e-2)
"""(atol, rtol) for float16 exports: 11-bit mantissas give about 1e-3 relative per operation,
and a deep network accumulates tens of them."""

DEFAULT_BATCH_SIZES = (1, 2, 5)


@dataclass
class OutputDifference:
    max_abs: float = 0.0
    max_rel: float = 0.0
    failing_elements: int = 0


@dataclass
class ValidationReport:
    runtime: str
    atol: float
    rtol: float
    batch_sizes: tuple[int, ...]
    inputs: tuple[str, ...]
    outputs: dict[str, OutputDifference] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(d.failing_elements == 0 for d in self.outputs.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"passed": self.passed}

    def mismatch_error(self, what: str, recorded_in: str) -> ExportValidationError:
        """The error for a tolerance miss of ``what`` ("the ONNX export of resnet18")."""
        return ExportValidationError(
            f"{what} differs from PyTorch beyond atol {self.atol:g} + rtol {self.rtol:g} "
            f"({self.summary()}); pass --allow-mismatch to keep it anyway (the miss is recorded "
            f"in {recorded_in})"
        )

    def summary(self) -> str:
        parts = [
            f"{name}: max abs {d.max_abs:.3g}, max rel {d.max_rel:.3g}"
            for name, d in self.outputs.items()
        ]
        return "; ".join(parts)


def random_inputs(model: LocalizationNet, batch: int, seed: int) -> np.ndarray:
    """Uniform values in the feature range ([-1, 1]) of the model's input shape."""
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, model.receivers, *model.input_size)
    return (torch.rand(shape, generator=generator) * 2 - 1).numpy()


def simulated_inputs(model: LocalizationNet, batch: int, seed: int) -> np.ndarray | None:
    """Log-mel features of ``batch`` simulated samples of the default scenario, when it has
    the model's receiver count and input size; else None."""
    from rfloc_core.data.datasets import SyntheticDataset
    from rfloc_core.data.feature_config import FeatureConfig
    from rfloc_core.data.scenario import load_scenario

    scenario = load_scenario("vhf-rural")
    if scenario.n_receivers != model.receivers:
        return None
    mel_bins, frames = model.input_size
    dataset = SyntheticDataset(
        scenario, batch, seed, FeatureConfig(mel_bins=mel_bins, frames=frames)
    )
    features: np.ndarray = dataset.batch(range(batch))["features"].numpy()
    return features


def compare(
    expected: Mapping[str, np.ndarray],
    got: Mapping[str, np.ndarray],
    report: ValidationReport,
    where: str,
) -> None:
    """Fold one comparison into ``report``; a missing name or a shape mismatch raises."""
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
        difference = np.abs(value - reference)
        scale = max(float(np.abs(reference).max(initial=0.0)), np.finfo(np.float64).tiny)
        entry = report.outputs.setdefault(name, OutputDifference())
        entry.max_abs = max(entry.max_abs, float(difference.max(initial=0.0)))
        entry.max_rel = max(entry.max_rel, float(difference.max(initial=0.0)) / scale)
        limit = report.atol + report.rtol * scale
        entry.failing_elements += int((~(difference <= limit)).sum())


def validate(
    model: LocalizationNet,
    run: Callable[[np.ndarray], Mapping[str, np.ndarray]],
    *,
    runtime: str,
    fp16: bool = False,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
) -> ValidationReport:
    """Run ``run`` and the eager float32 ``model`` on fresh random and simulated inputs at
    each batch size and compare every output, with the float16 or float32 tolerance; ``run``
    gets its inputs in float16 for an fp16 export."""
    atol, rtol = FP16_TOLERANCE if fp16 else FP32_TOLERANCE
    input_dtype = np.float16 if fp16 else np.float32
    kinds = ["random", "simulated"]
    report = ValidationReport(runtime, atol, rtol, tuple(batch_sizes), ())
    was_training = model.training
    model.eval()
    used = []
    try:
        for batch in batch_sizes:
            for kind in kinds:
                maker = random_inputs if kind == "random" else simulated_inputs
                features = maker(model, batch, seed=1000 + batch)
                if features is None:
                    continue
                used.append(kind)
                with torch.no_grad():
                    eager = model(torch.from_numpy(features).float())
                expected = {k: v.float().cpu().numpy() for k, v in eager.items()}
                got = run(features.astype(input_dtype))
                compare(expected, got, report, f"{kind} input, batch {batch}")
    finally:
        model.train(was_training)
    report.inputs = tuple(dict.fromkeys(used))
    return report
