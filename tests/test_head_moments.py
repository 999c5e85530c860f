from __future__ import annotations

import torch

from rfloc_core.heads.moments import predictive_covariance_m2


def test_diagonal_and_full_gaussians() -> None:
    sigma = torch.tensor([[3.0, 2.0]])
    assert torch.allclose(
        predictive_covariance_m2({"position_m": torch.zeros(1, 2), "sigma_m": sigma}),
        torch.tensor([[[9.0, 0.0], [0.0, 4.0]]], dtype=torch.float64),
    )
    tril = torch.tensor([[[2.0, 0.0], [1.0, 3.0]]])
    expected = tril @ tril.transpose(-1, -2)
    assert torch.allclose(
        predictive_covariance_m2({"scale_tril_m": tril}), expected.to(torch.float64)
    )


def test_mixture_moment_matching_against_sampling() -> None:
    outputs = {
        "weights": torch.tensor([[0.3, 0.7]]),
        "means_m": torch.tensor([[[-10.0, 0.0], [5.0, 4.0]]]),
        "sigmas_m": torch.tensor([[[1.0, 2.0], [3.0, 0.5]]]),
    }
    covariance = predictive_covariance_m2(outputs)
    assert covariance is not None
    generator = torch.Generator().manual_seed(0)
    n = 400_000
    component = torch.multinomial(outputs["weights"][0], n, replacement=True, generator=generator)
    noise = torch.randn(n, 2, generator=generator, dtype=torch.float64)
    samples = outputs["means_m"][0, component].double() + noise * outputs["sigmas_m"][0, component]
    sampled = torch.cov(samples.T)
    assert torch.allclose(covariance[0], sampled, rtol=0.02, atol=0.05)


def test_single_component_mixture_is_its_gaussian_and_unknown_outputs_give_none() -> None:
    outputs = {
        "weights": torch.ones(2, 1),
        "means_m": torch.randn(2, 1, 2),
        "sigmas_m": torch.tensor([[[2.0, 5.0]], [[1.0, 1.0]]]),
    }
    covariance = predictive_covariance_m2(outputs)
    assert covariance is not None
    assert torch.allclose(covariance, torch.diag_embed(outputs["sigmas_m"][:, 0].double() ** 2))
    assert predictive_covariance_m2({"position_m": torch.zeros(1, 2)}) is None
