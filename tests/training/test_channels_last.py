"""Training in channels-last memory format computes what the contiguous layout computes, and
its checkpoints load like any other."""

from __future__ import annotations

import pytest
import torch

from rfloc_core import create_model
from rfloc_core.checkpoint import load_checkpoint, save_checkpoint
from rfloc_core.training.module import LocalizationModule

pytestmark = pytest.mark.usefixtures("toy_registry")


def _module(channels_last: bool) -> LocalizationModule:
    torch.manual_seed(0)
    model = create_model("toynet", head_options={"position_scale_m": 20_000.0})
    return LocalizationModule(
        model, learning_rate=1e-3, weight_decay=0.05, warmup_fraction=0.1, seed=0,
        channels_last=channels_last,
    )  # fmt: skip


def test_a_step_in_channels_last_gives_the_contiguous_loss_and_gradients(tmp_path):
    generator = torch.Generator().manual_seed(1)
    batch = {
        "features": torch.rand(4, 7, 128, 32, generator=generator),
        "position_m": torch.randn(4, 2, generator=generator) * 5_000,
        "online": torch.ones(4, 7, dtype=torch.bool),
    }
    losses, gradients = [], []
    for channels_last in (False, True):
        module = _module(channels_last)
        first_conv = next(p for p in module.model.parameters() if p.ndim == 4)
        assert first_conv.is_contiguous(memory_format=torch.channels_last) == channels_last
        module.train()
        loss = module.step_loss(batch, 0)
        loss.backward()
        losses.append(loss.detach())
        gradients.append([p.grad.clone() for p in module.model.parameters()])
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-5, atol=1e-6)
    for contiguous, channels_last in zip(*gradients, strict=True):
        torch.testing.assert_close(channels_last, contiguous, rtol=1e-3, atol=1e-5)

    saved = save_checkpoint(module.model, tmp_path / "ckpt")
    loaded, _ = load_checkpoint(saved)
    for original, reloaded in zip(module.model.parameters(), loaded.parameters(), strict=True):
        torch.testing.assert_close(reloaded, original.detach(), rtol=0, atol=0)
