"""TensorRT engines: batch profiles, the sidecar and its checks, clear errors where TensorRT
or a GPU is missing, and (marked ``tensorrt``) real builds compared with PyTorch."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import sys
import types

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from rfloc_core import create_model
from rfloc_core.errors import InvalidInputError, RflocError
from rfloc_core.export.errors import ArtifactError, BackendUnavailableError, ExportValidationError
from rfloc_core.export.onnx_export import export_onnx
from rfloc_core.export.tensorrt_engine import (
    SIDECAR_FORMAT,
    BatchProfile,
    build_engine,
    check_engine_compatible,
    parse_batch_profile,
    read_sidecar,
    sidecar_path,
    tensorrt_logger,
    tensorrt_unavailable_reason,
)
from rfloc_core.export.tensorrt_runtime import TensorRTRuntime

UNAVAILABLE = tensorrt_unavailable_reason()
NOT_INSTALLED = "the tensorrt Python package is not installed"
NO_GPU = "torch sees no CUDA GPU"
TINY_METADATA = {
    "rfloc.backbone": "tiny",
    "rfloc.head": "gaussian",
    "rfloc.receivers": "7",
    "rfloc.input_size": "[128, 32]",
}


@pytest.fixture
def no_tensorrt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the tensorrt package nor a GPU, whatever this machine has."""
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def tiny_onnx(
    path,
    *,
    input_name="spectrogram",
    elem_type=TensorProto.FLOAT,
    shape=("batch", 7, 128, 32),
    weight_type=None,
):
    """A one-node ONNX file with the contract's input, never built: for the checks that run
    before TensorRT is needed."""
    spectrogram = helper.make_tensor_value_info(input_name, elem_type, list(shape))
    position = helper.make_tensor_value_info("position_m", elem_type, [shape[0], 2])
    nodes = [helper.make_node("Identity", [input_name], ["copy"])]
    initializers = []
    if weight_type is not None:
        initializers.append(helper.make_tensor("weight", weight_type, [2, 2], [1.0, 0.0, 0.0, 1.0]))
    graph = helper.make_graph(nodes, "tiny", [spectrogram], [position], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    for key, value in TINY_METADATA.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path


def valid_sidecar(**changes):
    sidecar = {
        "format": SIDECAR_FORMAT,
        "tensorrt_version": "10.3.0",
        "gpu_name": "NVIDIA L4",
        "compute_capability": "8.9",
        "profile": {"min": 1, "opt": 8, "max": 32},
        "fp16": False,
        "onnx_sha256": "0" * 64,
        "input_shape_without_batch": [7, 128, 32],
        "rfloc": {"rfloc.backbone": "toynet"},
    }
    return sidecar | changes


# --- what is missing -------------------------------------------------------------------------


def test_the_reason_names_what_this_machine_lacks():
    has_package = importlib.util.find_spec("tensorrt") is not None
    has_gpu = torch.cuda.is_available()
    reason = tensorrt_unavailable_reason()
    if has_package and has_gpu:
        assert reason is None or "TensorRT" in reason
        return
    assert reason is not None
    assert (NOT_INSTALLED in reason) == (not has_package)
    assert (NO_GPU in reason) == (not has_gpu)


def test_both_reasons_are_joined_when_both_are_missing(no_tensorrt):
    assert tensorrt_unavailable_reason() == (
        "the tensorrt Python package is not installed (pip install tensorrt; it needs an "
        "NVIDIA GPU and driver); torch sees no CUDA GPU (TensorRT engines run only on NVIDIA "
        "GPUs)"
    )


def test_only_the_gpu_is_named_when_the_package_imports(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", types.SimpleNamespace(__version__="10.3.0"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    reason = tensorrt_unavailable_reason()
    assert reason is not None
    assert NO_GPU in reason
    assert NOT_INSTALLED not in reason


def test_tensorrt_older_than_10_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", types.SimpleNamespace(__version__="8.6.1"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    reason = tensorrt_unavailable_reason()
    assert reason is not None
    assert "TensorRT 8.6.1" in reason
    assert "10 or newer" in reason


def test_the_runtime_says_why_it_is_unavailable(no_tensorrt):
    with pytest.raises(BackendUnavailableError) as raised:
        TensorRTRuntime("x.engine")
    reason = tensorrt_unavailable_reason()
    assert reason is not None
    assert reason in str(raised.value)


def test_build_says_why_it_is_unavailable_and_writes_nothing(no_tensorrt, tmp_path):
    source = tiny_onnx(tmp_path / "tiny.onnx")
    with pytest.raises(BackendUnavailableError, match=NOT_INSTALLED):
        build_engine(source, tmp_path / "tiny.engine", profile=BatchProfile(1, 2, 4))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.onnx"]


# --- batch profiles ------------------------------------------------------------------------


@pytest.mark.parametrize(("smallest", "tuned", "largest"), [(1, 1, 1), (1, 8, 32), (4, 4, 64)])
def test_a_valid_batch_profile_is_kept(smallest, tuned, largest):
    profile = BatchProfile(smallest, tuned, largest)
    assert (profile.min, profile.opt, profile.max) == (smallest, tuned, largest)
    assert profile.as_dict() == {"min": smallest, "opt": tuned, "max": largest}
    assert largest in profile
    assert largest + 1 not in profile


@pytest.mark.parametrize(
    ("smallest", "tuned", "largest"),
    [(0, 1, 2), (1, 8, 4), (8, 4, 16), (-1, 1, 1), (1, 2.5, 4), (True, 1, 1)],
)
def test_an_invalid_batch_profile_is_refused(smallest, tuned, largest):
    with pytest.raises(InvalidInputError, match="1 <= min <= opt <= max"):
        BatchProfile(smallest, tuned, largest)


def test_an_invalid_batch_profile_is_a_value_error():
    with pytest.raises(ValueError, match="such as 1,8,32"):
        BatchProfile(4, 2, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1,8,32", BatchProfile(1, 8, 32)), (" 2, 2 ,2 ", BatchProfile(2, 2, 2))],
)
def test_batch_profile_text_is_parsed(text, expected):
    assert parse_batch_profile(text) == expected


@pytest.mark.parametrize("text", ["8", "1,8", "1,8,32,64", "a,b,c", "1.5,2,3", "", "1,,3"])
def test_batch_profile_text_that_is_not_three_numbers_is_refused(text):
    with pytest.raises(InvalidInputError, match="three comma-separated whole numbers"):
        parse_batch_profile(text)


def test_batch_profile_text_out_of_order_is_refused():
    with pytest.raises(InvalidInputError, match="min=8, opt=4, max=16"):
        parse_batch_profile("8,4,16")


# --- the sidecar ---------------------------------------------------------------------------


def test_a_matching_engine_passes_the_compatibility_check():
    check_engine_compatible(
        valid_sidecar(), tensorrt_version="10.3.0", gpu_name="NVIDIA L4", compute_capability="8.9"
    )


def test_another_tensorrt_version_is_named_with_the_fix():
    with pytest.raises(ArtifactError) as raised:
        check_engine_compatible(
            valid_sidecar(),
            tensorrt_version="10.7.0",
            gpu_name="NVIDIA L4",
            compute_capability="8.9",
        )
    message = str(raised.value)
    assert "TensorRT 10.3.0" in message
    assert "TensorRT 10.7.0" in message
    assert "rfloc export CKPT --format tensorrt" in message
    assert "\n" not in message


def test_another_gpu_is_named_with_the_fix():
    with pytest.raises(ArtifactError) as raised:
        check_engine_compatible(
            valid_sidecar(),
            tensorrt_version="10.3.0",
            gpu_name="NVIDIA H100 80GB HBM3",
            compute_capability="9.0",
        )
    message = str(raised.value)
    assert "NVIDIA L4" in message
    assert "NVIDIA H100 80GB HBM3" in message
    assert "compute capability 8.9" in message
    assert "compute capability 9.0" in message
    assert "on this machine" in message


def test_a_valid_sidecar_is_read(tmp_path):
    engine = tmp_path / "model.engine"
    sidecar_path(engine).write_text(json.dumps(valid_sidecar(validation={"passed": True})))
    assert sidecar_path(engine).name == "model.engine.json"
    assert read_sidecar(engine)["profile"] == {"min": 1, "opt": 8, "max": 32}


def test_a_missing_sidecar_is_an_artifact_error(tmp_path):
    with pytest.raises(ArtifactError, match=r"model\.engine\.json.*there is none"):
        read_sidecar(tmp_path / "model.engine")


def test_a_sidecar_that_is_not_json_is_an_artifact_error(tmp_path):
    (tmp_path / "model.engine.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="malformed"):
        read_sidecar(tmp_path / "model.engine")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("[1, 2]", "format 'rfloc-tensorrt-engine'"),
        (json.dumps(valid_sidecar(format="other")), "format 'rfloc-tensorrt-engine'"),
        (json.dumps(valid_sidecar(gpu_name=None)), "gpu_name"),
        (json.dumps(valid_sidecar(profile={"min": 4, "opt": 2, "max": 1})), "profile"),
        (json.dumps(valid_sidecar(profile={"min": 1})), "profile"),
        (json.dumps(valid_sidecar(input_shape_without_batch=[7, "x"])), "input_shape"),
        (json.dumps({k: v for k, v in valid_sidecar().items() if k != "rfloc"}), "rfloc"),
    ],
)
def test_a_malformed_sidecar_is_an_artifact_error(tmp_path, content, match):
    (tmp_path / "model.engine.json").write_text(content)
    with pytest.raises(ArtifactError, match=match):
        read_sidecar(tmp_path / "model.engine")


# --- checks on the ONNX file before TensorRT is needed -------------------------------------


def test_a_missing_onnx_file_is_an_artifact_error(tmp_path):
    with pytest.raises(ArtifactError, match="there is none"):
        build_engine(tmp_path / "none.onnx", tmp_path / "x.engine", profile=BatchProfile(1, 1, 1))


def test_an_onnx_file_with_another_input_name_is_refused(tmp_path):
    source = tiny_onnx(tmp_path / "tiny.onnx", input_name="x")
    with pytest.raises(ArtifactError, match=r"single input 'spectrogram' but it has \['x'\]"):
        build_engine(source, tmp_path / "x.engine", profile=BatchProfile(1, 1, 1))


def test_an_onnx_file_with_dynamic_feature_dims_is_refused(tmp_path):
    source = tiny_onnx(tmp_path / "tiny.onnx", shape=("batch", 7, "mels", 32))
    with pytest.raises(ArtifactError, match="only the batch dynamic"):
        build_engine(source, tmp_path / "x.engine", profile=BatchProfile(1, 1, 1))


def test_fp16_needs_an_fp16_onnx_input(tmp_path):
    source = tiny_onnx(tmp_path / "tiny.onnx")
    with pytest.raises(ExportValidationError, match=r"input of .* is float32; export .* --fp16"):
        build_engine(source, tmp_path / "x.engine", profile=BatchProfile(1, 1, 1), fp16=True)


def test_fp16_needs_fp16_weights(tmp_path):
    source = tiny_onnx(
        tmp_path / "tiny.onnx", elem_type=TensorProto.FLOAT16, weight_type=TensorProto.FLOAT
    )
    with pytest.raises(ExportValidationError, match=r"1 float32 weights \(weight\)"):
        build_engine(source, tmp_path / "x.engine", profile=BatchProfile(1, 1, 1), fp16=True)


def test_an_fp16_onnx_file_needs_fp16_true(tmp_path):
    source = tiny_onnx(tmp_path / "tiny.onnx", elem_type=TensorProto.FLOAT16)
    with pytest.raises(ExportValidationError, match="build with fp16=True"):
        build_engine(source, tmp_path / "x.engine", profile=BatchProfile(1, 1, 1))


def test_a_float16_onnx_file_passes_the_fp16_checks(no_tensorrt, tmp_path):
    source = tiny_onnx(
        tmp_path / "tiny.onnx", elem_type=TensorProto.FLOAT16, weight_type=TensorProto.FLOAT16
    )
    with pytest.raises(BackendUnavailableError):
        build_engine(source, tmp_path / "x.engine", profile=BatchProfile(1, 1, 1), fp16=True)


def test_a_workspace_of_zero_bytes_is_refused(tmp_path):
    source = tiny_onnx(tmp_path / "tiny.onnx")
    with pytest.raises(InvalidInputError, match="workspace_bytes must be positive"):
        build_engine(
            source, tmp_path / "x.engine", profile=BatchProfile(1, 1, 1), workspace_bytes=0
        )


# --- the TensorRT calls, against a stand-in for the tensorrt module -----------------------


class FakeTensorRT(types.ModuleType):
    """Records what build_engine and TensorRTRuntime ask of TensorRT 10's Python API."""

    def __init__(self, *, parser_errors=(), engine_bytes=b"ENGINE", cache_bytes=b"CACHE"):
        super().__init__("tensorrt")
        fake = self
        self.__version__ = "10.3.0"
        self.calls = []
        self.deserialized = None
        self.Logger = type("Logger", (), {"WARNING": 2, "__init__": lambda s, level: None})
        self.NetworkDefinitionCreationFlag = types.SimpleNamespace(STRONGLY_TYPED=0)
        self.MemoryPoolType = types.SimpleNamespace(WORKSPACE="workspace")
        self.BuilderFlag = types.SimpleNamespace(TF32="tf32", FP16="fp16")
        self.TensorIOMode = types.SimpleNamespace(INPUT="input", OUTPUT="output")
        self.DataType = types.SimpleNamespace(
            FLOAT="f32",
            HALF="f16",
            BF16="bf16",
            INT8="i8",
            UINT8="u8",
            INT32="i32",
            INT64="i64",
            BOOL="bool",
        )

        class Recorder:
            def __getattr__(self, name):
                return lambda *args, **kwargs: fake.calls.append((name, args, kwargs))

        class Cache:
            def serialize(self):
                return cache_bytes

        class Config(Recorder):
            def create_timing_cache(self, data):
                fake.calls.append(("create_timing_cache", (data,), {}))
                return Cache()

            def set_timing_cache(self, cache, ignore_mismatch):
                return True

            def get_timing_cache(self):
                return Cache()

        class Builder(Recorder):
            def __init__(self, logger):
                pass

            def create_network(self, flags):
                fake.calls.append(("create_network", (flags,), {}))
                return object()

            def create_builder_config(self):
                return Config()

            def create_optimization_profile(self):
                return Recorder()

            def build_serialized_network(self, network, config):
                return engine_bytes

        class Parser:
            def __init__(self, network, logger):
                self.num_errors = len(parser_errors)

            def parse_from_file(self, path):
                return not parser_errors

            def get_error(self, index):
                return parser_errors[index]

        class Runtime:
            def __init__(self, logger):
                pass

            def deserialize_cuda_engine(self, data):
                return fake.deserialized

        self.Builder, self.OnnxParser, self.Runtime = Builder, Parser, Runtime


@pytest.fixture
def fake_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "NVIDIA L4")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (8, 9))
    monkeypatch.setattr(torch.cuda, "device", lambda device: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "Stream", lambda device=None: object())


