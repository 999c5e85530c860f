"""Counter-based seeding: every random number of sample ``index`` comes from ``(seed, index)``.

Nothing depends on the batch a sample is drawn in, on the worker, or on earlier samples.
Each sample gets its own ``torch.Generator`` seeded with a splitmix64 hash of
``(seed, index, stream)``; stream 0 feeds the sample's parameters (always drawn on the CPU,
so the truth is identical on every device), stream 1 its thermal noise (drawn on the target
device; CPU and CUDA generators are different algorithms, so noise differs between them).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

_MASK64 = (1 << 64) - 1
PARAMETER_STREAM = 0
NOISE_STREAM = 1


def _splitmix64(value: int) -> int:
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def sample_seed(seed: int, index: int, stream: int) -> int:
    """A 63-bit seed for one random stream of one sample; distinct inputs give unrelated seeds."""
    state = _splitmix64(seed & _MASK64)
    state = _splitmix64(state ^ (index & _MASK64))
    state = _splitmix64(state ^ (stream & _MASK64))
    return state >> 1


def generator_for(seed: int, index: int, stream: int, device: torch.device) -> torch.Generator:
    generator = torch.Generator(device=device)
    generator.manual_seed(sample_seed(seed, index, stream))
    return generator


def uniform_blocks(seed: int, indices: Iterable[int], width: int) -> torch.Tensor:
    """``(len(indices), width)`` float64 uniforms in (0, 1); each row depends on its index alone."""
    cpu = torch.device("cpu")
    rows = [
        torch.rand(
            width, generator=generator_for(seed, int(i), PARAMETER_STREAM, cpu), dtype=torch.float64
        )
        for i in indices
    ]
    tiny = torch.finfo(torch.float64).tiny
    return torch.stack(rows).clamp_(min=tiny, max=1.0 - 2**-53)


def standard_normal_noise(
    seed: int, indices: Iterable[int], shape: tuple[int, ...], device: torch.device
) -> torch.Tensor:
    """``(len(indices), *shape)`` float32 standard normals, one generator per sample."""
    index_list = [int(i) for i in indices]
    out = torch.empty((len(index_list), *shape), dtype=torch.float32, device=device)
    for row, index in enumerate(index_list):
        out[row].normal_(generator=generator_for(seed, index, NOISE_STREAM, device))
    return out


class UniformLayout:
    """Named slices of a sample's uniform block, so parameters never shift one another."""

    def __init__(self) -> None:
        self._slices: dict[str, slice] = {}
        self.width = 0

    def add(self, name: str, size: int) -> None:
        self._slices[name] = slice(self.width, self.width + size)
        self.width += size

    def take(self, block: torch.Tensor, name: str) -> torch.Tensor:
        """The columns of ``block`` (batch, width) reserved for ``name``."""
        return block[:, self._slices[name]]
