"""Export a LocalizationNet to ONNX with a dynamic batch dimension, then check the file."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import torch

from rfloc_core.atomic import atomic_path
from rfloc_core.contract import INPUT_LAYOUT, INPUT_NAME, ONNX_OPSET
from rfloc_core.errors import InvalidInputError, RflocError
from rfloc_core.export.artifact_info import ANY_RECEIVERS
from rfloc_core.export.validation import (
    DEFAULT_BATCH_SIZES,
    ValidationReport,
    validate,
)
from rfloc_core.model import LocalizationNet, ReceiverSetNet

EXAMPLE_BATCH = 2
EXAMPLE_RECEIVERS = 5
"""Receivers in a receiver-set model's example input: neither 1 nor the batch, so the exporter
keeps the receiver axis symbolic."""
SET_INPUT_NAMES = (INPUT_NAME, "receivers_m", "online")
SET_INPUT_LAYOUT = (
    f"{INPUT_LAYOUT}, receivers_m (batch, receivers, 2) metres, online (batch, receivers) bool"
)


def model_metadata(model: LocalizationNet | ReceiverSetNet) -> dict[str, str]:
    spec = model.backbone_spec
    metadata = {
        "rfloc.backbone": spec.name,
        "rfloc.head": model.head_spec.name,
        "rfloc.plugin": spec.plugin,
        "rfloc.plugin_version": spec.plugin_version,
        "rfloc.receivers": str(model.receivers),
        "rfloc.input_size": json.dumps(list(model.input_size)),
        "rfloc.input_layout": INPUT_LAYOUT,
        "rfloc.outputs": json.dumps(list(model.output_names)),
    }
    if isinstance(model, ReceiverSetNet):
        metadata["rfloc.receivers"] = ANY_RECEIVERS
        metadata["rfloc.input_layout"] = SET_INPUT_LAYOUT
        metadata["rfloc.receiver_set"] = json.dumps(
            {
                "fusion": model.fusion_spec.name,
                "fusion_plugin": model.fusion_spec.plugin,
                "fusion_options": model.fusion_options,
                "receiver_scale_m": model.receiver_scale_m,
            }
        )
    return metadata


def _example(
    model: LocalizationNet | ReceiverSetNet, dtype: torch.dtype
) -> tuple[torch.Tensor, ...]:
    if isinstance(model, LocalizationNet):
        return (torch.randn(EXAMPLE_BATCH, model.receivers, *model.input_size, dtype=dtype),)
    shape = (EXAMPLE_BATCH, EXAMPLE_RECEIVERS)
    return (
        torch.randn(*shape, *model.input_size, dtype=dtype),
        torch.randn(*shape, 2) * model.receiver_scale_m,  # metres stay float32
        torch.ones(shape, dtype=torch.bool),
    )


def _export(
    model: LocalizationNet | ReceiverSetNet,
    example: tuple[torch.Tensor, ...],
    path: Path,
    exporter: str,
    opset: int,
) -> None:
    input_names = list(SET_INPUT_NAMES[: len(example)])
    output_names = list(model.output_names)
    # Both exporters narrate on stdout and warn about internals the user cannot act on.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            batch = torch.export.Dim("batch", min=1, max=4096)
            receivers = torch.export.Dim("receivers", min=1, max=1024)
            axes = {0: batch} if len(example) == 1 else {0: batch, 1: receivers}
            torch.onnx.export(
                model,
                example,
                str(path),
                dynamo=True,
                opset_version=opset,
                dynamic_shapes={name: axes for name in input_names},
                external_data=False,
                verbose=False,
                input_names=input_names,
                output_names=output_names,
            )
        else:
            input_axes = {0: "batch"} if len(example) == 1 else {0: "batch", 1: "receivers"}
            named_axes = {name: input_axes for name in input_names}
            named_axes |= {name: {0: "batch"} for name in output_names}
            torch.onnx.export(
                model,
                example,
                str(path),
                dynamo=False,
                opset_version=opset,
                dynamic_axes=named_axes,
                input_names=input_names,
                output_names=output_names,
            )


def _simplify(path: Path) -> None:
    try:
        import onnxslim
    except ImportError:
        raise RflocError(
            "--simplify needs onnxslim; install it with `pip install onnxslim`"
        ) from None
    import onnx

    proto = onnx.load(str(path))
    slimmed = onnxslim.slim(proto)
    del slimmed.metadata_props[:]
    slimmed.metadata_props.extend(proto.metadata_props)
    onnx.save(slimmed, str(path))


def set_metadata(path: Path, metadata: Mapping[str, str], *, check: bool = False) -> None:
    import onnx

    proto = onnx.load(str(path))
    existing = {entry.key: entry for entry in proto.metadata_props}
    for key, value in metadata.items():
        if key in existing:
            existing[key].value = value
        else:
            proto.metadata_props.add(key=key, value=value)
    if check:
        onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))


def export_onnx(
    model: LocalizationNet | ReceiverSetNet,
    path: str | os.PathLike[str],
    *,
    exporter: Literal["dynamo", "legacy"] | None = None,
    opset: int = ONNX_OPSET,
    fp16: bool = False,
    metadata: Mapping[str, str] | None = None,
    validate: bool = True,
    allow_mismatch: bool = False,
    simplify: bool = False,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
) -> Path:
    """Write ``model`` to ``path`` atomically as ONNX (opset ``opset``, dynamic batch; a
    receiver-set model also takes any receiver count, validated at several).

    ``exporter`` defaults to what the backbone spec asks for: the dynamo exporter unless the
    spec says ``legacy``. The file carries rfloc metadata (plus ``metadata``) and passes
    ``onnx.checker``. ``fp16`` exports the model in float16 (inputs and outputs too).
    ``simplify`` runs onnxslim on the graph. With ``validate`` (default), ONNX Runtime runs
    the file on random and simulated inputs at ``batch_sizes`` and every output is compared
    with the eager float32 model (see ``rfloc_core.export.validation``): a different output
    name or shape always fails, a tolerance miss fails unless ``allow_mismatch``, in which
    case the miss is recorded in the file's ``rfloc.validation`` metadata.
    """
    if opset < ONNX_OPSET:
        raise InvalidInputError(f"opset must be at least {ONNX_OPSET}, got {opset}")
    target = Path(path)
    chosen = exporter or model.backbone_spec.onnx_exporter
    dtype = torch.float16 if fp16 else torch.float32
    was_training = model.training
    exported = copy.deepcopy(model).to(dtype).eval()
    example = _example(model, dtype)
    try:
        with atomic_path(target) as temporary:
            try:
                with torch.no_grad():
                    _export(exported, example, temporary, chosen, opset)
                set_metadata(
                    temporary,
                    model_metadata(model) | dict(metadata or {}) | {"rfloc.dtype": str(dtype)},
                    check=True,
                )
            except Exception as error:  # the exporters raise many types; all mean one thing
                raise RflocError(
                    f"ONNX export of {model.backbone_spec.name} with the {chosen} exporter "
                    f"failed: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
                    "; a backbone spec can ask for the other exporter with onnx_exporter='legacy'"
                ) from error
            if simplify:
                _simplify(temporary)
            if validate:
                report = _validate(model, temporary, fp16, batch_sizes)
                if not report.passed and not allow_mismatch:
                    raise report.mismatch_error(
                        f"the ONNX export of {model.backbone_spec.name}", "the file's metadata"
                    )
                set_metadata(temporary, {"rfloc.validation": json.dumps(report.as_dict())})
    finally:
        model.train(was_training)
    return target


def _validate(
    model: LocalizationNet | ReceiverSetNet, path: Path, fp16: bool, batch_sizes: Sequence[int]
) -> ValidationReport:
    from rfloc_core.export.onnx_runtime import OnnxModel

    runtime = OnnxModel(path, providers=["CPUExecutionProvider"])
    return validate(
        model,
        runtime.run,
        runtime="onnxruntime-cpu",
        fp16=fp16,
        batch_sizes=batch_sizes,
    )


def read_validation(path: str | os.PathLike[str]) -> dict[str, object] | None:
    """The validation report stored in an exported file's metadata, if any."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    for entry in proto.metadata_props:
        if entry.key == "rfloc.validation":
            report: dict[str, object] = json.loads(entry.value)
            return report
    return None
