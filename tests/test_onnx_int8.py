"""The onnx_int8 exporter: a really quantized file, validated against PyTorch, run by rfloc
predict and by the benchmark, and an exported file measured in the eager model's place."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from rfloc_core import create_model
from rfloc_core.bench.backend_names import INT8_BACKEND
from rfloc_core.bench.backends import Target
from rfloc_core.bench.config import LatencyProtocol
from rfloc_core.bench.int8_view import int8_rows
from rfloc_core.bench.latency import measure_latency
from rfloc_core.bench.results import LatencyRow, required_keys
from rfloc_core.bench.results_views import latency_rows_for_table
from rfloc_core.checkpoint import save_checkpoint
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.scenario import load_scenario
from rfloc_core.errors import InvalidInputError, RflocError
from rfloc_core.evaluation.evaluate import evaluate_samples
from rfloc_core.evaluation.runtime_model import RuntimeModel
from rfloc_core.export.onnx_export import export_onnx, read_validation
from rfloc_core.export.onnx_int8 import INT8_TOLERANCE, calibration_features, export_onnx_int8
from rfloc_core.export.onnx_runtime import OnnxModel
from rfloc_core.registry import get_registry
from tests.cli_runner import run_rfloc
from tests.conftest import PluginSite

pytestmark = pytest.mark.usefixtures("toy_registry")

SCENARIO = load_scenario("rss-ideal").model_dump(mode="json")


@pytest.fixture
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model("toynet").eval()


def test_the_file_holds_int8_weights_and_matches_pytorch_within_the_int8_tolerance(model, tmp_path):
    path = export_onnx_int8(model, tmp_path / "m.onnx", scenario=SCENARIO, calibration_samples=64)
    proto = onnx.load(str(path))
    operators = {node.op_type for node in proto.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= operators
    int8_weights = [
        t for t in proto.graph.initializer if t.data_type == onnx.TensorProto.INT8 and t.dims
    ]
    assert int8_weights, "the weights must be stored as int8"
    metadata = {p.key: p.value for p in proto.metadata_props}
    assert metadata["rfloc.dtype"] == "int8"
    assert json.loads(metadata["rfloc.quantization"])["calibration_scenario"] == "rss-ideal"
    report = read_validation(path)
    assert report is not None and report["passed"]
    assert (report["atol"], report["rtol"]) == INT8_TOLERANCE
    assert report["inputs"] == ["simulated"]

    runtime = OnnxModel(path, providers=["CPUExecutionProvider"])
    x = calibration_features(model, SCENARIO, None, samples=6, seed=5)
    with torch.no_grad():
        expected = model(torch.from_numpy(x))["position_m"].numpy()
    got = runtime.run(x)["position_m"]
    scale = np.abs(expected).max()
    assert np.abs(got - expected).max() <= INT8_TOLERANCE[0] + INT8_TOLERANCE[1] * scale
    assert not np.array_equal(got, expected), "an INT8 file cannot give float32's exact numbers"


def test_calibration_follows_the_checkpoints_scenario(model):
    rural = calibration_features(model, None, None, samples=4)
    ideal = calibration_features(model, SCENARIO, None, samples=4)
    assert rural.shape == ideal.shape == (4, 7, *model.input_size)
    assert not np.allclose(rural, ideal)
    narrow = calibration_features(model, SCENARIO, FeatureConfig(mel_bins=128, frames=32), 2)
    assert narrow.shape == (2, 7, 128, 32)


def test_a_receiver_set_model_or_a_mismatched_scenario_is_refused(model, tmp_path):
    set_model = create_model("toynet", fusion="deepsets")
    with pytest.raises(InvalidInputError, match="fixed-network models"):
        export_onnx_int8(set_model, tmp_path / "out" / "set.onnx")
    three = create_model("toynet", receivers=3)
    with pytest.raises(InvalidInputError, match=r"model's 3 fixed receivers.*--format onnx$"):
        export_onnx_int8(three, tmp_path / "out" / "three.onnx")
    int8 = get_registry().exporter("onnx_int8")
    with pytest.raises(InvalidInputError, match=r"^--fp16 and --simplify cannot be combined"):
        int8.export(model, tmp_path / "out" / "half.onnx", fp16=True, simplify=True)
    assert not (tmp_path / "out").exists()


def test_the_legacy_exporter_option_reaches_the_float32_graph(model, tmp_path, monkeypatch):
    import rfloc_core.export.onnx_int8 as onnx_int8

    chosen = []

    def recording(*args, exporter=None, **kwargs):
        chosen.append(exporter)
        raise RflocError("stop after the float32 export")

    monkeypatch.setattr(onnx_int8, "export_onnx", recording)
    with pytest.raises(RflocError, match="stop after"):
        get_registry().exporter("onnx_int8").export(model, tmp_path / "m.onnx", exporter="legacy")
    assert chosen == ["legacy"]


def test_a_quantizer_failure_without_a_message_is_one_line_and_logging_is_restored(
    model, tmp_path, monkeypatch
):
    import logging

    import onnxruntime.quantization

    def failing(*args, **kwargs):
        raise AssertionError  # ONNX Runtime's quantizer has many bare asserts

    monkeypatch.setattr(onnxruntime.quantization, "quantize_static", failing)
    logging.disable(logging.CRITICAL)
    try:
        with pytest.raises(RflocError, match=r"could not quantize toynet: AssertionError$"):
            export_onnx_int8(model, tmp_path / "m.onnx", scenario=SCENARIO, calibration_samples=8)
        assert logging.root.manager.disable == logging.CRITICAL  # the caller's setting stays
    finally:
        logging.disable(logging.NOTSET)
    assert not (tmp_path / "m.onnx").exists()


def test_cli_export_and_predict_run_the_int8_file(
    model, tmp_path: Path, plugin_site: PluginSite
) -> None:
    checkpoint = save_checkpoint(model, tmp_path / "ckpt", scenario=SCENARIO)
    out = tmp_path / "int8.onnx"
    exported = run_rfloc(
        "export", str(checkpoint), "--format", "onnx_int8", "--out", str(out),
        site=plugin_site.path,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert "validation passed" in exported.stdout and "onnxruntime-cpu-int8" in exported.stdout
    assert "histogram" not in exported.stdout and "WARNING" not in exported.stderr
    predicted = run_rfloc(
        "predict", str(out), "--simulate", "3", "--out", str(tmp_path / "p.json"),
        site=plugin_site.path,
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    rows = json.loads((tmp_path / "p.json").read_text())
    assert len(rows) == 3 and all(np.isfinite(row["error_m"]) for row in rows)


def test_an_exported_file_in_the_models_place_gives_the_models_figures(model, tmp_path):
    path = export_onnx(model, tmp_path / "m.onnx", batch_sizes=(1,))
    runtime = OnnxModel(path, providers=["CPUExecutionProvider"])
    scenario = load_scenario("rss-ideal")
    features = FeatureConfig(mel_bins=model.input_size[0], frames=model.input_size[1])
    _, eager = evaluate_samples(model, scenario, features, samples=12, seed=0)
    _, exported = evaluate_samples(
        RuntimeModel(model, runtime.run), scenario, features, samples=12, seed=0
    )
    torch.testing.assert_close(
        exported.model_position_m, eager.model_position_m, atol=1e-2, rtol=1e-4
    )
    torch.testing.assert_close(exported.model_nll, eager.model_nll, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(exported.truth_m, eager.truth_m)
    in_place = RuntimeModel(model, runtime.run)
    bad = torch.zeros(1, 7, *model.input_size)
    bad[0, 2, 5, 5] = float("nan")
    with pytest.raises(InvalidInputError, match="got 1 NaN or infinite"):
        in_place(bad)  # the eager model's checks, before the runtime sees the input
    with pytest.raises(InvalidInputError, match="expected 7 receivers"):
        in_place(torch.zeros(1, 5, *model.input_size))


def test_the_benchmark_times_the_int8_backend_beside_float32():
    protocol = LatencyProtocol(
        backends=("onnxruntime", INT8_BACKEND),
        batch_sizes=(2,),
        threads=1,
        warmup_iterations=1,
        min_iterations=3,
        min_seconds=0.01,
        rounds=1,
    )
    target = Target(torch.device("cpu"), "fp32", 1, (2,))
    rows = measure_latency("toynet", "toy", protocol.backends, protocol, target,
                           peak_gflops_per_s=None)  # fmt: skip
    by_backend = {row["backend"]: row for row in rows}
    assert by_backend[INT8_BACKEND]["status"] == "ok", by_backend[INT8_BACKEND]["reason"]
    assert by_backend[INT8_BACKEND]["precision"] == "int8"
    assert by_backend["onnxruntime"]["precision"] == "fp32"
    assert by_backend[INT8_BACKEND]["p50_ms"] > 0


def test_the_int8_table_joins_latency_and_each_files_accuracy():
    def latency(backend: str, p50_ms: float) -> dict[str, object]:
        return {"model": "m", "backend": backend, "batch_size": 8, "status": "ok",
                "p50_ms": p50_ms, "machine": "box"}  # fmt: skip

    accuracy = {
        "model": "m", "kind": "model", "status": "ok", "error_median_m": 1000.0,
        "ratio_to_crb": 1.2,
        "exported": {INT8_BACKEND: {"error_median_m": 1030.0, "ratio_to_crb": 1.25,
                                    "validation_passed": True}},
    }  # fmt: skip
    results = {
        "latency": [latency("onnxruntime", 20.0), latency(INT8_BACKEND, 8.0)],
        "accuracy": [accuracy],
    }
    (row,) = int8_rows(results)
    assert row["speedup"] == pytest.approx(2.5)
    assert row["error_change"] == "+3.0 %"
    assert (row["float_ratio_to_crb"], row["int8_ratio_to_crb"]) == (1.2, 1.25)
    assert row["validation"] == "passed"
    del accuracy["exported"]
    assert int8_rows(results) == []


def test_an_int8_export_that_fails_leaves_the_models_own_accuracy(model, monkeypatch, tmp_path):
    import rfloc_core.export.onnx_int8 as onnx_int8
    from rfloc_core.bench.accuracy import RunOutcome
    from rfloc_core.bench.accuracy_rows import model_row
    from rfloc_core.bench.config import AccuracyProtocol
    from rfloc_core.bench.exported_accuracy import exported_accuracy

    def broken(*args, **kwargs):
        raise RuntimeError("the quantizer cannot take this graph")

    monkeypatch.setattr(onnx_int8, "export_onnx_int8", broken)
    checkpoint = save_checkpoint(model, tmp_path / "ckpt", scenario=SCENARIO)
    protocol = AccuracyProtocol(scenario="rss-ideal", test_samples=8, seeds=(0,))
    exported = exported_accuracy(checkpoint, [INT8_BACKEND], protocol, (0.0, 0.0))
    message = "RuntimeError: the quantizer cannot take this graph"
    assert exported == {INT8_BACKEND: {"error": message}}
    assert exported_accuracy(checkpoint, ["torch"], protocol, (0.0, 0.0)) is None
    outcome = RunOutcome(
        model="m", family="f", seed=0, train_seconds=1.0, errors_m=[1.0, 2.0],
        mahalanobis2=None, nll=[0.0, 0.0], crb_rmse_m=1.0, baseline_errors_m={},
        exported=exported,
    )  # fmt: skip
    row = model_row([outcome], protocol)
    assert row["error_median_m"] == pytest.approx(1.5)
    assert row["exported"] == {INT8_BACKEND: {"error": message}}  # the reason is kept
    latency = dict.fromkeys(required_keys(LatencyRow)) | {
        "model": "m", "backend": INT8_BACKEND, "batch_size": 1, "status": "ok", "p50_ms": 1.0,
        "machine": "box",
    }  # fmt: skip
    row |= {"status": "ok", "reason": None}
    (table_row,) = latency_rows_for_table({"latency": [latency], "accuracy": [row]})
    # PyTorch's figures are not the INT8 file's: none shown, and the reason is.
    assert table_row["error_median_m"] is None
    assert table_row["accuracy_reason"] == (
        f"the {INT8_BACKEND} file's own accuracy could not be measured: {message}"
    )


def test_the_int8_table_compares_the_same_seed_when_a_row_pools_several():
    from rfloc_core.bench.accuracy import RunOutcome
    from rfloc_core.bench.accuracy_rows import model_row
    from rfloc_core.bench.config import AccuracyProtocol

    def outcome(seed: int, errors_m: list[float], exported=None) -> RunOutcome:
        return RunOutcome(
            model="m", family="f", seed=seed, train_seconds=1.0, errors_m=errors_m,
            mahalanobis2=None, nll=[0.0] * len(errors_m), crb_rmse_m=100.0,
            baseline_errors_m={}, exported=exported,
        )  # fmt: skip

    int8 = {INT8_BACKEND: {"errors_m": [110.0, 110.0, 110.0], "validation_passed": True}}
    first, second = outcome(0, [100.0, 100.0, 100.0], int8), outcome(1, [300.0, 300.0, 300.0])
    row = model_row([first, second], AccuracyProtocol(test_samples=3, seeds=(0, 1)))
    row |= {"status": "ok", "reason": None}
    assert row["error_median_m"] == pytest.approx(200.0)  # both seeds pooled
    latency = [
        {"model": "m", "backend": backend, "batch_size": 8, "status": "ok", "p50_ms": p50_ms,
         "machine": "box"}
        for backend, p50_ms in (("onnxruntime", 20.0), (INT8_BACKEND, 8.0))
    ]  # fmt: skip
    (int8_row,) = int8_rows({"latency": latency, "accuracy": [row]})
    assert int8_row["float_error_median_m"] == pytest.approx(100.0)  # seed 0, as INT8's
    assert int8_row["error_change"] == "+10.0 %"
    assert int8_row["float_ratio_to_crb"] == pytest.approx(1.0)
    assert int8_row["int8_ratio_to_crb"] == pytest.approx(1.1)


def test_the_bench_tests_the_trained_model_through_its_int8_file(model, tmp_path):
    from rfloc_core.bench.accuracy import evaluate_on_test_set
    from rfloc_core.bench.config import AccuracyProtocol
    from rfloc_core.bench.exported_accuracy import exported_accuracy

    checkpoint = save_checkpoint(model, tmp_path / "ckpt", scenario=SCENARIO)
    protocol = AccuracyProtocol(scenario="rss-ideal", test_samples=16, seeds=(0,))
    (measured,) = exported_accuracy(checkpoint, [INT8_BACKEND], protocol, (0.0, 0.0)).values()
    eager, _ = evaluate_on_test_set(checkpoint, protocol, (0.0, 0.0), device=torch.device("cpu"))
    assert len(measured["errors_m"]) == len(eager["errors_m"]) == 16
    assert measured["errors_m"] != eager["errors_m"], "the errors must be the INT8 file's own"
    assert np.median(measured["errors_m"]) == pytest.approx(np.median(eager["errors_m"]), rel=0.2)
    assert isinstance(measured["validation_passed"], bool)
