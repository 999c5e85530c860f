"""The backbone contract, one check per function. Each raises AssertionError saying what
was expected and what the backbone did instead."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from rfloc_core.contract import DEFAULT_INPUT_SIZE, DEFAULT_RECEIVERS
from rfloc_core.errors import InvalidInputError, build_failure
from rfloc_core.measure import measure_backbone
from rfloc_core.model import LocalizationNet, create_model
from rfloc_core.specs import BackboneSpec

BATCH = 2


def example_input(
    receivers: int = DEFAULT_RECEIVERS, batch: int = BATCH, seed: int = 0
) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, receivers, *DEFAULT_INPUT_SIZE, generator=generator)


def check_meta_build(spec: BackboneSpec) -> None:
    """Builds on the meta device and produces (B, feature_dim) as declared."""
    try:
        measured = measure_backbone(spec)
    except Exception as error:
        raise AssertionError(build_failure(spec, error, "the default input").args[0]) from error
    assert measured.feature_dim == spec.feature_dim, (
        f"{spec.name} declares feature_dim={spec.feature_dim} but its built network outputs "
        f"{measured.feature_dim} features; fix the spec"
    )
    assert measured.params > 0, f"{spec.name} has no parameters"


def check_receiver_counts(spec: BackboneSpec, receiver_counts: Sequence[int] = (1, 3, 7)) -> None:
    """Builds for several receiver counts and maps (B, r, 128, 32) to (B, feature_dim).

    Built on the meta device, so every variant is checked at the cost of its shapes alone;
    ``check_forward`` runs real weights."""
    for receivers in receiver_counts:
        try:
            with torch.device("meta"):
                network = spec.build(
                    in_chans=receivers, input_size=DEFAULT_INPUT_SIZE, pretrained=False
                )
                with torch.no_grad():
                    features = network.eval()(torch.empty(BATCH, receivers, *DEFAULT_INPUT_SIZE))
        except Exception as error:
            context = f"{receivers} receivers"
            raise AssertionError(build_failure(spec, error, context).args[0]) from error
        assert tuple(features.shape) == (BATCH, spec.feature_dim), (
            f"{spec.name} with {receivers} receivers: expected features of shape "
            f"({BATCH}, {spec.feature_dim}), got {tuple(features.shape)}"
        )


def check_forward(model: LocalizationNet) -> None:
    """Runs forward at (2, 7, 128, 32) and returns finite outputs of the head's shapes."""
    model.eval()
    with torch.no_grad():
        outputs = model(example_input(model.receivers))
    assert tuple(outputs) == model.output_names, (
        f"expected outputs {model.output_names}, got {tuple(outputs)}"
    )
    assert tuple(outputs["position_m"].shape) == (BATCH, 2), (
        f"expected position_m of shape ({BATCH}, 2), got {tuple(outputs['position_m'].shape)}"
    )
    for name, value in outputs.items():
        assert value.shape[0] == BATCH, f"{name} has batch size {value.shape[0]}, expected {BATCH}"
        assert torch.isfinite(value).all(), f"{name} holds non-finite values"


def check_gradients_flow(model: LocalizationNet) -> None:
    """The NLL's gradient reaches every trainable parameter, the first layer included."""
    model.train()
    model.zero_grad(set_to_none=True)
    outputs = model(example_input(model.receivers))
    target_m = torch.zeros(BATCH, 2)
    model.nll(outputs, target_m).mean().backward()  # type: ignore[no-untyped-call]
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"no gradient reaches {len(missing)} parameter(s), e.g. {missing[:5]}"
    non_finite = [
        n
        for n, p in model.named_parameters()
        if p.grad is not None and not torch.isfinite(p.grad).all()
    ]
    assert not non_finite, f"non-finite gradients in {non_finite[:5]}"
    first = next(p for p in model.backbone.parameters() if p.requires_grad)
    assert first.grad is not None and first.grad.abs().sum() > 0, (
        "the first layer's gradient is all zero: the input does not reach the loss"
    )
    model.zero_grad(set_to_none=True)
    model.eval()


