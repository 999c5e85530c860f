"""TrainConfig: shipped presets, TOML files, key=value overrides and load-time errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from rfloc_core.errors import RflocError
from rfloc_core.training import (
    ConfigError,
    ModelConfig,
    SpectrogramSize,
    TrainConfig,
    load_train_config,
    parse_override,
    preset_names,
)

PRESET_BACKBONES = {
    "production_high_accuracy": "convnext_large",
    "balanced": "convnext_tiny",
    "lightweight": "efficientnet_b0",
    "dev_fast": "convnext_atto",
    "dev_test": "convnext_atto",
    "experimental_vit": "vit_small_patch16",
    "experimental_resnet": "resnet50",
}


def load(preset: str, *overrides: str) -> TrainConfig:
    """Load without the registry checks, which depend on the installed backbone plugins."""
    return load_train_config(preset, list(overrides), check_registry=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_needs_no_torch():
    code = "import rfloc_core.training, sys; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_shipped_presets_are_exactly_the_documented_ones():
    assert preset_names() == sorted(PRESET_BACKBONES)


@pytest.mark.parametrize("preset", sorted(PRESET_BACKBONES))
def test_each_preset_loads_with_typed_fields(preset):
    config = load(preset)
    assert config.name == preset
    assert config.model.backbone == PRESET_BACKBONES[preset]
    assert isinstance(config.model, ModelConfig)
    assert isinstance(config.model.input_size, SpectrogramSize)
    assert isinstance(config.model.pretrained, bool)
    for field in ("seed", "epochs", "batch_size", "train_samples", "val_samples", "num_nodes"):
        assert type(getattr(config, field)) is int, field
    for field in ("learning_rate", "weight_decay", "warmup_fraction"):
        assert type(getattr(config, field)) is float, field
    assert 0.0 < config.learning_rate <= 1.0
    assert config.batch_size <= config.train_samples
    assert config.precision in ("32-true", "16-mixed", "bf16-mixed", "auto")


def test_dev_test_is_tiny():
    config = load("dev_test")
    assert config.model.backbone in ("convnext_atto", "resnet18")
    assert config.epochs <= 5
    assert config.train_samples + config.val_samples <= 5_000
    assert config.epochs * config.train_samples // config.batch_size <= 640  # steps
    assert config.model.pretrained is False
    assert config.accelerator == "cpu"


def test_every_field_says_its_unit_or_meaning():
    for model in (TrainConfig, ModelConfig, SpectrogramSize):
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"


def test_every_training_field_is_in_the_documented_fields_table():
    docs = (Path(__file__).parents[1] / "docs" / "training.md").read_text(encoding="utf-8")
    table_rows = [line for line in docs.splitlines() if line.startswith("| `")]
    undocumented = [
        name
        for name in TrainConfig.model_fields
        if name not in ("name", "description", "model")
        and not any(f"`{name}`" in row.split("|")[1] for row in table_rows)
    ]
    assert undocumented == [], "fields missing from docs/training.md's Fields table"


def test_config_round_trips_through_json():
    config = load("balanced", "model.head=mixture", "model.head_options={components=4}")
    assert TrainConfig.model_validate_json(config.model_dump_json()) == config
    kwargs = config.model.create_model_kwargs()
    assert kwargs["input_size"] == (128, 32)
    assert kwargs["head_options"] == {"components": 4}


def test_config_is_frozen():
    config = load("dev_test")
    with pytest.raises(ValueError, match="frozen"):
        config.epochs = 5  # type: ignore[misc]


# --- overrides -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keys", "value"),
    [
        ("learning_rate=3e-4", ["learning_rate"], 3e-4),
        ("epochs=2", ["epochs"], 2),
        ("model.backbone=resnet18", ["model", "backbone"], "resnet18"),
        ("model.pretrained=true", ["model", "pretrained"], True),
        ("devices=0,1", ["devices"], "0,1"),
        ('output_dir="runs/a b"', ["output_dir"], "runs/a b"),
        ("model.head_options={components = 5}", ["model", "head_options"], {"components": 5}),
        (" epochs = 7 ", ["epochs"], 7),
    ],
)
def test_override_values_parse_as_toml_scalars(text, keys, value):
    parsed_keys, parsed = parse_override(text)
    assert parsed_keys == keys
    assert parsed == value and type(parsed) is type(value)


def test_overrides_apply_with_dotted_keys_and_toml_types():
    config = load(
        "dev_test",
        "model.backbone=resnet18",
        "learning_rate=3e-4",
        "epochs=2",
        "model.input_size.frames=64",
        "model.head=mixture",
        "model.head_options.components=5",
        "devices=0,1",
        "model.pretrained=true",
    )
    assert config.model.backbone == "resnet18"
    assert config.learning_rate == 3e-4
    assert config.epochs == 2
    assert config.model.input_size.as_tuple() == (128, 64)
    assert config.model.head_options == {"components": 5}
    assert config.devices == "0,1"
    assert config.model.pretrained is True
    assert config.train_samples == load("dev_test").train_samples


def test_later_overrides_win():
    assert load("dev_test", "epochs=5", "epochs=1").epochs == 1


def test_an_override_can_replace_a_whole_table():
    config = load("dev_test", "model.input_size={mel_bins = 64, frames = 16}")
    assert config.model.input_size.as_tuple() == (64, 16)


def test_an_override_that_replaces_a_table_with_one_value_is_refused():
    with pytest.raises(ConfigError, match=r"would replace the whole \[model\] table") as caught:
        load("dev_test", "model=resnet18")
    assert "model.backbone=..." in str(caught.value)


@pytest.mark.parametrize("text", ["epochs", "=3", "model..backbone=x", ".epochs=2"])
def test_a_malformed_override_names_the_syntax(text):
    with pytest.raises(ConfigError, match=r"malformed override .* expected key=value"):
        load("dev_test", text)


def test_an_unknown_override_key_names_it_and_the_allowed_keys():
    with pytest.raises(ConfigError) as caught:
        load("dev_test", "lerning_rate=1")
    message = str(caught.value)
    assert "unknown key 'lerning_rate'" in message
    assert "did you mean learning_rate" in message
    assert "allowed keys:" in message and "model.backbone" in message and "epochs" in message
    assert "\n" not in message


@pytest.mark.parametrize("text", ["model.backbne=x", "model.backbone.x=1", "base=dev_fast"])
def test_nested_unknown_override_keys_are_refused(text):
    with pytest.raises(ConfigError, match=r"unknown key '.*'.*allowed keys:"):
        load("dev_test", text)


# --- range errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "pattern"),
    [
        ("learning_rate=-1e-3", r"field learning_rate got -0\.001 but it must be > 0\.0 and <= 1"),
        ("learning_rate=2", r"field learning_rate got 2 but it must be > 0\.0 and <= 1"),
        ("weight_decay=-0.1", r"field weight_decay got -0\.1 but it must be >= 0\.0"),
        ("warmup_fraction=1.5", r"field warmup_fraction .* must be >= 0\.0 and <= 1\.0"),
        ("epochs=0", r"field epochs got 0 but it must be >= 1"),
        ("model.receivers=2", r"field model\.receivers got 2 but it must be >= 3 and <= 64"),
        ("precision=fp16", r"field precision got 'fp16'.*'32-true'.*'bf16-mixed'.*'auto'"),
        ("devices=0", r"field devices got 0 but devices must be a count >= 1, -1 for all"),
        ("batch_size=4096", r"batch_size \(4096 samples\) must not exceed train_samples"),
        ("model.pretrained=''", r"field model\.pretrained .*non-empty weights file path"),
    ],
)
def test_an_out_of_range_value_names_the_field_and_the_range(override, pattern):
    with pytest.raises(ConfigError, match=pattern) as caught:
        load("dev_test", override)
    assert isinstance(caught.value, RflocError)
    assert f"with overrides {override}" in str(caught.value)


def test_receivers_must_match_the_scenario():
    with pytest.raises(ConfigError, match=r"model\.receivers is 5 but scenario 'vhf-rural' has 7"):
        load("dev_test", "model.receivers=5")


def test_an_unknown_scenario_preset_fails_at_load_time():
    with pytest.raises(ConfigError, match=r"unknown scenario preset 'moon'.*vhf-rural"):
        load("dev_test", "scenario=moon")


def test_a_missing_weights_file_fails_at_load_time(tmp_path):
    with pytest.raises(ConfigError, match=r"field model\.pretrained names .*not a file"):
        load("dev_test", f'model.pretrained="{tmp_path / "none.safetensors"}"')
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"")
    assert load("dev_test", f'model.pretrained="{weights}"').model.pretrained == str(weights)


# --- presets and files -----------------------------------------------------------------------


def test_an_unknown_preset_lists_the_presets():
    with pytest.raises(
        ConfigError, match=r"unknown training preset 'fast'; choose one of .*dev_test"
    ):
        load("fast")


def test_a_missing_file_names_the_path(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml does not exist"):
        load(tmp_path / "nope.toml")


def test_a_file_without_base_needs_a_model(tmp_path):
    path = write(tmp_path, "epochs = 3\n")
    with pytest.raises(ConfigError, match="required field model is missing"):
        load(path)


def test_a_complete_file_loads(tmp_path):
    path = write(tmp_path, 'epochs = 3\n[model]\nbackbone = "resnet18"\n')
    config = load(str(path))
    assert (config.epochs, config.model.backbone, config.scenario) == (3, "resnet18", "vhf-rural")


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            'lerning_rate = 1\n[model]\nbackbone = "x"\n',
            r"unknown field lerning_rate; .*learning_rate",
        ),
        (
            '[model]\nbackbone = "x"\nbackbne = "x"\n',
            r"unknown field model\.backbne; .*backbone, head",
        ),
    ],
)
def test_an_unknown_key_in_a_file_names_it_and_the_allowed_fields(tmp_path, text, pattern):
    with pytest.raises(ConfigError, match=pattern):
        load(write(tmp_path, text))


def test_precedence_is_preset_then_file_then_overrides(tmp_path):
    path = write(
        tmp_path,
        'base = "dev_test"\nepochs = 3\nlearning_rate = 5e-4\n[model]\nhead = "mixture"\n',
    )
    config = load(path, "epochs=1")
    preset = load("dev_test")
    assert config.epochs == 1  # override beats file
    assert config.learning_rate == 5e-4  # file beats preset
    assert config.model.head == "mixture"  # file table merges into the preset's table
    assert config.model.backbone == preset.model.backbone  # preset fills the rest
    assert config.train_samples == preset.train_samples


def test_a_file_base_must_be_a_known_preset(tmp_path):
    with pytest.raises(ConfigError, match="unknown training preset 'nope'"):
        load(write(tmp_path, 'base = "nope"\n'))
    with pytest.raises(ConfigError, match="field base must be the name of a shipped training"):
        load(write(tmp_path, "base = 3\n"))


# --- registry checks (a real tiny plugin, so nothing depends on installed backbones) ---------


@pytest.fixture
def toy_only(toy_registry: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the toy plugin (backbone ``toynet``) and the built-in heads are loaded."""
    monkeypatch.setenv("RFLOC_PLUGINS", "toy")


