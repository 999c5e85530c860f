"""A training configuration small enough for tests: the toy backbone, tens of steps."""

from __future__ import annotations

from pathlib import Path

TOY_TRAIN_TOML = """
base = "dev_test"
epochs = {epochs}
batch_size = 16
train_samples = {train_samples}
val_samples = 48
learning_rate = 3e-3
checkpoint_every_steps = 5
output_dir = "{output_dir}"

[model]
backbone = "toynet"
"""


def write_toy_config(
    folder: Path, *, epochs: int = 2, train_samples: int = 160, name: str = "toy.toml"
) -> Path:
    path = folder / name
    path.write_text(
        TOY_TRAIN_TOML.format(
            epochs=epochs, train_samples=train_samples, output_dir=(folder / "runs").as_posix()
        ),
        encoding="utf-8",
    )
    return path