@pytest.fixture
def fake_trt(monkeypatch, fake_gpu):
    def install(**options):
        fake = FakeTensorRT(**options)
        monkeypatch.setitem(sys.modules, "tensorrt", fake)
        return fake

    tensorrt_logger.cache_clear()
    yield install
    tensorrt_logger.cache_clear()


def test_build_writes_engine_sidecar_and_timing_cache(fake_trt, tmp_path):
    fake = fake_trt(engine_bytes=b"ENGINE", cache_bytes=b"CACHE")
    source = tiny_onnx(tmp_path / "tiny.onnx")
    (tmp_path / "timing.cache").write_bytes(b"OLD")
    engine = build_engine(
        source,
        tmp_path / "out" / "tiny.engine",
        profile=BatchProfile(1, 4, 8),
        timing_cache=tmp_path / "timing.cache",
        workspace_bytes=1 << 20,
    )
    assert engine.read_bytes() == b"ENGINE"
    assert (tmp_path / "timing.cache").read_bytes() == b"CACHE"
    assert sorted(p.name for p in engine.parent.iterdir()) == ["tiny.engine", "tiny.engine.json"]
    sidecar = read_sidecar(engine)
    assert sidecar["format"] == SIDECAR_FORMAT
    assert (sidecar["tensorrt_version"], sidecar["gpu_name"]) == ("10.3.0", "NVIDIA L4")
    assert sidecar["compute_capability"] == "8.9"
    assert sidecar["profile"] == {"min": 1, "opt": 4, "max": 8}
    assert sidecar["fp16"] is False
    assert sidecar["onnx_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert sidecar["input_shape_without_batch"] == [7, 128, 32]
    assert sidecar["rfloc"] == TINY_METADATA
    calls = {(name, args) for name, args, _ in fake.calls}
    assert ("create_network", (1,)) in calls, "the network must be strongly typed"
    assert ("set_memory_pool_limit", ("workspace", 1 << 20)) in calls
    assert ("clear_flag", ("tf32",)) in calls
    assert not any(name == "set_flag" for name, _ in calls), "no precision flag when typed"
    assert ("create_timing_cache", (b"OLD",)) in calls
    assert (
        "set_shape",
        ("spectrogram", (1, 7, 128, 32), (4, 7, 128, 32), (8, 7, 128, 32)),
    ) in calls


def test_parser_errors_become_one_sentence(fake_trt, tmp_path):
    fake_trt(parser_errors=["node 3: Unsupported op\n  Foo", "node 4: bad attribute"])
    source = tiny_onnx(tmp_path / "tiny.onnx")
    with pytest.raises(ArtifactError) as raised:
        build_engine(source, tmp_path / "tiny.engine", profile=BatchProfile(1, 1, 1))
    message = str(raised.value)
    assert "2 error(s) (node 3: Unsupported op Foo | node 4: bad attribute)" in message
    assert "\n" not in message
    assert not (tmp_path / "tiny.engine").exists()


def test_a_failed_build_writes_nothing(fake_trt, tmp_path):
    fake_trt(engine_bytes=None)
    source = tiny_onnx(tmp_path / "tiny.onnx")
    with pytest.raises(RflocError, match="the build failed"):
        build_engine(source, tmp_path / "tiny.engine", profile=BatchProfile(1, 1, 1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.onnx"]


def test_the_runtime_checks_the_sidecar_before_deserializing(fake_trt, tmp_path):
    fake = fake_trt()
    engine = build_engine(
        tiny_onnx(tmp_path / "tiny.onnx"), tmp_path / "tiny.engine", profile=BatchProfile(1, 1, 1)
    )
    fake.__version__ = "10.7.0"
    with pytest.raises(ArtifactError, match=r"TensorRT 10\.7\.0 .* TensorRT 10\.3\.0"):
        TensorRTRuntime(engine)
    fake.__version__ = "10.3.0"
    engine.write_bytes(b"OTHER")
    with pytest.raises(ArtifactError, match="content differs"):
        TensorRTRuntime(engine)


def test_an_engine_tensorrt_cannot_load_is_an_artifact_error(fake_trt, tmp_path):
    fake = fake_trt()
    engine = build_engine(
        tiny_onnx(tmp_path / "tiny.onnx"), tmp_path / "tiny.engine", profile=BatchProfile(1, 1, 1)
    )
    fake.deserialized = None
    with pytest.raises(ArtifactError, match="corrupt or built by another TensorRT"):
        TensorRTRuntime(engine)


class FakeEngine:
    names = ("spectrogram", "position_m", "sigma_m")

    def __init__(self):
        self.num_io_tensors = len(self.names)

    def get_tensor_name(self, index):
        return self.names[index]

    def get_tensor_mode(self, name):
        return "input" if name == "spectrogram" else "output"

    def get_tensor_profile_shape(self, name, profile_index):
        return [(1, 7, 128, 32), (4, 7, 128, 32), (8, 7, 128, 32)]

    def get_tensor_shape(self, name):
        return (-1, 7, 128, 32) if name == "spectrogram" else (-1, 2)

    def get_tensor_dtype(self, name):
        return "f32"

    def create_execution_context(self):
        return object()


def test_the_runtime_describes_the_engine_and_checks_inputs(fake_trt, tmp_path):
    fake = fake_trt()
    engine = build_engine(
        tiny_onnx(tmp_path / "tiny.onnx"), tmp_path / "tiny.engine", profile=BatchProfile(1, 4, 8)
    )
    fake.deserialized = FakeEngine()
    runtime = TensorRTRuntime(engine)
    assert runtime.name == "tensorrt"
    assert runtime.path == engine
    assert runtime.input_name == "spectrogram"
    assert runtime.output_names == ("position_m", "sigma_m")
    assert runtime.profile == BatchProfile(1, 4, 8)
    assert runtime.metadata == TINY_METADATA
    with pytest.raises(ArtifactError, match="batches of 1 to 8 but got 9"):
        runtime.run_torch(torch.zeros(9, 7, 128, 32))
    with pytest.raises(ArtifactError, match=r"input \(batch, 7, 128, 32\) .* got \(2, 7, 64, 32\)"):
        runtime.run_torch(torch.zeros(2, 7, 64, 32))
    with pytest.raises(ArtifactError, match=r"got \(2, 7, 64, 32\)"):
        runtime.run(np.zeros((2, 7, 64, 32), dtype=np.float32))
    with pytest.raises(InvalidInputError, match="floating-point"):
        runtime.run_torch(torch.zeros(2, 7, 128, 32, dtype=torch.int32))


# --- real engines (TensorRT and an NVIDIA GPU) ---------------------------------------------


def needs_tensorrt(test):
    """Marked ``tensorrt``; the skip shows ``tensorrt_unavailable_reason()`` (a skipif mark is
    evaluated before the rfloc plugin's own GPU check)."""
    skip = pytest.mark.skipif(UNAVAILABLE is not None, reason=str(UNAVAILABLE))
    return pytest.mark.tensorrt(skip(test))


@pytest.fixture
def tensorrt_ready() -> None:
    reason = tensorrt_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture
def model(toy_registry):
    torch.manual_seed(0)
    return create_model("toynet", head="mixture").eval()


@pytest.fixture
def fp32_engine(tensorrt_ready, model, tmp_path):
    source = export_onnx(model, tmp_path / "toy.onnx", validate=False)
    return build_engine(
        source,
        tmp_path / "toy.engine",
        profile=BatchProfile(1, 4, 8),
        timing_cache=tmp_path / "timing.cache",
    )


def expected_outputs(model, spectrogram):
    with torch.no_grad():
        return {k: v.float().numpy() for k, v in model(spectrogram).items()}


@needs_tensorrt
def test_an_fp32_engine_matches_pytorch(fp32_engine, model, tmp_path):
    sidecar = read_sidecar(fp32_engine)
    assert sidecar["profile"] == {"min": 1, "opt": 4, "max": 8}
    assert sidecar["fp16"] is False
    assert sidecar["input_shape_without_batch"] == [7, 128, 32]
    assert sidecar["rfloc"]["rfloc.backbone"] == "toynet"
    assert sidecar["gpu_name"] == torch.cuda.get_device_name(0)
    assert (tmp_path / "timing.cache").stat().st_size > 0
    runtime = TensorRTRuntime(fp32_engine)
    assert runtime.name == "tensorrt"
    assert runtime.input_name == "spectrogram"
    assert set(runtime.output_names) == set(model.output_names)
    assert runtime.profile == BatchProfile(1, 4, 8)
    assert runtime.metadata["rfloc.head"] == "mixture"
    for batch in (1, 5, 8):
        spectrogram = torch.randn(batch, 7, 128, 32)
        expected = expected_outputs(model, spectrogram)
        got = runtime.run(spectrogram.numpy())
        for name in model.output_names:
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-3, atol=1e-3)


@needs_tensorrt
def test_run_torch_takes_and_gives_cuda_tensors(fp32_engine, model):
    runtime = TensorRTRuntime(fp32_engine)
    spectrogram = torch.randn(3, 7, 128, 32)
    got = runtime.run_torch(spectrogram.cuda())
    expected = expected_outputs(model, spectrogram)
    for name, value in got.items():
        assert value.device.type == "cuda"
        np.testing.assert_allclose(value.cpu().numpy(), expected[name], rtol=1e-3, atol=1e-3)


@needs_tensorrt
def test_cuda_graphs_give_the_plain_results_for_each_shape(fp32_engine):
    plain = TensorRTRuntime(fp32_engine)
    graphed = TensorRTRuntime(fp32_engine, cuda_graph=True)
    for batch in (2, 2, 7, 2):
        spectrogram = torch.randn(batch, 7, 128, 32, device="cuda")
        expected = plain.run_torch(spectrogram)
        got = graphed.run_torch(spectrogram)
        for name in plain.output_names:
            torch.testing.assert_close(got[name], expected[name], rtol=1e-5, atol=1e-5)


@needs_tensorrt
def test_inputs_outside_the_engine_are_artifact_errors(fp32_engine):
    runtime = TensorRTRuntime(fp32_engine)
    with pytest.raises(ArtifactError, match="batches of 1 to 8 but got 9"):
        runtime.run_torch(torch.randn(9, 7, 128, 32, device="cuda"))
    with pytest.raises(ArtifactError, match=r"\(batch, 7, 128, 32\)"):
        runtime.run_torch(torch.randn(2, 7, 64, 32, device="cuda"))


@needs_tensorrt
def test_an_engine_from_another_tensorrt_is_refused(fp32_engine):
    sidecar = read_sidecar(fp32_engine) | {"tensorrt_version": "9.0.0"}
    sidecar_path(fp32_engine).write_text(json.dumps(sidecar))
    with pytest.raises(ArtifactError, match=r"TensorRT 9\.0\.0"):
        TensorRTRuntime(fp32_engine)


@needs_tensorrt
def test_a_truncated_engine_is_an_artifact_error(fp32_engine):
    data = fp32_engine.read_bytes()
    fp32_engine.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="rebuild the engine"):
        TensorRTRuntime(fp32_engine)


@needs_tensorrt
def test_a_rebuild_reuses_the_timing_cache(fp32_engine, tmp_path):
    cache = tmp_path / "timing.cache"
    before = cache.read_bytes()
    again = build_engine(
        tmp_path / "toy.onnx",
        tmp_path / "again.engine",
        profile=BatchProfile(1, 4, 8),
        timing_cache=cache,
    )
    assert len(cache.read_bytes()) >= len(before)
    assert TensorRTRuntime(again).profile == BatchProfile(1, 4, 8)


@needs_tensorrt
def test_an_fp16_engine_matches_pytorch_loosely(tensorrt_ready, model, tmp_path):
    source = export_onnx(model, tmp_path / "toy16.onnx", fp16=True, validate=False)
    engine = build_engine(
        source, tmp_path / "toy16.engine", profile=BatchProfile(1, 2, 4), fp16=True
    )
    assert read_sidecar(engine)["fp16"] is True
    runtime = TensorRTRuntime(engine)
    spectrogram = torch.rand(4, 7, 128, 32) * 2 - 1
    expected = expected_outputs(model, spectrogram)
    got = runtime.run(spectrogram.numpy().astype(np.float16))
    for name in model.output_names:
        np.testing.assert_allclose(got[name], expected[name], rtol=2e-2, atol=1e-1)
