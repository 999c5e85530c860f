"""σ-scaling: the head option scales every length of the uncertainty and nothing else, and the
fitted factor is the NLL's minimiser, checked against its closed form for Gaussian heads."""

from __future__ import annotations

import math

import pytest
import torch

from rfloc_core.heads.calibration import fit_sigma_scale, scale_lengths
from rfloc_core.heads.gaussian import GaussianHead
from rfloc_core.heads.gaussian_full import FullGaussianHead
from rfloc_core.heads.mixture import MixtureHead
from rfloc_core.heads.moments import predictive_covariance_m2

FEATURES = 16
SAMPLES = 4000


def _heads(head_type: type, scale: float) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    plain = head_type(FEATURES, position_scale_m=500.0).double()
    scaled = head_type(FEATURES, position_scale_m=500.0, sigma_scale=scale).double()
    scaled.load_state_dict(plain.state_dict())
    return plain, scaled


@pytest.mark.parametrize("head_type", [GaussianHead, FullGaussianHead, MixtureHead])
def test_the_option_scales_the_covariance_by_its_square_and_keeps_the_positions(head_type):
    plain, scaled = _heads(head_type, 2.5)
    features = torch.randn(32, FEATURES, generator=torch.Generator().manual_seed(1)).double()
    out_plain, out_scaled = plain(features), scaled(features)
    torch.testing.assert_close(out_scaled["position_m"], out_plain["position_m"])
    torch.testing.assert_close(
        predictive_covariance_m2(scale_lengths(out_plain, 2.5)),
        predictive_covariance_m2(out_scaled),
    )
    if head_type is MixtureHead:
        torch.testing.assert_close(out_scaled["weights"], out_plain["weights"])
        torch.testing.assert_close(out_scaled["means_m"], out_plain["means_m"])
    else:
        torch.testing.assert_close(
            torch.logdet(predictive_covariance_m2(out_scaled)),
            torch.logdet(predictive_covariance_m2(out_plain)) + 4.0 * math.log(2.5),
        )


def _gaussian_outputs(head_type: type, true_factor: float) -> tuple[dict, torch.Tensor]:
    """Outputs of an untrained head and truths drawn from its Gaussians widened by
    ``true_factor``."""
    plain, _ = _heads(head_type, 1.0)
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        outputs = plain(torch.randn(SAMPLES, FEATURES, generator=generator).double())
    covariance = predictive_covariance_m2(outputs)
    noise = torch.randn(SAMPLES, 2, 1, generator=generator, dtype=torch.float64)
    spread = (torch.linalg.cholesky(covariance) @ noise)[..., 0]
    truth = outputs["position_m"] + true_factor * spread
    return outputs, truth


@pytest.mark.parametrize("head_type", [GaussianHead, FullGaussianHead])
def test_the_fit_equals_the_closed_form_for_gaussian_heads(head_type):
    outputs, truth = _gaussian_outputs(head_type, 0.6)
    fit = fit_sigma_scale(head_type.nll, outputs, truth)
    error = (truth - outputs["position_m"])[..., None]
    distance2 = (error * torch.linalg.solve(predictive_covariance_m2(outputs), error)).sum((1, 2))
    closed_form = math.sqrt(float(distance2.mean()) / 2.0)
    assert fit.sigma_scale == pytest.approx(closed_form, rel=1e-6)
    assert fit.sigma_scale == pytest.approx(0.6, rel=0.05)  # the factor the truths were drawn with
    assert fit.nll_after < fit.nll_before
    assert fit.nll_before == pytest.approx(float(head_type.nll(outputs, truth).mean()))
    assert fit.samples == SAMPLES


def test_the_fit_minimises_a_mixtures_nll():
    outputs, truth = _gaussian_outputs(MixtureHead, 1.0)
    fit = fit_sigma_scale(MixtureHead.nll, outputs, truth)

    def mean_nll(factor: float) -> float:
        return float(MixtureHead.nll(scale_lengths(outputs, factor), truth).mean())

    assert fit.nll_after == pytest.approx(mean_nll(fit.sigma_scale))
    for nearby in (0.97, 1.03):
        assert mean_nll(fit.sigma_scale * nearby) > fit.nll_after


def test_outputs_without_lengths_are_refused():
    with pytest.raises(ValueError, match="no length"):
        fit_sigma_scale(GaussianHead.nll, {"position_m": torch.zeros(3, 2)}, torch.zeros(3, 2))
