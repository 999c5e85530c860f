"""Exporters. The core's are declared here as specs; their modules import torch on use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rfloc_core.specs import ExporterSpec


def _export_onnx(model: Any, path: Any, **options: Any) -> Path:
    from rfloc_core.export.onnx_export import export_onnx

    return export_onnx(model, path, **options)


CORE_EXPORTERS = (
    ExporterSpec(
        name="onnx",
        file_suffix=".onnx",
        export=_export_onnx,
        description="ONNX (dynamo exporter by default), dynamic batch, checked with onnx.checker",
    ),
)
