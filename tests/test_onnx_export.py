"""The core's ONNX export: metadata in the file, both exporters, and clear load errors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import onnx
import pytest
import torch

from rfloc_core import ONNX_OPSET, create_model
from rfloc_core.errors import RflocError
from rfloc_core.export.onnx_export import export_onnx
from rfloc_core.export.onnx_runtime import OnnxModel

pytestmark = pytest.mark.usefixtures("toy_registry")


@pytest.fixture
def model():
    torch.manual_seed(0)
    return create_model("toynet", head="mixture").eval()


def test_export_writes_metadata_opset_and_a_dynamic_batch(model, tmp_path):
    folder = tmp_path / "out"
    path = export_onnx(model, folder / "toy.onnx")
    proto = onnx.load(str(path))
    metadata = {p.key: p.value for p in proto.metadata_props}
    assert metadata["rfloc.backbone"] == "toynet"
    assert metadata["rfloc.head"] == "mixture"
    assert metadata["rfloc.plugin"] == "toy"
    assert metadata["rfloc.receivers"] == "7"
    assert json.loads(metadata["rfloc.outputs"]) == list(model.output_names)
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= ONNX_OPSET
    batch_dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param, "the batch dimension must be symbolic"
    assert list(folder.iterdir()) == [path], "no temporary file may be left behind"


@pytest.mark.parametrize("exporter", ["dynamo", "legacy"])
def test_both_exporters_match_pytorch_in_onnx_runtime(model, tmp_path, exporter):
    path = export_onnx(model, tmp_path / f"{exporter}.onnx", exporter=exporter)
    runtime = OnnxModel(path)
    x = torch.randn(5, 7, 128, 32)
    with torch.no_grad():
        expected = model(x)
    got = runtime.run(x.numpy())
    assert runtime.output_names == model.output_names
    for name in model.output_names:
        np.testing.assert_allclose(got[name], expected[name].numpy(), rtol=1e-4, atol=1e-3)


def test_spec_can_ask_for_the_legacy_exporter(model, tmp_path):
    model.backbone_spec = dataclasses.replace(model.backbone_spec, onnx_exporter="legacy")
    path = export_onnx(model, tmp_path / "legacy.onnx")
    producer = onnx.load(str(path)).producer_name
    assert producer == "pytorch", producer


def test_a_truncated_onnx_file_gives_a_clear_error(model, tmp_path):
    path = export_onnx(model, tmp_path / "toy.onnx")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(RflocError, match="corrupt, truncated"):
        OnnxModel(path)


def test_a_missing_onnx_file_gives_a_clear_error(tmp_path):
    with pytest.raises(RflocError, match="does not exist"):
        OnnxModel(tmp_path / "nothing.onnx")


class ExplodingBackbone(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("cannot trace this")


def test_a_failed_export_keeps_the_previous_file(model, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "toy.onnx"
    target.write_bytes(b"previous")
    model.backbone = ExplodingBackbone()
    with pytest.raises(RflocError, match="ONNX export of toynet with the dynamo exporter failed"):
        export_onnx(model, target)
    assert target.read_bytes() == b"previous"
    assert list(folder.iterdir()) == [target]


def test_an_opset_below_the_cores_is_refused(model, tmp_path):
    with pytest.raises(RflocError, match=f"at least {ONNX_OPSET}"):
        export_onnx(model, tmp_path / "old.onnx", opset=ONNX_OPSET - 1)
