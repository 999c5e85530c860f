"""``deepsets``: rho(mean and max over online receivers of phi(token)) (Zaheer et al., 2017)."""

from __future__ import annotations

import torch
from torch import nn

from rfloc_core.fusions._options import positive_int


def _mlp(inputs: int, width: int, layers: int) -> nn.Sequential:
    modules: list[nn.Module] = []
    for index in range(layers):
        modules += [nn.Linear(inputs if index == 0 else width, width), nn.GELU()]
    return nn.Sequential(*modules)


class DeepSetsFusion(nn.Module):
    """Maps tokens ``(B, R, token_dim)`` and ``online`` ``(B, R)`` to ``(B, width)``."""

    def __init__(self, token_dim: int, *, width: int = 128, layers: int = 2) -> None:
        super().__init__()
        width = positive_int("width", width, "deepsets")
        layers = positive_int("layers", layers, "deepsets")
        self.output_dim = width
        self.phi = _mlp(token_dim, width, layers)
        self.rho = nn.Sequential(_mlp(2 * width, width, 1), nn.Linear(width, width))
        self.norm = nn.LayerNorm(width)

    def forward(self, tokens: torch.Tensor, online: torch.Tensor) -> torch.Tensor:
        encoded = self.phi(tokens)
        heard = online.unsqueeze(-1)
        weight = heard.to(encoded.dtype)
        mean = torch.where(heard, encoded, 0.0).sum(1) / weight.sum(1).clamp_min(1.0)
        lowest = torch.finfo(encoded.dtype).min
        largest = encoded.masked_fill(~heard, lowest).amax(dim=1)
        pooled: torch.Tensor = self.norm(self.rho(torch.cat([mean, largest], dim=-1)))
        return pooled
