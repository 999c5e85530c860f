"""Class 1d: ONNX files that load but do not fit their rfloc metadata, each refused in one
line naming the file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from rfloc_core.checkpoint import load_checkpoint
from rfloc_core.export.onnx_export import export_onnx
from tests.bad_inputs.conftest import Case, run_case


def _exported(workspace: Path, checkpoint: Path) -> Path:
    """The checkpoint as `rfloc export` writes it, without its validation runs."""
    model, config = load_checkpoint(checkpoint)
    metadata = {
        "rfloc.scenario": json.dumps(config.scenario),
        "rfloc.features": json.dumps(config.features),
    }
    return export_onnx(model.eval(), workspace / "model.onnx", metadata=metadata, validate=False)


def _rewritten(change: Callable[[onnx.ModelProto], onnx.ModelProto]) -> Callable[..., list[str]]:
    def make(workspace: Path, checkpoint: Path) -> list[str]:
        path = _exported(workspace, checkpoint)
        onnx.save(change(onnx.load(str(path))), str(path))
        return ["predict", str(path), "--simulate", "1"]

    return make


def _another_network(good: onnx.ModelProto) -> onnx.ModelProto:
    spectrogram = helper.make_tensor_value_info("spectrogram", TensorProto.FLOAT, [1, 7, 128, 32])
    flat = helper.make_tensor_value_info("position_m", TensorProto.FLOAT, [1, 28672])
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["spectrogram"], ["position_m"])],
        "not-a-localizer",
        [spectrogram],
        [flat],
    )
    other = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    other.metadata_props.extend(good.metadata_props)
    return other


def _output_cut(good: onnx.ModelProto) -> onnx.ModelProto:
    kept = [output for output in good.graph.output if output.name == "position_m"]
    del good.graph.output[:]
    good.graph.output.extend(kept)
    return good


def _receivers_changed(good: onnx.ModelProto) -> onnx.ModelProto:
    for prop in good.metadata_props:
        if prop.key == "rfloc.receivers":
            prop.value = "5"
    return good


CASES = [
    Case("another network carrying rfloc metadata", _rewritten(_another_network), ("model.onnx",)),
    Case("an output cut from the graph", _rewritten(_output_cut), ("model.onnx", "sigma_m")),
    Case("metadata receivers unlike the graph", _rewritten(_receivers_changed), ("model.onnx",)),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_exported_files(case: Case, checkpoint: Path, toy_site: Path, tmp_path: Path) -> None:
    run_case(case, checkpoint, toy_site, tmp_path)
