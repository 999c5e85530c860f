"""Toy checkpoint models shared by the checkpoint tests."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from rfloc_core import create_model
from rfloc_core.checkpoint import CONFIG_NAME, checkpoint_sha256


def trained_model(head: str = "gaussian", head_options: dict | None = None, **kwargs):
    """A toy model whose weights and BatchNorm statistics differ from a fresh build's."""
    torch.manual_seed(0)
    model = create_model("toynet", head=head, head_options=head_options, **kwargs)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter))
        model(torch.randn(4, model.receivers, *model.input_size))  # updates running stats
    return model.eval()


def write_config(folder: Path, config: dict) -> None:
    """config.json as a tool that knows the format would write it: hash updated."""
    config = config | {"checkpoint_sha256": checkpoint_sha256(config)}
    (folder / CONFIG_NAME).write_text(json.dumps(config))
