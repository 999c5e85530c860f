"""A third-party plugin that contributes a head, exporters and a set fusion, installed by pip
from its own pyproject.toml: create_model uses its head and its fusion (which trains), and
`rfloc export --format` its exporter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli_runner import run_rfloc
from tests.plugin_packages import pip_install, write_package
from tests.toy_plugins import TOY_BACKBONE

EXTRAS = textwrap.dedent(
    """
    import json
    from pathlib import Path

    from rfloc_core import ExporterSpec, FusionSpec, HeadSpec, hookimpl


    def build_spread_head(feature_dim, **options):
        import torch
        from torch import nn

        class SpreadHead(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(feature_dim, 3)

            def forward(self, features):
                raw = self.proj(features)
                return {
                    "position_m": raw[:, :2] * 1000.0,
                    "spread_m": nn.functional.softplus(raw[:, 2]) * 100.0 + 1.0,
                }

            def nll(self, outputs, target_m):
                spread = outputs["spread_m"]
                error = ((outputs["position_m"] - target_m) ** 2).sum(dim=1)
                return error / (2 * spread**2) + 2 * torch.log(spread)

        return SpreadHead()


    def export_summary(model, path, **options):
        import torch

        with torch.no_grad():
            outputs = model.eval()(torch.zeros(1, model.receivers, *model.input_size))
        summary = {
            "backbone": model.backbone_spec.name,
            "head": model.head_spec.name,
            "head_class": type(model.head).__name__,
            "outputs": {name: list(value.shape) for name, value in outputs.items()},
            "options": sorted(options),
        }
        Path(path).write_text(json.dumps(summary))
        return Path(path)


    def build_sum_fusion(token_dim, scale=1.0):
        from torch import nn

        class SumFusion(nn.Module):
            def __init__(self):
                super().__init__()
                self.output_dim = 8
                self.proj = nn.Linear(token_dim, 8)

            def forward(self, tokens, online):
                return (self.proj(tokens) * online.unsqueeze(-1)).sum(dim=1) * scale

        return SumFusion()


    def needs_acme_toolchain():
        return "the acme toolchain is not installed"


    @hookimpl
    def rfloc_heads():
        return [HeadSpec("acme_spread", build_spread_head, ("position_m", "spread_m"))]


    @hookimpl
    def rfloc_fusions():
        return [FusionSpec("acme_sum", build_sum_fusion, "a masked sum of projected tokens")]


    @hookimpl
    def rfloc_exporters():
        return [
            ExporterSpec("acme_summary", ".json", export_summary),
            ExporterSpec(
                "acme_never", ".bin", export_summary, unavailable_reason=needs_acme_toolchain
            ),
        ]
    """
)

SAVE_CHECKPOINT = textwrap.dedent(
    """
    import sys
    import torch
    from rfloc_core import create_model
    from rfloc_core.checkpoint import save_checkpoint

    model = create_model("toynet", head="acme_spread", receivers=4)
    out = model(torch.randn(2, 4, 128, 32))
    loss = model.nll(out, torch.zeros(2, 2)).mean()
    loss.backward()
    shape = tuple(out["spread_m"].shape)
    print(type(model.head).__name__, model.head_spec.plugin, sorted(out), shape)
    save_checkpoint(model, sys.argv[1])
    """
)


TRAIN_FUSION_ONE_STEP = textwrap.dedent(
    """
    import torch
    from rfloc_core import create_model

    model = create_model("toynet", fusion="acme_sum", fusion_options={"scale": 0.5})
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    spectrogram, receivers = torch.randn(4, 6, 128, 32), 1e4 * torch.randn(4, 6, 2)
    online = torch.rand(4, 6) > 0.3
    online[:, 0] = True
    before = model.fusion.proj.weight.detach().clone()
    loss = model.nll(model(spectrogram, receivers, online), torch.zeros(4, 2)).mean()
    loss.backward()
    optimizer.step()
    changed = bool((model.fusion.proj.weight != before).any())
    print(type(model.fusion).__name__, model.fusion_spec.plugin, changed, bool(loss.isfinite()))
    """
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("packages")
    target = tmp_path_factory.mktemp("site")
    pip_install(
        target,
        write_package(root, "toy-rfloc", "toy", "toy_rfloc", TOY_BACKBONE),
        write_package(root, "acme-extras", "extras", "acme_extras", EXTRAS),
    )
    assert (target / "acme_extras-1.2.3.dist-info" / "entry_points.txt").is_file()
    return target


@pytest.fixture(scope="module")
def checkpoint(site, tmp_path_factory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("ckpt") / "toynet-spread"
    result = subprocess.run(
        [sys.executable, "-c", SAVE_CHECKPOINT, str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(site)),
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return folder, result.stdout


def test_rfloc_plugins_lists_the_head_and_exporters(site):
    listing = run_rfloc("plugins", "--format", "json", site=site)
    extras = next(p for p in json.loads(listing.stdout) if p["name"] == "extras")
    assert (extras["state"], extras["hooks"]) == ("loaded", ["heads", "exporters", "fusions"])
    assert (extras["backbones"], extras["heads"], extras["exporters"]) == (0, 1, 2)
    assert extras["fusions"] == 1


def test_the_plugin_fusion_builds_through_create_model_and_trains_one_step(site):
    result = subprocess.run(
        [sys.executable, "-c", TRAIN_FUSION_ONE_STEP],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(site)),
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["SumFusion", "extras", "True", "True"]


def test_create_model_uses_the_plugin_head(checkpoint):
    folder, printed = checkpoint
    assert printed.split() == ["SpreadHead", "extras", "['position_m',", "'spread_m']", "(2,)"]
    config = json.loads((folder / "config.json").read_text())
    assert (config["head"], config["head_plugin"], config["head_distribution"]) == (
        "acme_spread",
        "extras",
        "acme-extras",
    )


def test_rfloc_export_uses_the_plugin_exporter(site, checkpoint, tmp_path):
    folder, _ = checkpoint
    out = tmp_path / "summary.json"
    result = run_rfloc(
        "export", str(folder), "--format", "acme_summary", "--out", str(out), site=site
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"wrote {out}" in " ".join(result.stdout.split())
    summary = json.loads(out.read_text())
    assert summary["backbone"] == "toynet"
    assert (summary["head"], summary["head_class"]) == ("acme_spread", "SpreadHead")
    assert summary["outputs"] == {"position_m": [1, 2], "spread_m": [1]}
    assert {"scenario", "features", "metadata"} <= set(summary["options"])


def test_unavailable_plugin_exporter_fails_with_its_reason(site, checkpoint, tmp_path):
    folder, _ = checkpoint
    out = tmp_path / "never.bin"
    result = run_rfloc(
        "export", str(folder), "--format", "acme_never", "--out", str(out), site=site
    )
    assert result.returncode == 1
    assert "acme_never exporter cannot run here: the acme toolchain is not installed" in (
        " ".join(result.stderr.split())
    )
    assert not out.exists()
