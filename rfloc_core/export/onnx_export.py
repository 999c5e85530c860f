"""Export a LocalizationNet to ONNX with a dynamic batch dimension, then check the file."""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from pathlib import Path
from typing import Literal

import torch

from rfloc_core.atomic import atomic_path
from rfloc_core.contract import INPUT_LAYOUT, INPUT_NAME, ONNX_OPSET
from rfloc_core.errors import InvalidInputError, RflocError
from rfloc_core.model import LocalizationNet

EXAMPLE_BATCH = 2


def _metadata(model: LocalizationNet) -> dict[str, str]:
    spec = model.backbone_spec
    return {
        "rfloc.backbone": spec.name,
        "rfloc.head": model.head_spec.name,
        "rfloc.plugin": spec.plugin,
        "rfloc.plugin_version": spec.plugin_version,
        "rfloc.receivers": str(model.receivers),
        "rfloc.input_size": json.dumps(list(model.input_size)),
        "rfloc.input_layout": INPUT_LAYOUT,
        "rfloc.outputs": json.dumps(list(model.output_names)),
    }


def _export(
    model: LocalizationNet, example: torch.Tensor, path: Path, exporter: str, opset: int
) -> None:
    input_names, output_names = [INPUT_NAME], list(model.output_names)
    # Both exporters narrate on stdout and warn about internals the user cannot act on.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            batch = torch.export.Dim("batch", min=1, max=4096)
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=True,
                opset_version=opset,
                dynamic_shapes={INPUT_NAME: {0: batch}},
                external_data=False,
                verbose=False,
                input_names=input_names,
                output_names=output_names,
            )
        else:
            axes = {name: {0: "batch"} for name in [INPUT_NAME, *model.output_names]}
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=False,
                opset_version=opset,
                dynamic_axes=axes,
                input_names=input_names,
                output_names=output_names,
            )


def export_onnx(
    model: LocalizationNet,
    path: str | os.PathLike[str],
    *,
    exporter: Literal["dynamo", "legacy"] | None = None,
    opset: int = ONNX_OPSET,
) -> Path:
    """Write ``model`` to ``path`` atomically as ONNX (opset ``opset``, dynamic batch).

    ``exporter`` defaults to what the backbone spec asks for: the dynamo exporter unless the
    spec says ``legacy``. The file carries rfloc metadata and passes ``onnx.checker``.
    """
    import onnx

    if opset < ONNX_OPSET:
        raise InvalidInputError(f"opset must be at least {ONNX_OPSET}, got {opset}")
    target = Path(path)
    chosen = exporter or model.backbone_spec.onnx_exporter
    was_training = model.training
    model.eval()
    example = torch.randn(EXAMPLE_BATCH, model.receivers, *model.input_size)
    try:
        with atomic_path(target) as temporary, torch.no_grad():
            _export(model, example, temporary, chosen, opset)
            proto = onnx.load(str(temporary))
            for key, value in _metadata(model).items():
                proto.metadata_props.add(key=key, value=value)
            onnx.checker.check_model(proto, full_check=True)
            onnx.save(proto, str(temporary))
    except Exception as error:  # the exporters raise many types; all mean the same to a user
        raise RflocError(
            f"ONNX export of {model.backbone_spec.name} with the {chosen} exporter failed: "
            f"{str(error).splitlines()[0] if str(error) else type(error).__name__}; "
            "a backbone spec can ask for the other exporter with onnx_exporter='legacy'"
        ) from error
    finally:
        model.train(was_training)
    return target
