"""The trained model tested again through an exported file whose numbers differ from
PyTorch's (INT8), so the report shows what the faster file costs in accuracy."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from rfloc_core.bench.backend_names import EXPORTED_ACCURACY_BACKENDS, INT8_BACKEND
from rfloc_core.bench.config import AccuracyProtocol


def exported_accuracy(
    checkpoint: Path,
    backends: Sequence[str],
    protocol: AccuracyProtocol,
    prior_position_m: tuple[float, float],
) -> dict[str, dict[str, Any]] | None:
    """For each of ``backends`` in ``EXPORTED_ACCURACY_BACKENDS``: the per-sample test errors
    (``errors_m``, ``mahalanobis2``) of ``checkpoint`` exported and run there, and whether the
    export passed its validation; None when no such backend is timed. A file that cannot be
    written or run gives ``error`` instead, and the model's own accuracy stands."""
    chosen = [backend for backend in backends if backend in EXPORTED_ACCURACY_BACKENDS]
    if not chosen:
        return None
    try:
        return {INT8_BACKEND: _int8_accuracy(checkpoint, protocol, prior_position_m)}
    except Exception as error:  # the export's many failure types all mean "no INT8 figures"
        from rfloc_core.bench.latency import describe_error

        return {INT8_BACKEND: {"error": describe_error(error)}}


def _int8_accuracy(
    checkpoint: Path, protocol: AccuracyProtocol, prior_position_m: tuple[float, float]
) -> dict[str, Any]:
    from rfloc_core.bench.accuracy import evaluate_on_test_set
    from rfloc_core.checkpoint import read_checkpoint_config
    from rfloc_core.evaluation.runtime_model import RuntimeModel
    from rfloc_core.export.onnx_int8 import export_onnx_int8
    from rfloc_core.export.onnx_runtime import OnnxModel

    config = read_checkpoint_config(checkpoint)
    validation: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="rfloc-exported-") as folder:

        def through_int8_file(eager: Any) -> RuntimeModel:
            """The test set's loaded model, exported to INT8 and run from the file."""
            path = export_onnx_int8(
                eager,
                Path(folder) / "model-int8.onnx",
                scenario=config.scenario,
                features=config.features,
                allow_mismatch=True,
            )
            runtime = OnnxModel(path, providers=["CPUExecutionProvider"])
            validation.update(json.loads(runtime.metadata.get("rfloc.validation", "{}")))
            return RuntimeModel(eager, runtime.run)

        fields, _ = evaluate_on_test_set(
            checkpoint,
            protocol,
            prior_position_m,
            device=torch.device("cpu"),
            wrap=through_int8_file,
        )
    return {
        "errors_m": fields["errors_m"],
        "mahalanobis2": fields["mahalanobis2"],
        "validation_passed": validation.get("passed"),
    }