def test_a_registered_backbone_and_its_alias_pass(toy_only):
    assert load_train_config("dev_test", ["model.backbone=toynet"]).model.backbone == "toynet"
    config = load_train_config("dev_test", ["model.backbone=toynet_small", "model.head=mixture"])
    assert config.model.head == "mixture"


def test_an_unknown_backbone_lists_close_matches(toy_only):
    with pytest.raises(ConfigError) as caught:
        load_train_config("dev_test", ["model.backbone=toynt"])
    message = str(caught.value)
    assert "field model.backbone: unknown backbone 'toynt' (did you mean toynet?)" in message
    assert "; installed backbones: toynet" in message and "`rfloc models` lists them" in message


def test_a_backbone_of_an_uninstalled_family_names_the_package(toy_only):
    with pytest.raises(ConfigError, match=r"convnext family is not installed.*rfloc-convnext"):
        load_train_config("balanced")


def test_an_unknown_head_lists_the_heads(toy_only):
    with pytest.raises(ConfigError, match=r"field model\.head: unknown head 'gauss'.*gaussian"):
        load_train_config("dev_test", ["model.backbone=toynet", "model.head=gauss"])


def test_input_size_is_checked_against_the_backbone(toy_only):
    with pytest.raises(ConfigError, match=r"model\.input_size .*toynet.*multiple of 4, got 30"):
        load_train_config("dev_test", ["model.backbone=toynet", "model.input_size.frames=30"])


def test_pretrained_true_needs_published_weights(toy_only):
    with pytest.raises(ConfigError, match=r"toynet has no published weights"):
        load_train_config("dev_test", ["model.backbone=toynet", "model.pretrained=true"])


def test_registry_check_can_be_skipped(toy_only):
    assert load_train_config("balanced", check_registry=False).model.backbone == "convnext_tiny"


def test_all_errors_are_one_line_rfloc_errors(tmp_path):
    for call in (
        lambda: load("dev_test", "lerning_rate=1"),
        lambda: load("dev_test", "learning_rate=-1"),
        lambda: load("nope"),
        lambda: load("dev_test", "epochs"),
    ):
        with pytest.raises(RflocError) as caught:
            call()
        assert "\n" not in str(caught.value)


def test_models_forbid_extra_fields():
    for model in (TrainConfig, ModelConfig, SpectrogramSize):
        assert issubclass(model, BaseModel)
        assert model.model_config.get("extra") == "forbid"
        assert model.model_config.get("frozen") is True
