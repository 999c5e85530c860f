from __future__ import annotations

import math

import pytest
import torch

from rfloc_core.training.schedule import WarmupCosine, warmup_steps_for


def test_warmup_is_linear_then_cosine_reaches_zero() -> None:
    factor = WarmupCosine(total_steps=110, warmup_steps=10)
    assert [factor(k) for k in range(10)] == pytest.approx([(k + 1) / 10 for k in range(10)])
    assert factor(10) == pytest.approx(1.0)
    assert factor(60) == pytest.approx(0.5)  # half-way through the 100 decay steps
    assert factor(35) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.25)))
    assert factor(110) == pytest.approx(0.0, abs=1e-12)
    assert factor(500) == pytest.approx(0.0, abs=1e-12)


def test_lambda_lr_follows_the_factor_and_state_reloads_without_code() -> None:
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([parameter], lr=2e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupCosine(20, 4))
    seen = []
    for _ in range(20):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen[:4] == pytest.approx([5e-4, 1e-3, 1.5e-3, 2e-3])
    assert seen[12] == pytest.approx(1e-3)
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"total_steps": 20, "warmup_steps": 4}]


def test_warmup_steps_and_invalid_lengths() -> None:
    assert warmup_steps_for(1000, 0.05) == 50
    assert warmup_steps_for(3, 1.0) == 3
    assert WarmupCosine(5, 0)(0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="warmup_steps <= total_steps"):
        WarmupCosine(5, 6)
