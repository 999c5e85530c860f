"""``ModelConfig`` and ``TrainConfig``: what to train, on which synthetic data, and how.

Every field carries its unit or meaning in its name or description; ranges live in the
``Field`` constraints, so a value out of range fails at load time naming the field path and
the range (through ``rfloc_core.data.validation``). Named presets are TOML files in
``rfloc_core/training/presets``. ``load_train_config`` layers preset < file < overrides and
checks the backbone and head names against the plugin registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rfloc_core.contract import DEFAULT_INPUT_SIZE, DEFAULT_RECEIVERS
from rfloc_core.data.presets import DEFAULT_PRESET as DEFAULT_SCENARIO
from rfloc_core.data.validation import validate_config
from rfloc_core.packaged_presets import read_preset_or_file
from rfloc_core.training.overrides import apply_model_overrides

PRESET_PACKAGE = "rfloc_core.training.presets"
"""Top-level key of a training TOML file naming the preset it starts from."""

Precision = Literal["32-true", "16-mixed", "bf16-mixed", "auto"]
LossName = Literal["nll", "beta_nll"]
FreezeName = Literal["none", "head", "backbone"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpectrogramSize(_Strict):
    """Size of one receiver's log-mel spectrogram, the model input per channel."""

    mel_bins: int = Field(
        default=DEFAULT_INPUT_SIZE[0], ge=1, le=4096, description="mel bands (rows), count"
    )
    frames: int = Field(
        default=DEFAULT_INPUT_SIZE[1], ge=1, le=65_536, description="STFT frames (columns), count"
    )

    def as_tuple(self) -> tuple[int, int]:
        return (self.mel_bins, self.frames)


