"""The checks of a ``TrainConfig`` that read more than the config: its scenarios and dataset
folders against the model, its weights files, its parent checkpoint, and its names against the
installed plugins."""

from __future__ import annotations

from pathlib import Path

from rfloc_core.data.errors import ConfigError
from rfloc_core.data.scenario import ScenarioConfig
from rfloc_core.errors import RflocError, UnknownNameError
from rfloc_core.training.config import ModelConfig, TrainConfig


def check_config(config: TrainConfig, source: str, *, check_registry: bool = True) -> None:
    """Every check below, in order; ``check_registry=False`` skips the plugin checks."""
    _check_scenario(config, source)
    _check_weights_file(config, source)
    if config.init_from is not None:
        from rfloc_core.training.fine_tune import read_parent

        read_parent(config, source)
    elif config.freeze != "none":
        raise ConfigError(
            f"{source}: field freeze is {config.freeze!r} but init_from is not set; freezing "
            "keeps a checkpoint's weights, so name one with init_from"
        )
    if check_registry:
        check_against_registry(config, source)


def _check_scenario(config: TrainConfig, source: str) -> None:
    """Every scenario the run reads (simulated, or a dataset folder's) against the model."""
    from rfloc_core.data.scenario import load_scenario

    scenarios: list[tuple[str, ScenarioConfig]] = []
    if config.data is None:
        scenarios.append((f"scenario {config.scenario!r}", load_scenario(config.scenario)))
    for field in ("data", "val_data", "test_data"):
        folder = getattr(config, field)
        if folder is not None:
            label = f"field {field}'s dataset {folder}"
            scenarios.append((label, _dataset_scenario(folder, field, source)))
    for label, scenario in scenarios:
        if config.model.fusion is not None:
            continue
        if scenario.random_network is not None:
            raise ConfigError(
                f"{source}: {label} draws a new receiver network for every sample, which only "
                "a receiver-set model can take; set model.fusion (attention or deepsets)"
            )
        if scenario.n_receivers != config.model.receivers:
            raise ConfigError(
                f"{source}: field model.receivers is {config.model.receivers} but {label} has "
                f"{scenario.n_receivers} receivers; they must be equal"
            )


def _dataset_scenario(folder: str, field: str, source: str) -> ScenarioConfig:
    from rfloc_core.data.disk_dataset import dataset_scenario

    try:
        return dataset_scenario(folder)
    except RflocError as error:
        raise ConfigError(f"{source}: field {field}: {error}") from None


def _check_weights_file(config: TrainConfig, source: str) -> None:
    pretrained = config.model.pretrained
    if isinstance(pretrained, str) and not Path(pretrained).is_file():
        raise ConfigError(
            f"{source}: field model.pretrained names {pretrained!r}, which is not a file; "
            "give an existing weights file, true for the published weights, or false"
        )


def check_against_registry(config: TrainConfig, source: str) -> None:
    """Backbone and head names, head options, input size and published weights, against
    installed plugins."""
    from rfloc_core.errors import InvalidInputError
    from rfloc_core.model.builder_options import check_builder_options
    from rfloc_core.registry import get_registry

    registry = get_registry()
    model = config.model
    try:
        backbone = registry.backbone(model.backbone)
    except UnknownNameError as error:
        raise ConfigError(f"{source}: field model.backbone: {error}") from None
    try:
        head = registry.head(model.head)
    except UnknownNameError as error:
        raise ConfigError(f"{source}: field model.head: {error}") from None
    try:
        check_builder_options("head", head.name, head.build, model.head_options, "head_options")
    except InvalidInputError as error:
        raise ConfigError(f"{source}: field model.{error}") from None
    if model.fusion is not None:
        _check_fusion(model, source)
    problem = backbone.constraints.problem(model.input_size.as_tuple())
    if problem:
        raise ConfigError(
            f"{source}: field model.input_size does not suit {backbone.name}: {problem}"
        )
    if model.pretrained is True and backbone.pretrained is None:
        raise ConfigError(
            f"{source}: field model.pretrained is true but {backbone.name} has no published "
            "weights; set it to false or to a local weights file path"
        )


def _check_fusion(model: ModelConfig, source: str) -> None:
    """The fusion's name against the registry and its options against the fusion itself."""
    from rfloc_core.errors import InvalidInputError
    from rfloc_core.model.create import build_fusion
    from rfloc_core.registry import get_registry

    assert model.fusion is not None
    try:
        spec = get_registry().fusion(model.fusion)
    except UnknownNameError as error:
        raise ConfigError(f"{source}: field model.fusion: {error}") from None
    try:
        build_fusion(spec, 8, model.fusion_options)
    except InvalidInputError as error:
        detail = str(error).removeprefix("fusion_options: ")
        raise ConfigError(f"{source}: field model.fusion_options: {detail}") from None
