"""Export validation against PyTorch, bad artifacts, and predictions from every format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pymap3d
import pytest
import torch

from rfloc_core import create_model
from rfloc_core.checkpoint import read_checkpoint_config, save_checkpoint
from rfloc_core.data.scenario import load_scenario
from rfloc_core.export import validation
from rfloc_core.export.errors import ArtifactError, ExportValidationError
from rfloc_core.export.onnx_export import export_onnx, read_validation
from rfloc_core.export.predict import predict
from rfloc_core.export.runtimes import load_runtime
from rfloc_core.export.validation import ValidationReport, compare
from tests.cli_runner import run_rfloc
from tests.conftest import PluginSite

pytestmark = pytest.mark.usefixtures("toy_registry")


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = create_model("toynet", head_options={"position_scale_m": 20_000.0})
    scenario = load_scenario("vhf-rural")
    return save_checkpoint(model, tmp_path / "ckpt", scenario=scenario)


def _report() -> ValidationReport:
    return ValidationReport("test", atol=1e-4, rtol=1e-4, batch_sizes=(1,), inputs=("x",))


def test_compare_judges_differences_against_the_output_scale() -> None:
    report = _report()
    reference = {"position_m": np.array([[10_000.0, 0.5]])}
    compare(reference, {"position_m": np.array([[10_000.9, 0.6]])}, report, "here")
    entry = report.outputs["position_m"]
    assert entry.max_abs == pytest.approx(0.9, rel=1e-6)
    assert entry.max_rel == pytest.approx(0.9 / 10_000.0, rel=1e-6)
    assert entry.failing_elements == 0 and report.passed  # limit 1e-4 + 1e-4 * 10 km = 1 m
    compare(reference, {"position_m": np.array([[10_002.0, 0.5]])}, report, "there")
    assert report.outputs["position_m"].failing_elements == 1 and not report.passed


def test_the_limit_allows_ten_times_pytorchs_own_float32_rounding() -> None:
    report = ValidationReport("test", atol=0.0, rtol=0.0, batch_sizes=(1,), inputs=("x",))
    report.rounding_factor = validation.ROUNDING_FACTOR
    reference = {"position_m": np.array([[10_000.0, 0.5]])}
    exact = {"position_m": np.array([[10_000.03, 0.5]])}  # float32 rounded by 3 cm
    compare(reference, {"position_m": np.array([[10_000.25, 0.5]])}, report, "a", exact)
    assert report.passed and report.outputs["position_m"].float32_rounding == pytest.approx(0.03)
    compare(reference, {"position_m": np.array([[10_000.4, 0.5]])}, report, "b", exact)
    assert report.outputs["position_m"].failing_elements == 1


def test_validation_measures_the_rounding_against_the_model_in_float64(checkpoint: Path) -> None:
    import copy

    model = load_runtime(checkpoint).model
    in_float64 = copy.deepcopy(model).double()

    def exact(spectrogram: np.ndarray) -> dict[str, np.ndarray]:
        with torch.no_grad():
            outputs = in_float64(torch.from_numpy(spectrogram).double())
        return {name: value.numpy() for name, value in outputs.items()}

    strict = (0.0, 0.0)
    report = validation.validate(model, exact, runtime="float64", tolerance=strict)
    assert report.passed and report.rounding_factor == 10.0
    assert 0 < report.outputs["position_m"].float32_rounding < 0.05  # metres at 20 km

    def far(spectrogram: np.ndarray) -> dict[str, np.ndarray]:
        outputs = exact(spectrogram)
        rounding = report.outputs["position_m"].float32_rounding
        return outputs | {"position_m": outputs["position_m"] + 30 * rounding}

    assert not validation.validate(model, far, runtime="off", tolerance=strict).passed
    assert validation.validate(model, exact, runtime="fp16", fp16=True).rounding_factor == 0.0


def test_compare_fails_on_another_output_name_or_shape() -> None:
    reference = {"position_m": np.zeros((2, 2)), "sigma_m": np.ones((2, 2))}
    with pytest.raises(ExportValidationError, match=r"outputs are \['position_m'\]"):
        compare(reference, {"position_m": np.zeros((2, 2))}, _report(), "x")
    with pytest.raises(ExportValidationError, match=r"sigma_m has shape \(2, 3\)"):
        compare(
            reference, {"position_m": np.zeros((2, 2)), "sigma_m": np.ones((2, 3))}, _report(), "x"
        )


def test_export_records_its_validation_per_output(checkpoint: Path, tmp_path: Path) -> None:
    model = load_runtime(checkpoint).model
    path = export_onnx(model, tmp_path / "m.onnx", batch_sizes=(1, 3))
    report = read_validation(path)
    assert report is not None and report["passed"] is True
    assert report["batch_sizes"] == [1, 3]
    assert report["inputs"] == ["random", "simulated"]
    for name in ("position_m", "sigma_m"):
        assert 0 <= report["outputs"][name]["max_abs"] < 0.05  # metres, at a 20 km scale


def test_a_tolerance_miss_fails_unless_allowed_and_is_then_recorded(
    checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_runtime(checkpoint).model
    monkeypatch.setattr(validation, "FP32_TOLERANCE", (-1.0, 0.0))  # nothing can pass
    with pytest.raises(ExportValidationError, match="pass --allow-mismatch"):
        export_onnx(model, tmp_path / "strict.onnx", batch_sizes=(1,))
    assert not (tmp_path / "strict.onnx").exists()
    assert list(tmp_path.glob("*.tmp")) == []
    path = export_onnx(model, tmp_path / "kept.onnx", batch_sizes=(1,), allow_mismatch=True)
    report = read_validation(path)
    assert report is not None and report["passed"] is False


def test_simplified_and_fp16_exports_validate(checkpoint: Path, tmp_path: Path) -> None:
    model = load_runtime(checkpoint).model
    slim = export_onnx(model, tmp_path / "slim.onnx", simplify=True, batch_sizes=(2,))
    assert read_validation(slim)["passed"] is True  # type: ignore[index]
    half = export_onnx(model, tmp_path / "half.onnx", fp16=True, batch_sizes=(2,))
    report = read_validation(half)
    assert report is not None and report["passed"] is True
    assert (
        onnx.load(str(half)).graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT16
    )


def test_truncated_foreign_and_mismatched_artifacts_get_clear_errors(
    checkpoint: Path, tmp_path: Path
) -> None:
    model = load_runtime(checkpoint).model
    path = export_onnx(model, tmp_path / "m.onnx", batch_sizes=(1,))
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ArtifactError, match="corrupt, truncated"):
        load_runtime(truncated)
    foreign = onnx.load(str(path))
    del foreign.metadata_props[:]
    onnx.save(foreign, str(tmp_path / "foreign.onnx"))
    with pytest.raises(ArtifactError, match="lacks the rfloc metadata"):
        load_runtime(tmp_path / "foreign.onnx")
    runtime = load_runtime(path)
    with pytest.raises(ArtifactError, match=r"exported for input \(batch, 7, 128, 32\)"):
        runtime.run(np.zeros((1, 5, 128, 32), dtype=np.float32))
    with pytest.raises(ArtifactError, match="neither a checkpoint folder"):
        load_runtime(tmp_path / "ckpt" / read_checkpoint_config(tmp_path / "ckpt").weights_file)


def test_predict_agrees_across_formats_and_with_geodesy(checkpoint: Path, tmp_path: Path) -> None:
    model = load_runtime(checkpoint).model
    metadata = {"rfloc.scenario": json.dumps(load_scenario("vhf-rural").model_dump(mode="json"))}
    onnx_path = export_onnx(model, tmp_path / "m.onnx", metadata=metadata, batch_sizes=(1,))
    eager = predict(checkpoint, simulate=6, seed=3)
    exported = predict(onnx_path, simulate=6, seed=3)
    for a, b in zip(eager, exported, strict=True):
        assert (a.east_m, a.north_m) == pytest.approx((b.east_m, b.north_m), abs=0.05)
        assert a.semi_major_m == pytest.approx(b.semi_major_m, rel=1e-4)
        assert a.semi_major_m >= a.semi_minor_m > 0
        assert a.error_m == pytest.approx(
            np.hypot(a.east_m - a.truth_east_m, a.north_m - a.truth_north_m)
        )
    receivers = load_scenario("vhf-rural").receivers
    lat0 = np.mean([r.latitude_deg for r in receivers])
    lon0 = np.mean([r.longitude_deg for r in receivers])
    alt0 = np.mean([r.altitude_m for r in receivers])
    east, north, _ = pymap3d.geodetic2enu(
        eager[0].latitude_deg, eager[0].longitude_deg, alt0 - 0, lat0, lon0, alt0
    )
    assert (east, north) == pytest.approx((eager[0].east_m, eager[0].north_m), abs=1.0)


def test_cli_export_and_predict(checkpoint: Path, tmp_path: Path, plugin_site: PluginSite) -> None:
    out = tmp_path / "cli.onnx"
    exported = run_rfloc("export", str(checkpoint), "--out", str(out), site=plugin_site.path)
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert "validation passed" in exported.stdout
    assert "position_m" in exported.stdout and "max abs diff" in exported.stdout
    predicted = run_rfloc(
        "predict", str(out), "--simulate", "3", "--out", str(tmp_path / "p.json"),
        site=plugin_site.path,
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    rows = json.loads((tmp_path / "p.json").read_text())
    assert len(rows) == 3 and {"latitude_deg", "semi_major_m", "error_m"} <= rows[0].keys()
    missing = run_rfloc("predict", str(out), site=plugin_site.path)
    assert missing.returncode == 1
    assert "give either --sigmf FILES" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_predict_from_sigmf_recordings_matches_the_simulated_features(
    checkpoint: Path, tmp_path: Path
) -> None:
    from rfloc_core.data.features import log_mel_features
    from rfloc_core.data.scenario import ScenarioConfig
    from rfloc_core.data.sigmf_io import write_sigmf_recordings
    from rfloc_core.data.simulator import Simulator

    scenario = load_scenario("vhf-rural")
    ideal = ScenarioConfig.model_validate(
        scenario.model_dump() | {"receiver_hardware": {"dropout_probability": 0.0}}
    )
    simulator = Simulator(ideal)
    batch = simulator.simulate([4], seed=7)
    paths = write_sigmf_recordings(
        batch.iq[0], ideal, simulator.feature_config.sample_rate_hz, tmp_path / "rec"
    )
    (from_files,) = predict(checkpoint, sigmf=paths)
    runtime = load_runtime(checkpoint)
    features = log_mel_features(batch.iq, simulator.feature_config, batch.online).numpy()
    direct = runtime.run(features)["position_m"][0]
    assert (from_files.east_m, from_files.north_m) == pytest.approx(tuple(direct), abs=1.0)
    assert from_files.truth_east_m is None and from_files.semi_major_m > 0
