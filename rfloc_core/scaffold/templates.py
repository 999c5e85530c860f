"""The files of a new plugin package, as ``string.Template`` texts (``$name`` placeholders)."""

from __future__ import annotations

from string import Template

from rfloc_core.scaffold.plan import PluginPlan

PYPROJECT = Template("""[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "$distribution"
version = "0.1.0"
description = "rfloc plugin: $family backbones for transmitter localization."
readme = "README.md"
requires-python = ">=3.11"
dependencies = [$dependencies]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points.rfloc]
$plugin = "$module"

[tool.hatch.build.targets.wheel]
packages = ["$module"]

[tool.pytest.ini_options]
addopts = "-ra --strict-markers"
""")

TIMM_MODULE = Template('''"""rfloc plugin: $family backbones, built with timm.

Importing this module imports neither torch nor timm; a network is built only on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version

from rfloc_core import BackboneSpec, InputConstraints, hookimpl
from rfloc_core.timm_backbones import timm_backbone_spec

__version__ = version("$distribution")
RFLOC_PLUGIN_API = $api
"""The rfloc plugin API this plugin is built for (major, minor)."""

FAMILY = "$family"
CONSTRAINTS = InputConstraints(min_size=(32, 32))
"""Spectrogram sizes (mel_bins, frames) the backbones accept."""


@hookimpl
def rfloc_backbones() -> Sequence[BackboneSpec]:
    return [
        timm_backbone_spec(
            "$backbone",
            family=FAMILY,
            feature_dim=$feature_dim,$pretrained
            constraints=CONSTRAINTS,
        ),
    ]
''')

TORCHVISION_MODULE = Template('''"""rfloc plugin: $family backbones, built with torchvision.

Importing this module imports neither torch nor torchvision; a network is built only on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version

from rfloc_core import BackboneSpec, InputConstraints, hookimpl
from rfloc_core.torchvision_backbones import torchvision_backbone_spec

__version__ = version("$distribution")
RFLOC_PLUGIN_API = $api
"""The rfloc plugin API this plugin is built for (major, minor)."""

FAMILY = "$family"
CONSTRAINTS = InputConstraints(min_size=(32, 32))
"""Spectrogram sizes (mel_bins, frames) the backbones accept."""


@hookimpl
def rfloc_backbones() -> Sequence[BackboneSpec]:
    return [
        torchvision_backbone_spec(
            "$backbone",
            family=FAMILY,
            feature_dim=$feature_dim,
            first_conv="$first_conv",
            classifier="$classifier",$pretrained
            constraints=CONSTRAINTS,
        ),
    ]
''')

PLAIN_MODULE = Template('''"""rfloc plugin: $family backbones.

Importing this module imports neither torch nor timm; a network is built only on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from rfloc_core import BackboneSpec, InputConstraints, hookimpl
from rfloc_core.specs import InputSize, Pretrained

__version__ = version("$distribution")
RFLOC_PLUGIN_API = $api
"""The rfloc plugin API this plugin is built for (major, minor)."""

FAMILY = "$family"
FEATURE_DIM = 64


def build_$backbone(*, in_chans: int, input_size: InputSize, pretrained: Pretrained) -> Any:
    """Map spectrograms (B, in_chans, mel_bins, frames) to pooled features (B, FEATURE_DIM).

    Replace this small network with yours; keep torch imports inside the function.
    """
    from torch import nn

    network = nn.Sequential(
        nn.Conv2d(in_chans, 32, 3, stride=2, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.Conv2d(32, FEATURE_DIM, 3, stride=2, padding=1),
        nn.BatchNorm2d(FEATURE_DIM),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )
    if pretrained is not False:
        from safetensors.torch import load_file

        network.load_state_dict(load_file(str(pretrained)))
    return network


@hookimpl
def rfloc_backbones() -> Sequence[BackboneSpec]:
    return [
        BackboneSpec(
            name="$backbone",
            family=FAMILY,
            feature_dim=FEATURE_DIM,
            build=build_$backbone,
            constraints=InputConstraints(min_size=(8, 8)),
        ),
    ]
''')

