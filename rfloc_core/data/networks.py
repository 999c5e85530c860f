"""Receiver networks drawn at random: one per sample for training receiver-set models, or one
from a seed as a fixed network (a scenario with ``[[receivers]]``) for testing them.

Stations are placed one after another: each takes the first of ``CANDIDATES`` uniform points
in the square that is at least ``min_spacing_m`` from every station placed before it, or, when
none is, the candidate farthest from them. The network is then shifted so the centroid of its
stations is the ENU origin, the convention of every fixed network.
"""

from __future__ import annotations

import torch

from rfloc_core.data.scenario import RandomNetwork, Receiver, ScenarioConfig

CANDIDATES = 16
"""Candidate points per station: enough that a spacing the square allows is nearly always met."""


def uniforms_per_network(slots: int) -> int:
    """Uniforms one network draw uses: the count, then the candidates of every slot."""
    return 1 + slots * CANDIDATES * 2


def draw_networks(
    uniforms: torch.Tensor, network: RandomNetwork
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, count_max, 3)`` float64 east, north, up (0) in metres and ``(B, count_max)`` bool,
    True for the slots a sample's network uses, from ``(B, uniforms_per_network(count_max))``
    uniforms in [0, 1)."""
    slots = network.count_max
    batch = uniforms.shape[0]
    span = network.count_max - network.count_min + 1
    count = network.count_min + (uniforms[:, 0] * span).floor().long().clamp(max=span - 1)
    candidates = (2.0 * uniforms[:, 1:].reshape(batch, slots, CANDIDATES, 2) - 1.0) * (
        network.half_width_m
    )
    placed = torch.zeros(batch, slots, 2, dtype=torch.float64)
    rows = torch.arange(batch)
    for slot in range(slots):
        options = candidates[:, slot]
        if slot == 0:
            placed[:, 0] = options[:, 0]
            continue
        gaps = torch.cdist(options, placed[:, :slot]).amin(dim=-1)
        spaced = gaps >= network.min_spacing_m
        first_spaced = torch.where(spaced.any(dim=1), spaced.float().argmax(dim=1), gaps.argmax(1))
        placed[:, slot] = options[rows, first_spaced]
    present = torch.arange(slots)[None, :] < count[:, None]
    weight = present.to(torch.float64).unsqueeze(-1)
    centroid = (placed * weight).sum(dim=1, keepdim=True) / weight.sum(dim=1, keepdim=True)
    centred = (placed - centroid) * weight
    return torch.nn.functional.pad(centred, (0, 1)), present


def fixed_network_scenario(
    base: ScenarioConfig, network: RandomNetwork, seed: int, *, name: str | None = None
) -> ScenarioConfig:
    """``base`` with one network drawn from ``seed`` as its fixed ``[[receivers]]`` (placed
    around ``base``'s frame origin, with ``network.count_max`` stations) and no random network:
    a network no training run drew, to test a receiver-set model on."""
    from rfloc_core.data.geometry import enu_to_geodetic, network_origin
    from rfloc_core.data.rng import uniform_blocks

    exact = network.model_copy(update={"count_min": network.count_max})
    uniforms = uniform_blocks(seed, [0], uniforms_per_network(exact.count_max))
    enu_m, _ = draw_networks(uniforms, exact)
    latitude, longitude, altitude = enu_to_geodetic(
        enu_m[0].numpy(), network_origin(base.receivers)
    )
    receivers = tuple(
        Receiver(
            name=f"rx{index + 1}",
            latitude_deg=float(latitude[index]),
            longitude_deg=float(longitude[index]),
            altitude_m=float(altitude[index]),
        )
        for index in range(exact.count_max)
    )
    return base.model_copy(
        update={
            "name": name or f"{base.name}-network{exact.count_max}-seed{seed}",
            "description": f"{base.name} on a {exact.count_max}-station network drawn from seed "
            f"{seed}",
            "receivers": receivers,
            "random_network": None,
        }
    )
