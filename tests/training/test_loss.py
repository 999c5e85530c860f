"""The shipped training loss against closed forms: the Gaussian NLL, the beta-NLL weights and
the mean's gradient, which at beta = 1 is mean-squared error's whatever sigma is."""

from __future__ import annotations

import math

import pytest
import torch

from rfloc_core.errors import InvalidInputError
from rfloc_core.heads.gaussian import GaussianHead
from rfloc_core.training.config import TrainConfig
from rfloc_core.training.loss import beta_nll_weights, training_loss

POSITION_M = torch.tensor([[100.0, -50.0], [0.0, 0.0], [3000.0, 2000.0]])
SIGMA_M = torch.tensor([[10.0, 40.0], [500.0, 500.0], [2000.0, 1000.0]])
TRUTH_M = torch.tensor([[110.0, -90.0], [250.0, -500.0], [1000.0, 2500.0]])


def closed_form_nll(position_m, sigma_m, truth_m):
    z2 = ((truth_m - position_m) / sigma_m).square().sum(-1)
    return torch.log(sigma_m).sum(-1) + 0.5 * z2 + math.log(2 * math.pi)


def outputs(position_m=POSITION_M, sigma_m=SIGMA_M):
    return {"position_m": position_m, "sigma_m": sigma_m}


def test_the_default_loss_is_beta_nll_with_beta_one_half():
    fields = TrainConfig.model_fields
    assert (fields["loss"].default, fields["beta"].default) == ("beta_nll", 0.5)


def test_gaussian_nll_matches_the_closed_form():
    nll = GaussianHead.nll(outputs(), TRUTH_M)
    assert torch.allclose(nll, closed_form_nll(POSITION_M, SIGMA_M, TRUTH_M))


@pytest.mark.parametrize("beta", [0.25, 0.5, 1.0])
def test_beta_nll_is_the_nll_weighted_by_the_spread_to_the_power_two_beta(beta):
    nll = closed_form_nll(POSITION_M, SIGMA_M, TRUTH_M)
    spread = SIGMA_M.prod(-1) ** beta  # det(diag(sigma^2))^(beta/2)
    expected = (spread / spread.mean() * nll).mean()
    got = training_loss(outputs(), GaussianHead.nll(outputs(), TRUTH_M), "beta_nll", beta)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    weights = beta_nll_weights(outputs(), beta)
    assert weights.mean().item() == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize(("loss", "beta"), [("nll", 0.5), ("beta_nll", 0.0)])
def test_plain_nll_and_beta_zero_are_the_mean_nll(loss, beta):
    nll = closed_form_nll(POSITION_M, SIGMA_M, TRUTH_M)
    got = training_loss(outputs(), GaussianHead.nll(outputs(), TRUTH_M), loss, beta)
    assert got.item() == pytest.approx(nll.mean().item(), rel=1e-6)


def test_at_beta_one_the_mean_gets_a_squared_error_gradient_whatever_sigma_is():
    sigma = torch.tensor([[10.0, 10.0], [500.0, 500.0], [2000.0, 2000.0]])
    position = POSITION_M.clone().requires_grad_(True)
    out = outputs(position, sigma)
    training_loss(out, GaussianHead.nll(out, TRUTH_M), "beta_nll", 1.0).backward()
    # weight_i = sigma_i^2 / mean(sigma^2); d nll_i / d mu_i = (mu_i - y_i) / sigma_i^2
    mean_variance = sigma[:, 0].square().mean()
    expected = (POSITION_M - TRUTH_M) / (len(sigma) * mean_variance)
    assert torch.allclose(position.grad, expected, rtol=1e-5)
    # the plain NLL divides the same error by each sample's own variance instead
    position.grad = None
    out = outputs(position, sigma)
    training_loss(out, GaussianHead.nll(out, TRUTH_M), "nll", 0.0).backward()
    expected_nll = (POSITION_M - TRUTH_M) / sigma.square() / len(sigma)
    assert torch.allclose(position.grad, expected_nll, rtol=1e-5)


def test_beta_nll_needs_outputs_with_a_covariance():
    with pytest.raises(InvalidInputError, match="train this head with loss=nll"):
        beta_nll_weights({"position_m": POSITION_M}, 0.5)
