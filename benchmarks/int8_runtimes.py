"""INT8 on the CPU, one trained checkpoint through every quantizer and runtime at hand: how
much faster than float32 ONNX Runtime, and what it costs in accuracy.

``python -m benchmarks.int8_runtimes CHECKPOINT [--batch 8] [--seconds 8] [--threads 1]
[--samples 400]``

Rows (the benchmark installs nothing; rows whose package is missing are left out, and named):

- ``ort fp32``: the float32 ONNX export on ONNX Runtime's CPU provider, the reference;
- ``ort int8 (rfloc)``: ``rfloc export --format onnx_int8``'s file (QDQ, int8 weights per
  channel, uint8 activations, percentile calibration);
- ``ort int8 QOperator``: the same calibration in ONNX Runtime's QOperator form;
- ``ort int8 conv only``: only Conv, MatMul and Gemm quantized, the gates left in float32;
- ``openvino fp32`` and ``openvino int8 (rfloc)``: OpenVINO's CPU plugin on the same two files
  (``pip install openvino``);
- ``openvino int8 (nncf)``: OpenVINO's own post-training quantizer, NNCF, on the float32 file,
  with the same calibration inputs (``pip install nncf``).

Every quantizer calibrates on the same 256 simulated inputs of the checkpoint's scenario
(``rfloc_core.export.onnx_int8.calibration_features``). Accuracy is on ``--samples`` samples of
the validation split, never the test split: the median error against the truth, and the median
distance from the eager PyTorch model's estimate. The calls take turns one at a time for
``--seconds``, and each p50 is a median over its calls, so drift in the machine's speed hits all
rows alike; the last line gives the CPUs other processes kept busy meanwhile.
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from rfloc_core.bench.contention import OtherProcessesMeter
from rfloc_core.bench.timing import interleaved_medians_ms
from rfloc_core.checkpoint import load_checkpoint
from rfloc_core.checkpoint_config import CheckpointConfig
from rfloc_core.contract import INPUT_NAME
from rfloc_core.data.datasets import SyntheticDataset
from rfloc_core.data.splits import split_seed
from rfloc_core.evaluation.evaluate import checkpoint_features, checkpoint_scenario
from rfloc_core.export.onnx_export import export_onnx
from rfloc_core.export.onnx_int8 import (
    CalibrationReader,
    calibration_features,
    export_onnx_int8,
    quiet_quantizer,
    static_quantization_settings,
)
from rfloc_core.model import LocalizationNet

Runner = Callable[[np.ndarray], np.ndarray]


def ort_runner(path: Path, threads: int) -> Runner:
    """``position_m`` of an ONNX file on ONNX Runtime's CPU provider."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # A spinning thread pool would keep a second core busy into the next runtime's turn.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda x: np.asarray(session.run(["position_m"], {INPUT_NAME: x})[0])


def openvino_runner(model: object, threads: int) -> Runner:
    """``position_m`` of an OpenVINO model (read from ONNX, or NNCF's) on OpenVINO's CPU."""
    import openvino  # type: ignore[import-untyped]

    compiled = openvino.Core().compile_model(
        model,
        "CPU",
        {
            "INFERENCE_NUM_THREADS": threads,
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32",
        },
    )
    request = compiled.create_infer_request()
    output = compiled.output("position_m")
    return lambda x: np.asarray(request.infer({0: x})[output])


def ort_variant(prepared: Path, out: Path, calibration: np.ndarray, **changed: object) -> Path:
    """``prepared`` quantized to ``out`` with the exporter's settings, ``changed`` changed."""
    from onnxruntime.quantization import quantize_static

    with quiet_quantizer():
        quantize_static(
            str(prepared),
            str(out),
            CalibrationReader(INPUT_NAME, calibration),
            **(static_quantization_settings() | changed),
        )
    return out


