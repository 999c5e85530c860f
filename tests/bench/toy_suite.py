"""Suites small enough for tests: the toy backbone, a few timed calls, a few training steps."""

from __future__ import annotations

import textwrap
from pathlib import Path

from rfloc_core.bench.config import BenchConfig

EXPORTER_PLUGIN = textwrap.dedent(
    """
    from rfloc_core import ExporterSpec, hookimpl


    def export_plain_onnx(model, path, **options):
        from rfloc_core.export.onnx_export import export_onnx

        return export_onnx(model, path, validate=False)


    def explode(model, path, **options):
        raise RuntimeError("the exporter exploded on purpose")


    @hookimpl
    def rfloc_exporters():
        return [
            ExporterSpec(name="plain_onnx", file_suffix=".onnx", export=export_plain_onnx),
            ExporterSpec(name="explodes", file_suffix=".onnx", export=explode),
        ]
    """
)

BROKEN_BACKBONE_PLUGIN = textwrap.dedent(
    """
    from rfloc_core import BackboneSpec, hookimpl


    def build(*, in_chans, input_size, pretrained):
        raise RuntimeError("this backbone cannot be built")


    @hookimpl
    def rfloc_backbones():
        return [BackboneSpec(name="toybroken", family="toy", feature_dim=8, build=build)]
    """
)

TOY_SUITE_TOML = """
name = "toy"
description = "the toy backbone, for tests"
backbones = {backbones}

[latency]
backends = {backends}
device = "cpu"
batch_sizes = [1, 3]
threads = 1
warmup_iterations = 2
min_iterations = 6
min_seconds = 0.05
rounds = 2

[accuracy]
enabled = {accuracy}
scenario = "rss-ideal"
training_preset = "dev_test"
epochs = 1
train_samples = 48
val_samples = 16
test_samples = 40
seeds = {seeds}
"""


def toy_suite_toml(
    *,
    backbones: tuple[str, ...] = ("toynet",),
    backends: tuple[str, ...] = ("torch", "onnxruntime"),
    accuracy: bool = True,
    seeds: tuple[int, ...] = (0,),
) -> str:
    def toml_list(values: tuple[object, ...]) -> str:
        return "[" + ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in values) + "]"

    return TOY_SUITE_TOML.format(
        backbones=toml_list(backbones),
        backends=toml_list(backends),
        accuracy=str(accuracy).lower(),
        seeds=toml_list(seeds),
    )


def write_toy_suite(folder: Path, name: str = "toy.toml", **options: object) -> Path:
    path = folder / name
    path.write_text(toy_suite_toml(**options), encoding="utf-8")  # type: ignore[arg-type]
    return path


def toy_suite(**options: object) -> BenchConfig:
    import tempfile

    from rfloc_core.bench.config import load_suite

    with tempfile.TemporaryDirectory() as folder:
        return load_suite(write_toy_suite(Path(folder), **options))