class ModelConfig(_Strict):
    """The arguments of ``create_model``: a registered backbone with a probabilistic head."""

    backbone: str = Field(min_length=1, description="registered backbone name or alias")
    head: str = Field(default="gaussian", min_length=1, description="registered head name")
    head_options: dict[str, Any] = Field(
        default_factory=dict, description="keyword options passed to the head builder"
    )
    receivers: int = Field(
        default=DEFAULT_RECEIVERS,
        ge=3,
        le=64,
        description="receiver count = input channels; must equal the scenario's receivers",
    )
    input_size: SpectrogramSize = Field(
        default=SpectrogramSize(), description="per-receiver spectrogram (mel_bins, frames)"
    )
    pretrained: bool | str = Field(
        default=False,
        description="false: random init; true: the backbone's published weights (downloaded); "
        "a string: path of a local .safetensors weights file",
    )
    fusion: str | None = Field(
        default=None,
        description="a registered set fusion (attention, deepsets): a receiver-set model that "
        "takes any receiver network; none: the receivers are input channels",
    )
    fusion_options: dict[str, Any] = Field(
        default_factory=dict, description="keyword options passed to the fusion builder"
    )
    receiver_scale_m: float | None = Field(
        default=None,
        gt=0.0,
        le=1e7,
        description="a receiver-set model divides receiver positions by this, m; none: the "
        "head's position scale (half the larger side of the scenario's area)",
    )

    @field_validator("pretrained")
    @classmethod
    def _path_not_empty(cls, value: bool | str) -> bool | str:
        if isinstance(value, str) and not value.strip():
            raise ValueError("pretrained must be true, false or a non-empty weights file path")
        return value

    def create_model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``rfloc_core.create_model``."""
        return {
            "backbone": self.backbone,
            "head": self.head,
            "receivers": self.receivers,
            "input_size": self.input_size.as_tuple(),
            "pretrained": self.pretrained,
            "head_options": dict(self.head_options),
            "fusion": self.fusion,
            "fusion_options": dict(self.fusion_options),
        }


class TrainConfig(_Strict):
    """One training run: model, synthetic data, AdamW with warm-up then cosine, and hardware."""

    name: str = Field(default="custom", min_length=1, description="preset or run name")
    description: str = Field(default="", description="free text shown with the preset")
    model: ModelConfig = Field(description="what to train: backbone, head, input shape")
    scenario: str = Field(
        default=DEFAULT_SCENARIO,
        min_length=1,
        description="scenario preset name or path of a scenario TOML file (relative to the "
        "working directory) the synthetic samples are drawn from",
    )
    data: str | None = Field(
        default=None,
        min_length=1,
        description="folder of a dataset written by `rfloc simulate` to train on "
        ", its first train_samples samples; its scenario and features replace "
        "scenario's; none: simulate on the fly",
    )
    val_data: str | None = Field(
        default=None,
        min_length=1,
        description="dataset folder to validate on, its first val_samples samples; none: "
        "simulate the validation split of seed from the training scenario",
    )
    test_data: str | None = Field(
        default=None,
        min_length=1,
        description="dataset folder the best checkpoint is evaluated on once training ends "
        "(report in evaluation-test/); never used for choosing or stopping; none: no test",
    )
    init_from: str | None = Field(
        default=None,
        min_length=1,
        description="checkpoint folder whose weights start the run (fine-tuning); it must be "
        "of the same backbone, head, fusion, receivers and input size; none: fresh weights",
    )
    freeze: FreezeName = Field(
        default="none",
        description="with init_from, parameters kept as the checkpoint left them: none, head, "
        "or backbone (everything but the head)",
    )
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="seed of data and init")
    epochs: int = Field(default=30, ge=1, le=10_000, description="passes over train_samples")
    batch_size: int = Field(default=64, ge=1, le=65_536, description="samples per optimizer step")
    train_samples: int = Field(
        default=100_000, ge=1, le=1_000_000_000, description="synthetic training samples, count"
    )
    val_samples: int = Field(
        default=5_000, ge=1, le=1_000_000_000, description="synthetic validation samples, count"
    )
    max_steps: int = Field(
        default=0,
        ge=0,
        le=1_000_000_000,
        description="optimizer steps the run stops after (the budget; epochs then only cap "
        "it); 0: epochs passes over train_samples",
    )
    validate_every_steps: int = Field(
        default=0,
        ge=0,
        le=1_000_000_000,
        description="optimizer steps between validations, each a point of the learning "
        "curve; 0: once per epoch",
    )
    learning_rate: float = Field(
        default=3e-4, gt=0.0, le=1.0, description="AdamW peak learning rate, reached after warm-up"
    )
    loss: LossName = Field(
        default="beta_nll",
        description="nll: the head's negative log-likelihood; beta_nll: each sample's NLL "
        "weighted by its predicted spread det(cov)^(beta/2) (see docs/training.md)",
    )
    beta: float = Field(
        default=0.5, ge=0.0, le=1.0, description="beta of beta_nll, dimensionless; 0 is the NLL"
    )
    gradient_clip_norm: float = Field(
        default=1.0, ge=0.0, le=1e6, description="clip the gradient's global L2 norm; 0: off"
    )
    calibrate_uncertainty: bool = Field(
        default=True,
        description="after training, fit one factor on the predicted uncertainty's lengths "
        "that minimises the validation NLL (sigma-scaling), saved in the best checkpoint as "
        "head option sigma_scale; core heads only, positions unchanged",
    )
    gain_augmentation_sigma_db: float = Field(
        default=0.0,
        ge=0.0,
        le=20.0,
        description="each training sample's online receivers read off by their own normal "
        "gain offset of this standard deviation, dB (uncalibrated stations); 0: off",
    )
    weight_decay: float = Field(
        default=0.05, ge=0.0, le=1.0, description="AdamW decoupled weight decay coefficient"
    )
    warmup_fraction: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="fraction of all optimizer steps spent in linear warm-up; cosine decay after",
    )
    early_stopping_patience_epochs: int = Field(
        default=10,
        ge=0,
        le=10_000,
        description="epochs without validation-error improvement before stopping; 0 disables "
        "(with validate_every_steps, use early_stopping_patience_steps)",
    )
    early_stopping_patience_steps: int = Field(
        default=0,
        ge=0,
        le=1_000_000_000,
        description="optimizer steps without validation-error improvement before stopping, "
        "counted in validations of validate_every_steps; 0 disables",
    )
    data_in_memory: bool = Field(
        default=False,
        description="simulate the training and validation sets once, before the first step, "
        "and keep them in memory (115 MB per 1,000 samples at 7x128x32); runs in one process "
        "with the same scenario, features, seed and sizes share them",
    )
    checkpoint_every_steps: int = Field(
        default=100,
        ge=0,
        le=1_000_000,
        description="optimizer steps between resume-state saves (also saved each epoch); "
        "0: only at epoch ends",
    )
    experiment: str = Field(
        default="rfloc", min_length=1, description="MLflow experiment the run is logged under"
    )
    channels_last: bool = Field(
        default=True,
        description="train in channels-last memory format; on a 2-core AMD EPYC it trains "
        "efficientnet_b0 1.8x and resnet18 1.1x faster, convnext_atto alike (python -m "
        "benchmarks.training_formats); the weights and results do not depend on it",
    )
    precision: Precision = Field(
        default="auto",
        description="Lightning precision; auto: bf16-mixed on GPUs with bf16, 16-mixed on other "
        "GPUs, 32-true on CPU",
    )
    accelerator: str = Field(
        default="auto", min_length=1, description="Lightning accelerator: auto, cpu, gpu, mps"
    )
    devices: int | str = Field(
        default="auto",
        description="Lightning devices: a count >= 1, -1 for all, 'auto', or a list like '0,1'",
    )
    num_nodes: int = Field(default=1, ge=1, le=4096, description="machines, count (DDP)")
    strategy: str = Field(
        default="auto", min_length=1, description="Lightning strategy: auto, ddp, fsdp, ..."
    )
    num_workers: int = Field(
        default=0, ge=0, le=256, description="DataLoader worker processes per device, count"
    )
    output_dir: str = Field(
        default="runs", min_length=1, description="folder for checkpoints and logs"
    )

    @field_validator("devices")
    @classmethod
    def _devices(cls, value: int | str) -> int | str:
        if isinstance(value, int) and (value == 0 or value < -1):
            raise ValueError(
                "devices must be a count >= 1, -1 for all devices, 'auto', or a list like '0,1'"
            )
        if isinstance(value, str) and not value.strip():
            raise ValueError("devices must not be an empty string")
        return value

    @model_validator(mode="after")
    def _patience_has_validations(self) -> Self:
        if self.early_stopping_patience_steps and not self.validate_every_steps:
            raise ValueError(
                "early_stopping_patience_steps needs validate_every_steps > 0 (validations "
                "counted in optimizer steps); set it, or use early_stopping_patience_epochs"
            )
        return self

    @model_validator(mode="after")
    def _batch_fits(self) -> Self:
        if self.batch_size > self.train_samples:
            raise ValueError(
                f"batch_size ({self.batch_size} samples) must not exceed train_samples "
                f"({self.train_samples})"
            )
        return self


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of the raw config ``data`` with each ``key=value`` override applied in order;
    an unknown key fails naming the close matches and every allowed key of ``TrainConfig``."""
    return apply_model_overrides(TrainConfig, data, overrides)