def runners(
    model: LocalizationNet,
    config: CheckpointConfig,
    folder: Path,
    calibration: np.ndarray,
    threads: int,
) -> tuple[dict[str, Runner], list[str]]:
    """Every row's runner, each file written under ``folder``, and the rows left out (a
    missing package) with how to add them."""
    from onnxruntime.quantization import QuantFormat
    from onnxruntime.quantization.shape_inference import quant_pre_process

    float_path = export_onnx(model, folder / "fp32.onnx", validate=False)
    rfloc_int8 = export_onnx_int8(
        model,
        folder / "int8.onnx",
        scenario=config.scenario,
        features=config.features,
        validate=False,
    )
    prepared = folder / "prepared.onnx"
    with quiet_quantizer():
        quant_pre_process(str(float_path), str(prepared))
    chosen = {
        "ort fp32": ort_runner(float_path, threads),
        "ort int8 (rfloc)": ort_runner(rfloc_int8, threads),
        "ort int8 QOperator": ort_runner(
            ort_variant(
                prepared, folder / "qop.onnx", calibration, quant_format=QuantFormat.QOperator
            ),
            threads,
        ),
        "ort int8 conv only": ort_runner(
            ort_variant(
                prepared,
                folder / "conv.onnx",
                calibration,
                op_types_to_quantize=["Conv", "MatMul", "Gemm"],
            ),
            threads,
        ),
    }
    missing = []
    if importlib.util.find_spec("openvino") is None:
        missing.append("openvino rows (pip install openvino)")
        return chosen, missing
    import openvino

    core = openvino.Core()
    chosen["openvino fp32"] = openvino_runner(core.read_model(str(float_path)), threads)
    chosen["openvino int8 (rfloc)"] = openvino_runner(core.read_model(str(rfloc_int8)), threads)
    if importlib.util.find_spec("nncf") is None:
        missing.append("openvino int8 (nncf) (pip install nncf)")
        return chosen, missing
    import nncf  # type: ignore[import-untyped]

    batches = [calibration[start : start + 16] for start in range(0, len(calibration), 16)]
    quantized = nncf.quantize(
        core.read_model(str(float_path)), nncf.Dataset(batches), subset_size=len(batches)
    )
    chosen["openvino int8 (nncf)"] = openvino_runner(quantized, threads)
    return chosen, missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path, help="a fixed-network model's checkpoint")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0, help="timing, all rows together")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--samples", type=int, default=400, help="validation samples")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, config = load_checkpoint(args.checkpoint)
    if not isinstance(model, LocalizationNet):
        parser.error("the INT8 exporter takes fixed-network models; give such a checkpoint")
    model.eval()
    scenario = checkpoint_scenario(config, None)
    features = checkpoint_features(config)
    calibration = calibration_features(model, config.scenario, config.features)
    validation = SyntheticDataset(
        scenario, args.samples, split_seed(0, "validation"), features, measure_rss=False
    ).batch(range(args.samples))
    x_all = validation["features"].numpy().astype(np.float32)
    truth_m = validation["position_m"].numpy()
    with torch.inference_mode():
        eager_m = model(torch.from_numpy(x_all))["position_m"].numpy()
    with tempfile.TemporaryDirectory(prefix="rfloc-int8-runtimes-") as folder:
        chosen, missing = runners(model, config, Path(folder), calibration, args.threads)
        accuracy: dict[str, tuple[float, float]] = {}
        for name, run in chosen.items():
            estimates_m = np.concatenate(
                [
                    run(x_all[start : start + args.batch])
                    for start in range(0, len(x_all), args.batch)
                ]
            )
            accuracy[name] = (
                float(np.median(np.linalg.norm(estimates_m - truth_m, axis=1))),
                float(np.median(np.linalg.norm(estimates_m - eager_m, axis=1))),
            )
        x = x_all[: args.batch]
        calls = {name: (lambda run=run: run(x)) for name, run in chosen.items()}
        with OtherProcessesMeter() as others:
            medians_ms = interleaved_medians_ms(calls, args.seconds)
    reference_ms = medians_ms["ort fp32"]
    print(
        f"\n{config.backbone} at batch {args.batch}, {args.threads} thread(s); accuracy on "
        f"{args.samples} validation samples of {scenario.name}"
    )
    print(
        "| runtime | p50 ms | speed-up over ort fp32 | median error m "
        "| median distance from PyTorch m |"
    )
    print("|---|---|---|---|---|")
    for name in chosen:
        error_m, distance_m = accuracy[name]
        print(
            f"| {name} | {medians_ms[name]:.2f} | {reference_ms / medians_ms[name]:.2f} "
            f"| {error_m:,.0f} | {distance_m:,.1f} |"
        )
    busy = "unknown" if others.other_cpus is None else f"{others.other_cpus:.2f}"
    print(f"\nothers' CPUs while timing: {busy}")
    for row in missing:
        print(f"left out: {row}")


if __name__ == "__main__":
    main()
