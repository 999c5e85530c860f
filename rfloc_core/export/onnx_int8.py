"""INT8 ONNX for the CPU: ONNX Runtime static quantization, calibrated on simulated inputs of
the checkpoint's own scenario.

The float32 ONNX export is quantized in QDQ form: weights signed 8-bit per output channel,
activations unsigned 8-bit per tensor, the layout ONNX Runtime's x86 kernels (AVX2, AVX-512
VNNI) run fastest. Each activation's range comes from ONNX Runtime's percentile calibrator
over the calibration inputs: ±T, where T is the 99.999th percentile of the activation's
magnitude, clipped to its observed minimum and maximum. With the plain minimum and maximum, a
few outliers stretched efficientnet_b0's ranges: in one run of the quick suite (trained
models, 500 test samples) its median error rose by 29.5 % against 3.4 % with percentiles,
the other families' within a point of each other. Inputs and outputs stay
float32, so the file runs wherever the float32 export runs, ``rfloc predict`` included. It is
validated against the eager float32 model like every export, with ``INT8_TOLERANCE``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from rfloc_core.atomic import atomic_path
from rfloc_core.errors import InvalidInputError, RflocError, first_line
from rfloc_core.export.onnx_export import export_onnx, model_metadata, set_metadata
from rfloc_core.export.validation import DEFAULT_BATCH_SIZES, ValidationReport, validate
from rfloc_core.model import LocalizationNet, ReceiverSetNet

INT8_TOLERANCE = (50.0, 0.05)
"""(atol in the output's unit, rtol to the output's largest magnitude in the batch). 8-bit
activations carry about 0.4 % of their range each, and a deep network compounds tens of them;
a broken quantization misses by the output's whole scale. Trained resnet18 passes. The other
built-in families' trained files move single estimates by more, with depthwise convolutions,
gates or attention, and miss (``allow_mismatch`` keeps them); their accuracy cost is measured
as median error by ``rfloc bench``."""
CALIBRATION_SAMPLES = 256
CALIBRATION_BATCH = 16
CALIBRATION_SEED = 8_800_000
"""Far from the seeds training, validation and test draw from."""


def calibration_features(
    model: LocalizationNet,
    scenario: Mapping[str, Any] | None,
    features: Mapping[str, Any] | None,
    samples: int = CALIBRATION_SAMPLES,
    seed: int = CALIBRATION_SEED,
) -> np.ndarray:
    """Log-mel features (samples, receivers, mel_bins, frames) simulated from ``scenario`` (a
    checkpoint's recorded scenario; the default preset when None) with ``features``."""
    from rfloc_core.data.datasets import SyntheticDataset
    from rfloc_core.data.scenario import ScenarioConfig, load_scenario
    from rfloc_core.data.validation import validate_config
    from rfloc_core.evaluation.evaluate import recorded_features

    chosen = (
        validate_config(ScenarioConfig, scenario, "the checkpoint's config.json field scenario")
        if scenario is not None
        else load_scenario("vhf-rural")
    )
    if chosen.random_network is not None or chosen.n_receivers != model.receivers:
        raise InvalidInputError(
            f"calibration needs a scenario with the model's {model.receivers} fixed receivers; "
            f"{chosen.name!r} has {chosen.n_receivers}"
            + (" drawn anew for every sample" if chosen.random_network is not None else "")
            + "; export a checkpoint that records the scenario it was trained on (`rfloc train` "
            "writes it), or export --format onnx"
        )
    mel_bins, frames = model.input_size
    feature_config = recorded_features(features, (int(mel_bins), int(frames)))
    dataset = SyntheticDataset(chosen, samples, seed, feature_config, measure_rss=False)
    values: np.ndarray = dataset.batch(range(samples))["features"].numpy()
    return values


class CalibrationReader:
    """ONNX Runtime's ``CalibrationDataReader`` protocol over batches of features."""

    def __init__(self, input_name: str, values: np.ndarray) -> None:
        self._batches: Iterator[np.ndarray] = iter(
            np.array_split(values, max(1, len(values) // CALIBRATION_BATCH))
        )
        self._input_name = input_name

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._batches, None)
        return None if batch is None else {self._input_name: batch.astype(np.float32)}


@contextlib.contextmanager
def quiet_quantizer() -> Iterator[None]:
    """ONNX Runtime's quantization tools warn on the root logger, and narrate the calibration
    on stdout, about what the user cannot act on (a LayerNorm weight with no channel axis to
    quantize along, the histogram's bin count)."""
    disabled_before = logging.root.manager.disable
    logging.disable(max(logging.WARNING, disabled_before))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logging.disable(disabled_before)


def static_quantization_settings() -> dict[str, Any]:
    """The keyword arguments of ONNX Runtime's ``quantize_static`` this exporter uses, beside
    the paths and the calibration reader."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType

    return {
        "quant_format": QuantFormat.QDQ,
        "per_channel": True,
        "activation_type": QuantType.QUInt8,
        "weight_type": QuantType.QInt8,
        "calibrate_method": CalibrationMethod.Percentile,
    }


def quantization_unavailable_reason() -> str | None:
    try:
        import onnxruntime.quantization  # noqa: F401
    except ImportError as error:
        return f"onnxruntime.quantization cannot be imported ({error}); install onnxruntime"
    return None


def export_onnx_int8(
    model: LocalizationNet | ReceiverSetNet,
    path: str | os.PathLike[str],
    *,
    scenario: Mapping[str, Any] | None = None,
    features: Mapping[str, Any] | None = None,
    metadata: Mapping[str, str] | None = None,
    validate: bool = True,
    allow_mismatch: bool = False,
    exporter: Literal["dynamo", "legacy"] | None = None,
    calibration_samples: int = CALIBRATION_SAMPLES,
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
) -> Path:
    """Write ``model`` to ``path`` atomically as INT8 ONNX, calibrated on
    ``calibration_samples`` samples simulated from ``scenario`` (the checkpoint's; the default
    preset when None), and validate it against the eager float32 model with
    ``INT8_TOLERANCE`` (a miss fails unless ``allow_mismatch``). ``exporter`` picks the
    torch.onnx exporter of the float32 graph, as for ``export_onnx``."""
    if isinstance(model, ReceiverSetNet):
        raise InvalidInputError(
            "the onnx_int8 exporter takes fixed-network models; export a receiver-set model "
            "with --format onnx"
        )
    if calibration_samples < 1:
        raise InvalidInputError(
            f"calibration_samples must be at least 1, got {calibration_samples}"
        )
    from onnxruntime.quantization import quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from rfloc_core.contract import INPUT_NAME

    target = Path(path)
    calibration = calibration_features(model, scenario, features, calibration_samples)
    quantization = {
        "format": "QDQ",
        "weights": "int8 per channel",
        "activations": "uint8 per tensor",
        "calibration": "percentile 99.999",
        "calibration_samples": calibration_samples,
        "calibration_scenario": (scenario or {}).get("name", "vhf-rural"),
    }
    with tempfile.TemporaryDirectory(prefix="rfloc-int8-") as folder:
        float_path = export_onnx(
            model,
            Path(folder) / "float32.onnx",
            validate=False,
            metadata=metadata,
            exporter=exporter,
        )
        prepared = Path(folder) / "prepared.onnx"
        try:
            with quiet_quantizer():
                quant_pre_process(str(float_path), str(prepared))
        except Exception as error:
            raise RflocError(
                f"ONNX Runtime's quantization pre-processing failed on "
                f"{model.backbone_spec.name}: {first_line(error)[:200]}"
            ) from error
        with atomic_path(target) as temporary:
            try:
                with quiet_quantizer():
                    quantize_static(
                        str(prepared),
                        str(temporary),
                        CalibrationReader(INPUT_NAME, calibration),
                        **static_quantization_settings(),
                    )
            except Exception as error:
                raise RflocError(
                    f"ONNX Runtime could not quantize {model.backbone_spec.name}: "
                    f"{first_line(error)[:200]}"
                ) from error
            set_metadata(
                temporary,
                model_metadata(model)
                | dict(metadata or {})
                | {"rfloc.dtype": "int8", "rfloc.quantization": json.dumps(quantization)},
            )
            if validate:
                report = _validate(model, temporary, batch_sizes, scenario, features)
                if not report.passed and not allow_mismatch:
                    raise report.mismatch_error(
                        f"the INT8 ONNX export of {model.backbone_spec.name}",
                        "the file's metadata",
                    )
                set_metadata(temporary, {"rfloc.validation": json.dumps(report.as_dict())})
    return target


def _validate(
    model: LocalizationNet,
    path: Path,
    batch_sizes: Sequence[int],
    scenario: Mapping[str, Any] | None,
    features: Mapping[str, Any] | None,
) -> ValidationReport:
    """Validation on simulated inputs of the calibration's scenario, drawn with other seeds:
    uniform noise lies outside the calibrated ranges, where 8 bits clip by design."""
    from rfloc_core.export.onnx_runtime import OnnxModel

    def simulated(model: Any, batch: int, seed: int, receivers: int | None) -> tuple[np.ndarray]:
        return (calibration_features(model, scenario, features, batch, seed=seed),)

    runtime = OnnxModel(path, providers=["CPUExecutionProvider"])
    was_training = model.training
    try:
        with torch.no_grad():
            return validate(
                model.eval(),
                runtime.run,
                runtime="onnxruntime-cpu-int8",
                batch_sizes=batch_sizes,
                tolerance=INT8_TOLERANCE,
                inputs={"simulated": simulated},
            )
    finally:
        model.train(was_training)
