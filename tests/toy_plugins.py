"""Sources of small plugins the tests install: a real module plus its distribution metadata."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

TOY_BACKBONE = textwrap.dedent(
    """
    from rfloc_core import BackboneSpec, InputConstraints, hookimpl


    def build_toynet(*, in_chans, input_size, pretrained):
        import torch
        from torch import nn

        network = nn.Sequential(
            nn.Conv2d(in_chans, 8, 3, stride=2, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        if pretrained is not False:
            from safetensors.torch import load_file

            network.load_state_dict(load_file(str(pretrained)))
        return network


    @hookimpl
    def rfloc_backbones():
        return [
            BackboneSpec(
                name="toynet",
                family="toy",
                feature_dim=16,
                build=build_toynet,
                constraints=InputConstraints(min_size=(8, 8), multiple_of=(4, 4)),
                aliases=("toynet_small",),
            )
        ]
    """
)

BROKEN_ON_IMPORT = "raise ImportError('broken on purpose')\n"


def install_distribution(
    site: Path,
    dist_name: str,
    entry_points: dict[str, str],
    modules: dict[str, str],
    version: str = "0.0.1",
) -> None:
    """Write modules and a ``.dist-info`` folder into ``site``, as an installer would."""
    site.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (site / f"{module}.py").write_text(source)
    info = site / f"{dist_name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {version}\n"
    )
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[rfloc]\n{lines}")
    (info / "RECORD").write_text("")


def forget_modules(names: list[str]) -> None:
    for name in names:
        sys.modules.pop(name, None)
