"""The ``likelihood`` fusion against the RSS MLE and a direct evaluation of its posterior: with
the encodings read as strengths and weights, it is the classical estimator's grid posterior."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from rfloc_core.data.estimators import rss_mle
from rfloc_core.errors import InvalidInputError
from rfloc_core.fusions.likelihood import MEAN_COPIES, LikelihoodFusion

RECEIVERS = torch.tensor([[-0.6, -0.5], [0.7, -0.4], [0.1, 0.8], [-0.7, 0.6], [0.5, 0.5]])
EXPONENT = 3.0


def _fusion(grid_points: int = 161) -> LikelihoodFusion:
    """A fusion whose encodings of 2 numbers are its strength (dB) and raw weight as given."""
    fusion = LikelihoodFusion(2 + 3, grid_points=grid_points, path_loss_exponent=EXPONENT)
    fusion.strength = nn.Identity()
    with torch.no_grad():
        fusion.log_strength_gain.fill_(-math.log(10.0) / 20.0)
        fusion.log_weight_gain.fill_(-math.log(0.01) / 20.0)
    return fusion


def _tokens(strength_db: torch.Tensor, weight_raw: float) -> tuple[torch.Tensor, torch.Tensor]:
    count = RECEIVERS.shape[0]
    raw = torch.full((1, count, 1), weight_raw)
    online = torch.ones(1, count, dtype=torch.bool)
    tokens = torch.cat(
        [strength_db[None, :, None], raw, RECEIVERS[None], torch.ones(1, count, 1)], -1
    )
    return tokens, online


def _strengths_db(transmitter: torch.Tensor, power_db: float = 40.0) -> torch.Tensor:
    distance = torch.linalg.vector_norm(RECEIVERS - transmitter, dim=-1)
    return power_db - 10.0 * EXPONENT * torch.log10(distance)


def test_noise_free_strengths_put_the_mean_on_the_transmitter_where_the_rss_mle_puts_it():
    transmitter = torch.tensor([0.13, -0.21])
    strengths = _strengths_db(transmitter) + torch.tensor([0.4, -0.3, 0.2, -0.5, 0.3])
    fusion = _fusion()
    with torch.no_grad():
        features = fusion(*_tokens(strengths, weight_raw=8.0))
    mean = features[0, :2] / fusion.output_scale
    reference = rss_mle(strengths[None], RECEIVERS.double() * 20_000.0, EXPONENT)
    mle = reference.position_m[0].float() / 20_000.0
    # Grid spacing is 2/160 = 0.0125; a sharp posterior's mean sits within it of the optimum.
    assert torch.allclose(mean, mle, atol=0.0125)
    assert float(torch.linalg.vector_norm(mle - transmitter)) < 0.05


def test_the_features_are_the_moments_of_the_posterior_computed_directly():
    strengths = _strengths_db(torch.tensor([0.3, 0.2])) + torch.tensor([1.0, -2.0, 0.5, 1.5, -1.0])
    fusion = _fusion(grid_points=41)
    with torch.no_grad():
        features = fusion(*_tokens(strengths, weight_raw=-1.0))[0].double()
    weight = math.log1p(math.exp(-1.0))
    axis = torch.linspace(-1.0, 1.0, 41, dtype=torch.float64)
    log_posterior = []
    points = []
    for east in axis:
        for north in axis:
            point = torch.stack([east, north])
            distance = torch.linalg.vector_norm(RECEIVERS.double() - point, dim=-1)
            corrected = strengths.double() + 10 * EXPONENT * torch.log10(distance.clamp(0.005))
            cost = weight * float((corrected - corrected.mean()).square().sum())
            log_posterior.append(-0.5 * cost)
            points.append(point)
    posterior = torch.softmax(torch.tensor(log_posterior, dtype=torch.float64), 0)
    grid = torch.stack(points)
    mean = posterior @ grid
    centred = grid - mean
    variance = posterior @ centred.square()
    correlation = (posterior @ (centred[:, 0] * centred[:, 1])) / variance.sqrt().prod()
    scale = fusion.output_scale
    assert torch.allclose(features[:2], mean * scale, rtol=1e-4, atol=1e-4)
    means = features[: 2 * MEAN_COPIES].reshape(MEAN_COPIES, 2)
    assert torch.allclose(means, (mean * scale).expand(MEAN_COPIES, 2), rtol=1e-4, atol=1e-4)
    moments = features[2 * MEAN_COPIES :]
    assert torch.allclose(moments[0:2], variance.sqrt() * scale, rtol=1e-4)
    assert torch.allclose(moments[2:4], variance.sqrt().log(), atol=1e-4)
    assert moments[4].item() == pytest.approx(float(correlation), abs=1e-4)


def test_an_offline_receiver_has_no_weight():
    transmitter = torch.tensor([0.13, -0.21])
    strengths = _strengths_db(transmitter)
    fusion = _fusion(grid_points=41)
    tokens, online = _tokens(strengths, weight_raw=0.0)
    online[0, 2] = False
    garbled = tokens.clone()
    garbled[0, 2, 0] = 90.0
    with torch.no_grad():
        assert torch.equal(fusion(tokens, online), fusion(garbled, online))
        assert not torch.equal(fusion(tokens, torch.ones_like(online)), fusion(tokens, online))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"grid_points": 0}, "likelihood fusion option grid_points must be an int >= 1, got 0"),
        ({"span": -1.0}, "likelihood fusion option span must be a number > 0, got -1.0"),
    ],
)
def test_bad_options_are_one_line_errors(options, message):
    with pytest.raises(InvalidInputError, match=message):
        LikelihoodFusion(8, **options)


@pytest.mark.usefixtures("toy_registry")
def test_a_likelihood_set_model_exports_to_one_onnx_file_for_any_receiver_count(tmp_path):
    from rfloc_core import create_model
    from rfloc_core.export.onnx_export import export_onnx, read_validation
    from rfloc_core.export.runtimes import load_runtime

    torch.manual_seed(0)
    model = create_model(
        "toynet", input_size=(16, 8), fusion="likelihood", fusion_options={"grid_points": 24}
    ).eval()
    path = export_onnx(model, tmp_path / "likelihood.onnx", batch_sizes=(1, 3))
    report = read_validation(path)
    assert report is not None and report["passed"]
    assert report["receiver_counts"] == [3, 5, 7, 12]
    onnx_model = load_runtime(path)
    generator = torch.Generator().manual_seed(1)
    spectrogram = torch.randn(2, 6, 16, 8, generator=generator)
    receivers_m = 15_000.0 * torch.randn(2, 6, 2, generator=generator)
    online = torch.tensor([[True] * 6, [True, False, True, True, False, True]])
    with torch.no_grad():
        expected = model(spectrogram, receivers_m, online)
    got = onnx_model.run(spectrogram.numpy(), receivers_m.numpy(), online.numpy())
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value.numpy(), rtol=1e-4, atol=1e-2)