def check_deterministic_eval(model: LocalizationNet) -> None:
    """Two forward passes in eval mode give bit-identical outputs."""
    model.eval()
    x = example_input(model.receivers, seed=1)
    with torch.no_grad():
        first, second = model(x), model(x)
    for name in first:
        assert torch.isfinite(first[name]).all(), (
            f"{name} holds NaN or infinite values on a finite input in eval mode; the network "
            "overflows or divides by zero"
        )
        assert torch.equal(first[name], second[name]), (
            f"{name} differs between two eval-mode passes on the same input: "
            "dropout or other randomness is active in eval mode"
        )


def _invalid_inputs(model: LocalizationNet) -> dict[str, torch.Tensor]:
    mels, frames = model.input_size
    constraints = model.backbone_spec.constraints
    small = (max(constraints.min_size[0] - 1, 1), max(constraints.min_size[1] - 1, 1))
    nan = example_input(model.receivers)
    nan[0, 0, 0, 0] = math.nan
    cases = {
        "rank 3": torch.zeros(model.receivers, mels, frames),
        "wrong receiver count": torch.zeros(1, model.receivers + 1, mels, frames),
        "float64": torch.zeros(1, model.receivers, mels, frames, dtype=torch.float64),
        "NaN value": nan,
        f"below minimum size {small}": torch.zeros(1, model.receivers, *small),
    }
    if constraints.fixed_size:
        cases["other size than built"] = torch.zeros(
            1, model.receivers, mels, frames + constraints.multiple_of[1]
        )
    if constraints.multiple_of[0] > 1:
        cases["size not a multiple"] = torch.zeros(1, model.receivers, mels + 1, frames)
    return cases


def check_rejects_invalid_input(model: LocalizationNet) -> None:
    """Every input that breaks the contract raises InvalidInputError (an RflocError)."""
    model.eval()
    for case, x in _invalid_inputs(model).items():
        try:
            with torch.no_grad():
                model(x)
        except InvalidInputError:
            continue
        except Exception as error:
            raise AssertionError(
                f"{case}: expected InvalidInputError, got {type(error).__name__}: {error}"
            ) from error
        raise AssertionError(f"{case}: input of shape {tuple(x.shape)} was accepted")


def check_parameter_count(spec: BackboneSpec, model: LocalizationNet) -> None:
    """The meta-device count (what `rfloc models` shows) equals the built model's count."""
    measured = measure_backbone(spec, receivers=model.receivers, input_size=model.input_size)
    built = sum(p.numel() for p in model.backbone.parameters())
    assert measured.params == built, (
        f"{spec.name}: measured {measured.params} parameters on {measured.device} but the "
        f"built backbone has {built}"
    )


def check_onnx_export(model: LocalizationNet, folder: Path | None = None) -> dict[str, float]:
    """Exports with the core's opset and validates in ONNX Runtime against PyTorch on random
    and simulated inputs at batch 1 and 3 (``rfloc_core.export.validation``).

    Returns the largest absolute difference per output, in the output's unit.
    """
    from rfloc_core.export.onnx_export import export_onnx, read_validation

    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        path = export_onnx(
            model, Path(scratch) / f"{model.backbone_spec.name}.onnx", batch_sizes=(1, 3)
        )
        report: Any = read_validation(path)
    assert report is not None and report["passed"], (
        f"{model.backbone_spec.name}: ONNX Runtime differs from PyTorch: {report}"
    )
    assert list(report["outputs"]) == list(model.output_names)
    return {name: float(entry["max_abs"]) for name, entry in report["outputs"].items()}


def build_for_checks(spec: BackboneSpec) -> LocalizationNet:
    torch.manual_seed(0)
    return create_model(spec.name, head="gaussian")
