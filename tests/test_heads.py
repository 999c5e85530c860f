"""Each head's NLL is the true bivariate (or mixture) Gaussian NLL, per torch.distributions."""

from __future__ import annotations

import pytest
import torch
from torch import distributions as D

from rfloc_core.errors import InvalidInputError
from rfloc_core.heads.gaussian import GaussianHead
from rfloc_core.heads.gaussian_full import FullGaussianHead
from rfloc_core.heads.mixture import MixtureHead
from rfloc_core.registry import get_registry

FEATURES = 24
BATCH = 64


@pytest.fixture
def features() -> torch.Tensor:
    return torch.randn(BATCH, FEATURES, generator=torch.Generator().manual_seed(3))


@pytest.fixture
def target_m() -> torch.Tensor:
    return 800.0 * torch.randn(BATCH, 2, generator=torch.Generator().manual_seed(4))


def test_gaussian_nll_matches_torch_distributions(features, target_m):
    torch.manual_seed(0)
    head = GaussianHead(FEATURES).double()
    out = head(features.double())
    reference = -D.Independent(D.Normal(out["position_m"], out["sigma_m"]), 1).log_prob(
        target_m.double()
    )
    torch.testing.assert_close(head.nll(out, target_m.double()), reference, rtol=1e-5, atol=1e-5)


def test_full_gaussian_nll_matches_torch_distributions(features, target_m):
    torch.manual_seed(1)
    head = FullGaussianHead(FEATURES).double()
    out = head(features.double())
    tril = out["scale_tril_m"]
    assert torch.all(tril[:, 0, 1] == 0), "scale_tril_m must be lower triangular"
    assert torch.any(tril[:, 1, 0].abs() > 1.0), "the off-diagonal term must be learnable"
    reference = -D.MultivariateNormal(out["position_m"], scale_tril=tril).log_prob(
        target_m.double()
    )
    torch.testing.assert_close(head.nll(out, target_m.double()), reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("components", [1, 3, 5])
def test_mixture_nll_matches_torch_distributions(features, target_m, components):
    torch.manual_seed(2)
    head = MixtureHead(FEATURES, components=components).double()
    out = head(features.double())
    mixture = D.MixtureSameFamily(
        D.Categorical(probs=out["weights"]),
        D.Independent(D.Normal(out["means_m"], out["sigmas_m"]), 1),
    )
    reference = -mixture.log_prob(target_m.double())
    torch.testing.assert_close(head.nll(out, target_m.double()), reference, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out["position_m"], mixture.mean)
    torch.testing.assert_close(out["weights"].sum(-1), torch.ones(BATCH, dtype=torch.float64))


@pytest.mark.parametrize("head_type", [GaussianHead, FullGaussianHead, MixtureHead])
def test_sigma_never_falls_below_the_floor(head_type):
    head = head_type(4, sigma_floor_m=2.5)
    with torch.no_grad():
        head.proj.bias.fill_(-1e4)
    out = head(torch.zeros(3, 4))
    lengths = {
        GaussianHead: lambda o: o["sigma_m"],
        FullGaussianHead: lambda o: torch.diagonal(o["scale_tril_m"], dim1=-2, dim2=-1),
        MixtureHead: lambda o: o["sigmas_m"],
    }[head_type](out)
    assert torch.all(lengths >= 2.5)
    assert torch.all(torch.isfinite(head.nll(out, torch.zeros(3, 2))))


def test_registered_heads_declare_their_real_output_names():
    registry = get_registry()
    assert [h.name for h in registry.heads()] == ["gaussian", "gaussian_full", "mixture"]
    for spec in registry.heads():
        head = spec.build(FEATURES)
        assert tuple(head(torch.zeros(2, FEATURES))) == spec.output_names, spec.name
        assert spec.plugin == "core"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"sigma_floor_m": 0.0}, "sigma_floor_m"),
        ({"position_scale_m": -1.0}, "position_scale_m"),
        ({"sigma_scale": 0.0}, "sigma_scale"),
        ({"sigma_scale": -2.0}, "sigma_scale"),
        ({"sigma_scale": float("inf")}, "sigma_scale"),
        ({"sigma_scale": float("nan")}, "sigma_scale"),
        ({"sigma_scale": "2"}, "sigma_scale"),
        ({"sigma_scale": True}, "sigma_scale"),
    ],
)
def test_invalid_head_options_are_rejected(options, field):
    with pytest.raises(InvalidInputError, match=field):
        GaussianHead(FEATURES, **options)


def test_mixture_needs_at_least_one_component():
    with pytest.raises(InvalidInputError, match="components"):
        MixtureHead(FEATURES, components=0)


@pytest.mark.parametrize("head_type", [GaussianHead, FullGaussianHead, MixtureHead])
def test_feature_norm_makes_a_head_blind_to_the_features_scale(head_type, features):
    torch.manual_seed(0)
    normed = head_type(FEATURES, feature_norm=True)
    plain = head_type(FEATURES)
    normed.proj.load_state_dict(plain.proj.state_dict())
    with torch.no_grad():
        small, large = normed(features), normed(40.0 * features)
        plain_small, plain_large = plain(features), plain(40.0 * features)
    for name in small:
        assert torch.allclose(small[name], large[name], rtol=1e-3, atol=1e-2), name
    assert not torch.allclose(plain_small["position_m"], plain_large["position_m"], rtol=0.1)
