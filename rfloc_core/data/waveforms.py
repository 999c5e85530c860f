"""Transmitted complex baseband waveforms, batched; unit power while the carrier is keyed on.

* ``fm_voice``: narrowband FM by a sum of voice-band tones (closed-form phase integral).
* ``cw``: an unmodulated carrier keyed on and off per Morse element, with soft edges.
* ``digital_burst``: continuous-phase 4-FSK (DMR-like levels +-1/3, +-1 of the deviation)
  present for part of the window, with soft edges.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as functional

VOICE_TONES = 5
VOICE_LOW_HZ = 300.0
VOICE_HIGH_HZ = 3000.0
CW_ELEMENT_S = 0.03
CW_KEY_DOWN_PROBABILITY = 0.7
EDGE_RAMP_S = 0.002


def time_axis_s(n_samples: int, sample_rate_hz: float, device: torch.device) -> torch.Tensor:
    return torch.arange(n_samples, dtype=torch.float32, device=device) / sample_rate_hz


def fm_voice_phase_rad(
    time_s: torch.Tensor, uniforms: torch.Tensor, deviation_hz: float
) -> torch.Tensor:
    """``(B, T)`` FM phase for a message of ``VOICE_TONES`` tones; ``uniforms`` is ``(B, 3K)``.

    The message ``m(t) = sum a_k sin(2 pi f_k t + p_k) / sum a_k`` peaks at most at 1, so the
    instantaneous deviation never exceeds ``deviation_hz``; its integral is written in closed form.
    """
    k = VOICE_TONES
    freq_hz = VOICE_LOW_HZ + (VOICE_HIGH_HZ - VOICE_LOW_HZ) * uniforms[:, :k]
    amplitude = 0.2 + 0.8 * uniforms[:, k : 2 * k]
    amplitude = amplitude / amplitude.sum(dim=1, keepdim=True)
    phase0 = 2.0 * math.pi * uniforms[:, 2 * k : 3 * k]
    argument = 2.0 * math.pi * freq_hz.unsqueeze(-1) * time_s + phase0.unsqueeze(-1)
    integral = (torch.cos(phase0).unsqueeze(-1) - torch.cos(argument)) / (
        2.0 * math.pi * freq_hz.unsqueeze(-1)
    )
    return 2.0 * math.pi * deviation_hz * (amplitude.unsqueeze(-1) * integral).sum(dim=1)


def _soft_edges(gate: torch.Tensor, sample_rate_hz: float) -> torch.Tensor:
    """Smooth a 0/1 ``(B, T)`` gate into linear ramps ``EDGE_RAMP_S`` long (moving average).

    A running sum along each row, unlike a convolution, gives bit-identical rows whatever
    the batch holds.
    """
    width = max(2, round(EDGE_RAMP_S * sample_rate_hz))
    padded = functional.pad(
        gate.to(torch.float64)[:, None], (width // 2, width - width // 2), mode="replicate"
    )[:, 0]
    running = functional.pad(torch.cumsum(padded, dim=1), (1, 0))
    return ((running[:, width:] - running[:, :-width]) / width)[:, : gate.shape[1]].to(gate.dtype)


def cw_elements(duration_s: float) -> int:
    return math.ceil(duration_s / CW_ELEMENT_S) + 1


def cw_envelope(
    time_s: torch.Tensor, uniforms: torch.Tensor, sample_rate_hz: float
) -> torch.Tensor:
    """``(B, T)`` keying envelope; ``uniforms`` is ``(B, 1 + elements)`` (offset, key states).

    The element under the middle of the window is always keyed down, so every CW sample
    carries some signal.
    """
    offset_s = uniforms[:, :1] * CW_ELEMENT_S
    keyed = uniforms[:, 1:] < CW_KEY_DOWN_PROBABILITY
    element = ((time_s + offset_s) / CW_ELEMENT_S).long().clamp(max=keyed.shape[1] - 1)
    middle = element[:, element.shape[1] // 2 : element.shape[1] // 2 + 1]
    gate = torch.gather(keyed, 1, element) | (element == middle)
    return _soft_edges(gate.to(time_s.dtype), sample_rate_hz)


def digital_symbols(duration_s: float, symbol_rate_baud: float) -> int:
    return math.ceil(duration_s * symbol_rate_baud) + 1


def digital_burst(
    time_s: torch.Tensor,
    uniforms: torch.Tensor,
    sample_rate_hz: float,
    symbol_rate_baud: float,
    deviation_hz: float,
    min_fraction: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(phase_rad, envelope)``, each ``(B, T)``; ``uniforms`` is ``(B, 2 + symbols)``."""
    duration_s = float(time_s[-1]) + 1.0 / sample_rate_hz
    length_s = duration_s * (min_fraction + (1.0 - min_fraction) * uniforms[:, :1])
    start_s = (duration_s - length_s) * uniforms[:, 1:2]
    gate = ((time_s >= start_s) & (time_s < start_s + length_s)).to(time_s.dtype)
    levels = (torch.floor(uniforms[:, 2:] * 4.0).clamp(max=3.0) * 2.0 - 3.0) / 3.0
    symbol = (time_s * symbol_rate_baud).long().clamp(max=levels.shape[1] - 1)
    frequency_hz = deviation_hz * torch.gather(levels, 1, symbol.expand(levels.shape[0], -1))
    phase = 2.0 * math.pi * torch.cumsum(frequency_hz, dim=1) / sample_rate_hz
    return phase, _soft_edges(gate, sample_rate_hz)