TIMM_TEST = Template('''"""The $plugin plugin passes the rfloc conformance kit."""

from rfloc_core.testing import TimmBackboneConformance


class Test${class_name}Conformance(TimmBackboneConformance):
    plugin = "$plugin"
    variants = ("$backbone",)
''')

TORCHVISION_TEST = Template('''"""The $plugin plugin passes the rfloc conformance kit, weights
checks included."""

from rfloc_core.testing import BackboneConformance


class Test${class_name}Conformance(BackboneConformance):
    plugin = "$plugin"
    variants = ("$backbone",)
''')

PLAIN_TEST = Template('''"""The $plugin plugin passes the rfloc conformance kit."""

from rfloc_core.testing import BackboneConformance


class Test${class_name}Conformance(BackboneConformance):
    plugin = "$plugin"
    variants = ("$backbone",)
''')

README = Template("""# $distribution

A plugin for rfloc, the model zoo for locating radio transmitters: $family backbones.
Backbones: `$backbone`.

## Install

```bash
pip install -e "./$folder[test]"
rfloc plugins
rfloc models '$family*'
```

## Test

```bash
pytest $folder/tests    # the rfloc conformance kit over every backbone of this plugin
```

## Use

```bash
rfloc train --backbone $backbone --preset dev_test
```

```python
from rfloc_core import create_model

model = create_model("$backbone", head="gaussian", receivers=7)
```

`$module` declares `RFLOC_PLUGIN_API = $api`: the rfloc plugin API it is built for.
Every hook and spec field is described in rfloc's plugin reference
(`docs/plugins/reference.md` in the rfloc repository).
""")


def _pretrained_fields(plan: PluginPlan) -> str:
    indent = "\n" + " " * 12
    if plan.torchvision is not None and plan.torchvision.weights_tag is not None:
        fields = f'{indent}weights_tag="{plan.torchvision.weights_tag}",'
        if plan.torchvision.imagenet_top1 is not None:
            fields += f"{indent}imagenet_top1={plan.torchvision.imagenet_top1!r},"
        return fields
    if plan.timm is None or plan.timm.pretrained_tag is None:
        return ""
    return (
        f'{indent}pretrained_tag="{plan.timm.pretrained_tag}",'
        f'{indent}licence="{plan.timm.licence}",'
    )


def render(plan: PluginPlan) -> dict[str, str]:
    """The package's files, by path relative to its folder."""
    dependencies = [plan.core_requirement, "torch>=2.4"]
    if plan.timm is not None:
        dependencies.insert(1, "timm>=1.0.9")
    if plan.torchvision is not None:
        dependencies.append("torchvision>=0.19")
    wrapped = plan.timm or plan.torchvision
    values = {
        "plugin": plan.plugin,
        "family": plan.family,
        "backbone": plan.backbone,
        "distribution": plan.distribution,
        "module": plan.module,
        "folder": plan.folder,
        "class_name": plan.class_name,
        "api": repr(plan.api),
        "dependencies": ", ".join(f'"{d}"' for d in dependencies),
        "feature_dim": str(wrapped.feature_dim) if wrapped else "",
        "first_conv": plan.torchvision.first_conv if plan.torchvision else "",
        "classifier": plan.torchvision.classifier if plan.torchvision else "",
        "pretrained": _pretrained_fields(plan),
    }
    module, test = (PLAIN_MODULE, PLAIN_TEST)
    if plan.timm:
        module, test = TIMM_MODULE, TIMM_TEST
    elif plan.torchvision:
        module, test = TORCHVISION_MODULE, TORCHVISION_TEST
    return {
        "pyproject.toml": PYPROJECT.substitute(values),
        "README.md": README.substitute(values),
        f"{plan.module}/__init__.py": module.substitute(values),
        f"tests/test_{plan.plugin}_plugin.py": test.substitute(values),
    }
