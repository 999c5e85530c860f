"""``rfloc plugin new``: write a complete plugin package from templates.

The package holds a pyproject.toml declaring the ``rfloc`` entry point, a module with one
backbone spec and its ``RFLOC_PLUGIN_API``, tests that run the conformance kit, and a README.
"""

from __future__ import annotations

from pathlib import Path

from rfloc_core.atomic import write_text_atomic
from rfloc_core.scaffold.plan import PluginPlan, ScaffoldError, checked_name, plan_plugin
from rfloc_core.scaffold.templates import render


def new_plugin(
    plugin: str,
    out: str | Path = ".",
    *,
    family: str | None = None,
    timm_model: str | None = None,
    torchvision_model: str | None = None,
) -> Path:
    """Write the package for plugin ``plugin`` into ``out/rfloc-<plugin>``; return that folder.

    With ``timm_model`` the backbone wraps that timm model, its feature dimension measured on
    the meta device and its default published weights declared; without it, a small
    convolutional network to replace. ``torchvision_model`` does the same for a torchvision
    model, its first convolution and classifier found in its module tree.
    """
    plan = plan_plugin(plugin, family=family)  # fail on a bad name before probing a library
    if timm_model is not None and torchvision_model is not None:
        raise ScaffoldError(
            "give --timm-model or --torchvision-model, not both: a plugin package wraps one "
            "model library"
        )
    if timm_model is not None:
        checked_name(timm_model, "--timm-model")
    if torchvision_model is not None:
        checked_name(torchvision_model, "--torchvision-model")
    folder = Path(out) / plan.folder
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ScaffoldError(
            f"expected a new or empty folder for the plugin package, but {folder} already "
            "exists with content; choose another --out or NAME, or remove that folder"
        )
    if timm_model is not None:
        from rfloc_core.scaffold.timm_probe import probe_timm_model

        plan = plan_plugin(plugin, family=family, timm=probe_timm_model(timm_model))
    if torchvision_model is not None:
        from rfloc_core.scaffold.torchvision_probe import probe_torchvision_model

        plan = plan_plugin(
            plugin, family=family, torchvision=probe_torchvision_model(torchvision_model)
        )
    for relative, text in render(plan).items():
        write_text_atomic(folder / relative, text)
    return folder


__all__ = ["PluginPlan", "ScaffoldError", "new_plugin"]