# --- loading ---------------------------------------------------------------------------------


def _raw_config(preset_or_path: str | Path) -> tuple[dict[str, Any], str]:
    """The raw TOML data (a file's ``base`` preset merged under it) and its source label."""
    text = str(preset_or_path)
    is_file = isinstance(preset_or_path, Path) or text.endswith(".toml") or Path(text).is_file()
    data = read_preset_or_file(PRESET_PACKAGE, preset_or_path, "training")
    return data, text if is_file else f"preset {text}"


def load_train_config(
    preset_or_path: str | Path,
    overrides: Iterable[str] = (),
    *,
    check_registry: bool = True,
) -> TrainConfig:
    """A training preset by name, or a TOML file by path, with ``key=value`` overrides on top.

    Precedence: a file's ``base`` preset < the file < ``overrides``. Fails with one-line
    ``ConfigError`` naming the field and what is allowed. ``check_registry=False`` skips the
    checks that depend on which backbone plugins are installed.
    """
    overrides = list(overrides)
    data, source = _raw_config(preset_or_path)
    data = apply_overrides(data, overrides)
    if overrides:
        source = f"{source} with overrides {' '.join(overrides)}"
    config = validate_config(TrainConfig, data, source)
    from rfloc_core.training.config_checks import check_config

    check_config(config, source, check_registry=check_registry)
    return config
