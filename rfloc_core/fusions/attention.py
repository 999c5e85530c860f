"""``attention``: pre-norm transformer blocks over the receivers and a learned summary token.

Without any position encoding over the sequence, the blocks are permutation-equivariant and
the summary token's output is permutation-invariant. Offline receivers are masked as keys, so
nothing about them reaches the summary; the summary token itself is always a key, so every
softmax row has one finite entry.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rfloc_core.errors import InvalidInputError
from rfloc_core.fusions._options import positive_int, positive_number


class AttentionBlock(nn.Module):
    """Masked multi-head self-attention then an MLP, each with a pre-LayerNorm residual."""

    def __init__(self, width: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.heads = heads
        self.norm_attention = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.norm_mlp = nn.LayerNorm(width)
        hidden = max(1, round(width * mlp_ratio))
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        batch, count, width = x.shape
        qkv = self.qkv(self.norm_attention(x)).reshape(batch, count, 3, self.heads, -1)
        query, key, value = qkv.permute(2, 0, 3, 1, 4)
        scores = (query @ key.transpose(-2, -1)) * (1.0 / math.sqrt(width // self.heads))
        scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
        mixed = (scores.softmax(dim=-1) @ value).transpose(1, 2).reshape(batch, count, width)
        x = x + self.out(mixed)
        updated: torch.Tensor = x + self.mlp(self.norm_mlp(x))
        return updated


class AttentionFusion(nn.Module):
    """Maps tokens ``(B, R, token_dim)`` and ``online`` ``(B, R)`` to ``(B, width)``."""

    def __init__(
        self,
        token_dim: int,
        *,
        width: int = 128,
        layers: int = 2,
        heads: int = 4,
        mlp_ratio: float = 2.0,
    ) -> None:
        super().__init__()
        width = positive_int("width", width, "attention")
        layers = positive_int("layers", layers, "attention")
        heads = positive_int("heads", heads, "attention")
        mlp_ratio = positive_number("mlp_ratio", mlp_ratio, "attention")
        if width % heads:
            raise InvalidInputError(
                f"attention fusion option width ({width}) must be a multiple of heads ({heads})"
            )
        self.output_dim = width
        self.embed = nn.Linear(token_dim, width)
        self.summary = nn.Parameter(torch.randn(1, 1, width) * 0.02)
        self.blocks = nn.ModuleList(AttentionBlock(width, heads, mlp_ratio) for _ in range(layers))
        self.norm = nn.LayerNorm(width)

    def forward(self, tokens: torch.Tensor, online: torch.Tensor) -> torch.Tensor:
        batch = tokens.shape[0]
        x = torch.cat([self.summary.expand(batch, -1, -1).to(tokens.dtype), self.embed(tokens)], 1)
        keep = torch.cat([torch.ones_like(online[:, :1]), online], dim=1)
        for block in self.blocks:
            x = block(x, keep)
        summary: torch.Tensor = self.norm(x[:, 0])
        return summary
