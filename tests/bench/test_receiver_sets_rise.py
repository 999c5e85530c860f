"""The receiver-set benchmark's RMSE rise and its paired bootstrap interval."""

from __future__ import annotations

import math

import pytest
import torch

from benchmarks.receiver_sets import rmse_rise_interval


def test_errors_scaled_by_one_factor_rise_by_it_with_no_spread() -> None:
    online = torch.rand(300, generator=torch.Generator().manual_seed(0)) * 1000
    rise, low, high = rmse_rise_interval(online, 1.25 * online)
    assert rise == pytest.approx(0.25)
    assert low == pytest.approx(0.25) and high == pytest.approx(0.25)


def test_the_interval_holds_the_rise_and_narrows_with_more_samples() -> None:
    generator = torch.Generator().manual_seed(1)

    def width(samples: int) -> tuple[float, float]:
        online = torch.randn(samples, generator=generator).abs()
        down = online * (1.0 + 0.5 * torch.rand(samples, generator=generator))
        rise, low, high = rmse_rise_interval(online, down)
        expected = math.sqrt(float(down.square().mean() / online.square().mean())) - 1
        assert rise == pytest.approx(expected)
        assert low < rise < high
        return rise, high - low

    _, narrow = width(4000)
    _, wide = width(250)
    assert narrow < wide / 2


def test_unpaired_errors_are_refused() -> None:
    with pytest.raises(ValueError, match="paired errors must be two"):
        rmse_rise_interval(torch.ones(3), torch.ones(4))
