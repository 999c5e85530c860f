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


def test_against_a_reference_it_is_the_difference_of_the_two_rises() -> None:
    generator = torch.Generator().manual_seed(2)
    online = torch.rand(500, generator=generator) + 0.1
    reference = (1.1 * online, 1.1 * online * 1.2)
    rise, low, high = rmse_rise_interval(online, 1.3 * online, reference=reference)
    assert rise == pytest.approx(0.3 - 0.2)
    assert low == pytest.approx(0.1) and high == pytest.approx(0.1)
    noisy_down = online * (1.0 + 0.6 * torch.rand(500, generator=generator))
    alone = rmse_rise_interval(online, noisy_down)
    shared = rmse_rise_interval(online, noisy_down, reference=(online, 0.5 * (online + noisy_down)))
    # What the two estimators share cancels: the difference is tighter than either rise.
    assert shared[2] - shared[1] < (alone[2] - alone[1]) / 2


def test_unpaired_errors_are_refused() -> None:
    with pytest.raises(ValueError, match="paired errors must be"):
        rmse_rise_interval(torch.ones(3), torch.ones(4))
    with pytest.raises(ValueError, match="paired errors must be"):
        rmse_rise_interval(torch.ones(3), torch.ones(3), reference=(torch.ones(3), torch.ones(2)))
