"""``likelihood``: the RSS maximum-likelihood estimator, made differentiable, as a set fusion.

Each receiver's encoding gives a signal strength ``s`` (dB, up to one offset shared by every
receiver) and a weight ``w`` (its inverse variance). For every point ``g`` of a grid around the
online receivers, log-distance path loss with the transmit power concentrated out gives

    cost(g) = sum_i w_i (s_i + 10 n log10 |g - p_i| - A(g))^2,  A(g) = the w-weighted mean,

which is the RSS MLE's cost (``rfloc_core.data.estimators``). The posterior over the grid is
``softmax(-cost / 2 + prior(g))``, with a learned prior of the position relative to the
receivers' centroid. The head gets the posterior's mean, standard deviations and correlation,
so the encoder is trained, through the posterior, to read the strengths that put it on the
transmitter. Receivers enter only through sums, so the fusion is permutation-invariant, and an
offline receiver has weight zero.

Positions in the tokens are relative to the online receivers' centroid and divided by the
receiver scale (``receiver_scale_m``, 20 km by default). The grid spans ``span`` of that scale
on each side of the centroid. Both the scale and the path-loss constant cancel out of the cost,
so the fusion needs neither. The head gets positions in units of the scale divided by
``output_scale``: kilometres with the defaults, the unit of the head's ``position_scale_m``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from rfloc_core.fusions._options import positive_int, positive_number
from rfloc_core.fusions.attention import AttentionFusion

POSITION_FEATURES = 3
"""The last three entries of every token: east / scale, north / scale, online."""

NEAREST_SCALED = 0.005
"""Distances below this (100 m at the 20 km scale) count as this: the path-loss model's
reference distance, so a grid point on a receiver has a finite cost."""

INITIAL_STRENGTH_GAIN_DB = 10.0
INITIAL_WEIGHT_GAIN = 0.01
"""With the strength network's outputs of order one, a posterior some kilometres wide."""

GAIN_RATE = 20.0

MEAN_COPIES = 16

OUTPUT_FEATURES = 2 * MEAN_COPIES + 5
"""Mean (2, MEAN_COPIES times), standard deviations (2), their logarithms (2), correlation."""


class LikelihoodFusion(nn.Module):
    """Maps tokens ``(B, R, token_dim)`` and ``online`` ``(B, R)`` to ``(B, 7)``: the grid
    posterior's mean east and north, standard deviations, their logarithms, and correlation."""

    def __init__(
        self,
        token_dim: int,
        *,
        grid_points: int = 64,
        span: float = 1.0,
        width: int = 64,
        path_loss_exponent: float = 3.0,
        output_scale: float = 20.0,
        attention_width: int = 0,
    ) -> None:
        super().__init__()
        grid_points = positive_int("grid_points", grid_points, "likelihood")
        span = positive_number("span", span, "likelihood")
        width = positive_int("width", width, "likelihood")
        exponent = positive_number("path_loss_exponent", path_loss_exponent, "likelihood")
        self.output_scale = positive_number("output_scale", output_scale, "likelihood")
        self.output_dim = OUTPUT_FEATURES
        self.attention: AttentionFusion | None = None
        if attention_width:
            self.attention = AttentionFusion(token_dim, width=attention_width)
            self.output_dim += self.attention.output_dim
        encoding_dim = token_dim - POSITION_FEATURES
        self.strength = nn.Sequential(
            nn.Linear(encoding_dim, width), nn.GELU(), nn.Linear(width, 2)
        )
        self.log_exponent = nn.Parameter(torch.tensor(float(exponent)).log())
        # A posterior as sharp as the trained one would be at initialisation puts all its mass
        # on one grid point, and the softmax passes no gradient back to the strengths. It starts
        # broad (small weights) and with strengths of order 10 dB, and sharpens as it learns.
        self.log_strength_gain = nn.Parameter(torch.zeros(()))
        self.log_weight_gain = nn.Parameter(torch.zeros(()))
        self.prior = nn.Sequential(nn.Linear(2, width), nn.GELU(), nn.Linear(width, 1))
        nn.init.zeros_(self.prior[-1].weight)
        nn.init.zeros_(self.prior[-1].bias)
        axis = torch.linspace(-span, span, grid_points)
        grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), dim=-1).reshape(-1, 2)
        self.register_buffer("grid", grid, persistent=False)

    @staticmethod
    def _gain(log_gain: torch.Tensor, initial: float) -> torch.Tensor:
        # The optimizer moves a parameter by about the learning rate per step whatever its
        # gradient; the gains must move by factors of tens within a few hundred steps.
        return initial * torch.exp(GAIN_RATE * log_gain)

    def forward(self, tokens: torch.Tensor, online: torch.Tensor) -> torch.Tensor:
        encoding, positions = tokens[..., :-POSITION_FEATURES], tokens[..., -3:-1]
        strength_raw, weight_raw = self.strength(encoding).unbind(-1)
        strength = strength_raw * self._gain(self.log_strength_gain, INITIAL_STRENGTH_GAIN_DB)
        weight = functional.softplus(weight_raw) * self._gain(
            self.log_weight_gain, INITIAL_WEIGHT_GAIN
        )
        weight = weight * online.to(tokens.dtype)
        grid = self.grid.to(tokens.dtype)
        # (B, G, R): the strength each receiver would read, corrected for its distance to g.
        distance = torch.linalg.vector_norm(grid[None, :, None] - positions[:, None], dim=-1)
        decibels = 10.0 * self.log_exponent.exp() * torch.log10(distance.clamp(NEAREST_SCALED))
        corrected = strength[:, None] + decibels
        weight = weight[:, None]
        offset = (corrected * weight).sum(-1, keepdim=True) / weight.sum(-1, keepdim=True)
        cost = ((corrected - offset).square() * weight).sum(-1)
        posterior = torch.softmax(self.prior(grid).squeeze(-1) - 0.5 * cost, dim=-1)
        mean = posterior @ grid
        spread = grid[None] - mean[:, None]
        variance = (posterior.unsqueeze(-1) * spread.square()).sum(1)
        covariance = (posterior * spread[..., 0] * spread[..., 1]).sum(1)
        std = variance.clamp_min(1e-12).sqrt()
        correlation = covariance / (std[:, 0] * std[:, 1])
        scale = self.output_scale
        # The head's linear map starts random and moves by about the learning rate per step and
        # weight: with the mean in MEAN_COPIES features, it reaches the mean that many times
        # sooner.
        copies = (mean * scale).repeat(1, MEAN_COPIES)
        moments = torch.cat([copies, std * scale, std.log(), correlation[:, None]], dim=-1)
        if self.attention is None:
            return moments
        return torch.cat([moments, self.attention(tokens, online)], dim=-1)
