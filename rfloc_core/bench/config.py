"""``BenchConfig``: which backbones, on which runtimes, at which batch sizes, and how accuracy
is measured. Suites are TOML files; the shipped ones live in ``rfloc_core/bench/suites``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rfloc_core.data.errors import ConfigError
from rfloc_core.data.presets import DEFAULT_PRESET as DEFAULT_SCENARIO
from rfloc_core.data.validation import validate_config
from rfloc_core.packaged_presets import read_preset_or_file, toml_preset_names

SUITE_PACKAGE = "rfloc_core.bench.suites"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LatencyProtocol(_Strict):
    backends: tuple[str, ...] = Field(
        default=("torch", "onnxruntime"),
        min_length=1,
        description="runtimes: torch, torch-bf16, torch-compile, onnxruntime, onnxruntime-cuda, "
        "onnxruntime-trt, tensorrt",
    )
    device: Literal["cpu", "cuda", "auto"] = Field(
        default="auto", description="auto: cuda when torch sees a GPU, else cpu"
    )
    batch_sizes: tuple[Annotated[int, Field(ge=1, le=65_536)], ...] = Field(
        default=(1, 8), min_length=1, description="samples, each from 1 to 65536"
    )
    precision: Literal["fp32", "fp16", "bf16"] = "fp32"
    threads: int = Field(default=0, ge=0, le=1024, description="CPU threads; 0: all cores")
    warmup_iterations: int = Field(default=10, ge=0, le=100_000, description="untimed calls")
    min_iterations: int = Field(default=50, ge=1, le=1_000_000, description="timed calls")
    min_seconds: float = Field(default=2.0, gt=0.0, le=3600.0, description="timed seconds")
    rounds: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="interleaved rounds: each backend is timed once per round, the iterations "
        "and seconds shared between rounds",
    )


class AccuracyProtocol(_Strict):
    """How every backbone is trained and tested: one budget in optimizer steps, one training
    set simulated once and shared, one held-out test set."""

    enabled: bool = True
    scenario: str = Field(default=DEFAULT_SCENARIO, min_length=1, description="preset or TOML")
    training_preset: str = Field(
        default="dev_test", min_length=1, description="training preset the budget starts from"
    )
    steps: int = Field(
        default=0,
        ge=0,
        le=100_000_000,
        description="optimizer steps per model, the same for every backbone (a cap where "
        "patience_steps stops runs early); 0: epochs passes over train_samples",
    )
    epochs: int = Field(
        default=2, ge=1, le=10_000, description="passes over train_samples where steps is 0"
    )
    batch_size: int | None = Field(
        default=None, ge=1, le=65_536, description="samples per step; None: the preset's"
    )
    learning_rate: float | None = Field(
        default=None,
        gt=0.0,
        le=1.0,
        description="AdamW peak learning rate for every backbone; None: each backbone's "
        "recommended one (its spec's training recipe), else the preset's",
    )
    validate_every_steps: int = Field(
        default=0,
        ge=0,
        le=100_000_000,
        description="optimizer steps between validations (the learning curve's points); 0: "
        "an eighth of steps, or once per epoch where steps is 0",
    )
    patience_steps: int = Field(
        default=0,
        ge=0,
        le=100_000_000,
        description="stop a model after this many steps without a better validation median; "
        "0: every model runs all its steps",
    )
    train_samples: int = Field(default=2_000, ge=1, le=1_000_000_000)
    val_samples: int = Field(default=500, ge=1, le=1_000_000_000)
    test_samples: int = Field(
        default=1_000, ge=1, le=1_000_000_000, description="held-out test set, the same for all"
    )
    test_data: str | None = Field(
        default=None,
        min_length=1,
        description="folder of a test set `rfloc simulate` wrote from this scenario, whose "
        "first test_samples samples test every model (written once, shared by every machine); "
        "none: simulate the test split of the first seed",
    )
    seeds: tuple[int, ...] = Field(default=(0,), min_length=1, description="one run per seed")

    def validation_interval_steps(self) -> int:
        if self.validate_every_steps:
            return self.validate_every_steps
        return max(1, self.steps // 8) if self.steps else 0


class ReceiverSetProtocol(_Strict):
    """Receiver-set models beside the fixed-network ones: each selected backbone also as the
    shared encoder of a receiver-set model, trained with the accuracy budget on random
    networks, tested on the accuracy test set (beside every other row) and on a network no
    training sample drew."""

    fusion: str = Field(default="attention", min_length=1, description="registered fusion")
    fusion_options: dict[str, Any] = Field(
        default_factory=dict, description="keyword options of the fusion"
    )
    scenario: str = Field(
        default="rss-random-networks",
        min_length=1,
        description="training scenario (preset or TOML) with a random_network",
    )
    input_size: tuple[int, int] | None = Field(
        default=None, description="(mel_bins, frames) of each receiver; None: the preset's"
    )
    held_out_stations: int = Field(
        default=5, ge=1, le=64, description="stations of the held-out network, count"
    )
    held_out_seed: int = Field(
        default=20_261_202,
        ge=0,
        le=2**32 - 1,
        description="seed the held-out network is drawn from",
    )


class BenchConfig(_Strict):
    name: str = Field(default="custom", min_length=1)
    description: str = ""
    backbones: tuple[str, ...] = Field(
        min_length=1, description="fnmatch patterns of registered backbones, e.g. resnet*"
    )
    latency: LatencyProtocol = LatencyProtocol()
    accuracy: AccuracyProtocol = AccuracyProtocol()
    receiver_sets: ReceiverSetProtocol | None = Field(
        default=None,
        description="also train each backbone as a receiver-set model and test it on a "
        "held-out network; None: fixed-network models only",
    )


def suite_names() -> list[str]:
    """Names of the suites shipped with rfloc-core."""
    return toml_preset_names(SUITE_PACKAGE)


def load_suite(name_or_path: str | Path, overrides: Iterable[str] = ()) -> BenchConfig:
    """A shipped suite by name, or a suite TOML file by path (``base = "quick"`` starts it
    from a shipped suite), with ``key=value`` overrides such as ``accuracy.steps=50`` on top."""
    from rfloc_core.training.overrides import apply_model_overrides

    overrides = list(overrides)
    data = read_preset_or_file(SUITE_PACKAGE, name_or_path, "benchmark")
    data = apply_model_overrides(BenchConfig, data, overrides)
    source = str(name_or_path) + (f" with overrides {' '.join(overrides)}" if overrides else "")
    suite = validate_config(BenchConfig, data, source)
    _check_backends(suite, source)
    _check_test_data(suite.accuracy, source)
    return suite


def _check_test_data(protocol: AccuracyProtocol, source: str) -> None:
    """A stored test set must hold the protocol's scenario and enough samples."""
    if protocol.test_data is None:
        return
    from rfloc_core.data.disk_dataset import read_manifest
    from rfloc_core.data.scenario import ScenarioConfig, load_scenario
    from rfloc_core.errors import RflocError

    folder = Path(protocol.test_data)
    try:
        manifest = read_manifest(folder)
        stored = validate_config(
            ScenarioConfig, manifest.get("scenario") or {}, f"{folder} scenario"
        )
    except RflocError as error:
        raise ConfigError(f"{source}: field accuracy.test_data: {error}") from None
    if stored != load_scenario(protocol.scenario):
        raise ConfigError(
            f"{source}: field accuracy.test_data: {folder} holds scenario {stored.name!r}, not "
            f"accuracy.scenario {protocol.scenario!r}; simulate the test set from it"
        )
    if int(manifest.get("count", 0)) < protocol.test_samples:
        raise ConfigError(
            f"{source}: field accuracy.test_data: {folder} holds {manifest.get('count')} "
            f"samples, fewer than accuracy.test_samples ({protocol.test_samples}); lower "
            "test_samples or simulate a larger test set"
        )


def _check_backends(suite: BenchConfig, source: str) -> None:
    """A backend name that is not known here but is one letter or so from a known one is a
    typo, refused at load. Other unknown names stay: a suite may name a plugin's exporter that
    another machine has, and its rows here say it is not installed."""
    import difflib

    from rfloc_core.bench.backends import BUILTIN_BACKENDS
    from rfloc_core.registry import get_registry

    known = list(dict.fromkeys([*BUILTIN_BACKENDS, *(s.name for s in get_registry().exporters())]))
    for backend in suite.latency.backends:
        close = difflib.get_close_matches(backend, known, n=1, cutoff=0.8)
        if backend not in known and close:
            raise ConfigError(
                f"{source}: field latency.backends has {backend!r}, which is no backend here; "
                f"did you mean {close[0]!r}? The backends here are {', '.join(known)}"
            )
