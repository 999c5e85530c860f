"""Batched, vectorised simulation of one transmission heard by every receiver.

Sample ``index`` under ``seed`` is the same every time, on any worker, in any batch: its
parameters come from a per-sample uniform block drawn on the CPU (float64), its thermal noise
from a per-sample generator on the target device (see ``rfloc_core.data.rng``).

Units: IQ samples are complex64 in sqrt(mW) at the receiver input, so ``|x|²`` is power in
mW; positions are metres in the network's ENU frame; powers are dBm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rfloc_core.data import channel, networks, rng, waveforms
from rfloc_core.data.errors import ConfigError
from rfloc_core.data.feature_config import FeatureConfig
from rfloc_core.data.geometry import receivers_enu_m
from rfloc_core.data.scenario import SIGNAL_TYPES, ScenarioConfig, SignalType


@dataclass(frozen=True)
class SimulatedBatch:
    """IQ and truth for a batch; truth tensors are float64, all on the simulator's device."""

    iq: torch.Tensor
    """(B, receivers, samples) complex64 in sqrt(mW); zeros for an offline receiver."""
    position_m: torch.Tensor
    """(B, 2) transmitter east, north in metres."""
    tx_power_dbm: torch.Tensor
    """(B,) transmit power in dBm (EIRP)."""
    received_power_dbm: torch.Tensor
    """(B, receivers) true power at each antenna while keyed on, dBm (no calibration error)."""
    online: torch.Tensor
    """(B, receivers) bool: False where the receiver dropped out."""
    signal_type: torch.Tensor
    """(B,) int64 index into ``SIGNAL_TYPES``."""
    index: torch.Tensor
    """(B,) int64 sample indices."""
    receivers_enu_m: torch.Tensor
    """(B, receivers, 3) float64 east, north, up of each receiver in metres: the scenario's
    network in every row, or each sample's own with ``random_network``."""


MIN_STATIONS_UP = 3
"""``offline_count_max`` leaves at least this many of a sample's stations up: a position and
an unknown transmit power need three received powers."""


class Simulator:
    """Draws samples of ``scenario`` as IQ of ``feature_config.n_samples`` per receiver."""

    def __init__(
        self,
        scenario: ScenarioConfig,
        feature_config: FeatureConfig | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        self.scenario = scenario
        self.feature_config = feature_config or FeatureConfig()
        self.device = torch.device(device)
        sample_rate_hz = self.feature_config.sample_rate_hz
        if scenario.receiver_hardware.bandwidth_hz > sample_rate_hz:
            raise ConfigError(
                f"receiver_hardware.bandwidth_hz ({scenario.receiver_hardware.bandwidth_hz:g}) "
                f"exceeds the feature sample_rate_hz ({sample_rate_hz:g}); lower the bandwidth "
                "or raise the sample rate"
            )
        self.random_network = scenario.random_network
        self.receivers_enu_m = torch.as_tensor(receivers_enu_m(scenario), dtype=torch.float64)
        """The scenario's fixed network, (receivers, 3) metres; with ``random_network`` only
        the frame's anchor, and each batch carries its own receivers."""
        if self.random_network is None:
            self.shadowing_cholesky = channel.shadowing_cholesky(
                self.receivers_enu_m.numpy(), scenario.propagation
            )
        else:  # correlated shadowing is factored per sample, in _network
            self.receivers_enu_m = torch.zeros(scenario.n_receivers, 3, dtype=torch.float64)
            eye = torch.eye(scenario.n_receivers, dtype=torch.float64)
            self.shadowing_cholesky = eye * scenario.propagation.shadowing_sigma_db
        density_dbm_per_hz = channel.thermal_noise_density_dbm_per_hz(
            scenario.receiver_hardware.noise_figure_db
        )
        self.noise_density_dbm_per_hz = density_dbm_per_hz
        self.noise_power_mw = 10.0 ** (density_dbm_per_hz / 10.0) * sample_rate_hz
        self.taps = scenario.multipath.taps if scenario.multipath.enabled else 1
        self.n_samples = self.feature_config.n_samples
        self._layout = self._make_layout()
        self._gain_offset_db = torch.tensor(
            [receiver.gain_offset_db for receiver in scenario.receivers]
            if self.random_network is None
            else [0.0] * scenario.n_receivers,
            dtype=torch.float64,
        )
        self._station_up = torch.tensor(
            [not receiver.offline for receiver in scenario.receivers]
            if self.random_network is None
            else [True] * scenario.n_receivers
        )
        weights = torch.tensor(scenario.transmitter.signal_weights.as_tuple(), dtype=torch.float64)
        self._signal_cdf = torch.cumsum(weights / weights.sum(), dim=0)

    @property
    def n_receivers(self) -> int:
        return self.scenario.n_receivers

    def _make_layout(self) -> rng.UniformLayout:
        r, duration_s = (
            self.n_receivers,
            (self.n_samples + self.taps) / self.feature_config.sample_rate_hz,
        )
        layout = rng.UniformLayout()
        for name, size in (
            ("position", 2),
            ("power", 1),
            ("signal", 1),
            ("carrier_offset", 1),
            ("shadowing", r),
            ("calibration", r),
            ("lo_offset", r),
            ("dropout", r),
            ("carrier_phase", r),
            ("scattered", r * self.taps * 2),
            ("fm_voice", 3 * waveforms.VOICE_TONES),
            ("cw", 1 + waveforms.cw_elements(duration_s)),
            (
                "digital_burst",
                2
                + waveforms.digital_symbols(
                    duration_s, self.scenario.transmitter.digital_symbol_rate_baud
                ),
            ),
        ):
            layout.add(name, size)
        if self.random_network is not None:
            layout.add("network", networks.uniforms_per_network(r))
        if self.scenario.receiver_hardware.offline_count_max > 0:
            layout.add("stations_down", 1 + r)
        if self.random_network is not None and self.random_network.gain_offset_sigma_db > 0.0:
            layout.add("gain_offset", r)
        return layout

    def simulate(self, indices: Sequence[int] | torch.Tensor, seed: int = 0) -> SimulatedBatch:
        """Simulate the samples ``indices`` of the dataset identified by ``seed``."""
        index_list = [int(i) for i in torch.as_tensor(indices).reshape(-1).tolist()]
        if any(i < 0 for i in index_list):
            raise ConfigError(f"sample indices must be >= 0, got {min(index_list)}")
        block = rng.uniform_blocks(seed, index_list, self._layout.width)
        truth = self._draw_truth(block)
        iq = self._synthesise(block, truth, seed, index_list)
        device = self.device
        return SimulatedBatch(
            iq=iq,
            position_m=truth["position_m"].to(device),
            tx_power_dbm=truth["tx_power_dbm"].to(device),
            received_power_dbm=truth["received_power_dbm"].to(device),
            online=truth["online"].to(device),
            signal_type=truth["signal_type"].to(device),
            index=torch.tensor(index_list, dtype=torch.int64, device=device),
            receivers_enu_m=truth["receivers_enu_m"].to(device),
        )

    def positions_m(self, indices: Sequence[int], seed: int = 0) -> torch.Tensor:
        """``(B, 2)`` float64 east, north of samples ``indices``, without simulating IQ: the
        same positions ``simulate`` gives them."""
        block = rng.uniform_blocks(seed, [int(i) for i in indices], self._layout.width)
        return self._draw_truth(block)["position_m"]

    def _draw_truth(self, block: torch.Tensor) -> dict[str, torch.Tensor]:
        """Positions, powers, channel taps (CPU, float64) from the uniform block."""
        s, take = self.scenario, self._layout.take
        area, hardware = s.area, s.receiver_hardware
        u_pos = take(block, "position")
        east_m = area.east_min_m + (area.east_max_m - area.east_min_m) * u_pos[:, 0]
        north_m = area.north_min_m + (area.north_max_m - area.north_min_m) * u_pos[:, 1]
        up_m = torch.full_like(east_m, area.transmitter_up_m)
        transmitter_m = torch.stack([east_m, north_m, up_m], dim=1)
        receivers_m, present, cholesky = self._network(block)
        distance_m = torch.linalg.vector_norm(transmitter_m[:, None, :] - receivers_m, dim=-1)
        power = s.transmitter
        tx_power_dbm = (
            power.power_min_dbm
            + (power.power_max_dbm - power.power_min_dbm) * take(block, "power")[:, 0]
        )
        normals = torch.special.ndtri(take(block, "shadowing"))
        if cholesky.shape[0] == 1:
            shadowing_db = normals @ cholesky[0].T
        else:
            shadowing_db = (cholesky @ normals.unsqueeze(-1))[..., 0]
        large_scale_dbm = (
            tx_power_dbm[:, None]
            - channel.path_loss_db(distance_m, s.propagation, s.carrier_frequency_hz)
            + shadowing_db
        )
        taps = self._taps(block, distance_m)
        fading_db = 10.0 * torch.log10(taps.abs().square().sum(dim=-1))
        calibration_db = hardware.calibration_error_sigma_db * torch.special.ndtri(
            take(block, "calibration")
        )
        amplitude = torch.sqrt(10.0 ** ((large_scale_dbm + calibration_db) / 10.0))
        signal_type = torch.searchsorted(self._signal_cdf, take(block, "signal")[:, 0].contiguous())
        return {
            "position_m": transmitter_m[:, :2],
            "tx_power_dbm": tx_power_dbm,
            "received_power_dbm": large_scale_dbm + fading_db,
            "online": self._online(block, present),
            "receivers_enu_m": receivers_m,
            "signal_type": signal_type.clamp(max=len(SIGNAL_TYPES) - 1),
            "taps": taps * amplitude.unsqueeze(-1),
            "carrier_offset_hz": power.carrier_offset_max_hz
            * (2.0 * take(block, "carrier_offset")[:, 0] - 1.0),
            "lo_offset_hz": hardware.lo_offset_sigma_hz
            * torch.special.ndtri(take(block, "lo_offset")),
            "gain_offset_db": self._gain_offsets_db(block),
        }

    def _gain_offsets_db(self, block: torch.Tensor) -> torch.Tensor:
        """``(B, R)`` each station's gain offset in dB: the fixed network's, or one normal draw
        per slot of a random network."""
        network = self.random_network
        if network is None or network.gain_offset_sigma_db <= 0.0:
            return self._gain_offset_db.expand(block.shape[0], -1)
        normals: torch.Tensor = torch.special.ndtri(self._layout.take(block, "gain_offset"))
        return normals * network.gain_offset_sigma_db

    def _network(self, block: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each sample's receivers ``(B, R, 3)`` in metres, which slots it uses ``(B, R)``, and
        the Cholesky factor of its shadowing covariance ``(B or 1, R, R)`` in dB."""
        batch = block.shape[0]
        if self.random_network is None:
            receivers = self.receivers_enu_m.expand(batch, -1, -1)
            present = torch.ones(batch, self.n_receivers, dtype=torch.bool)
            return receivers, present, self.shadowing_cholesky[None]
        uniforms = self._layout.take(block, "network")
        receivers, present = networks.draw_networks(uniforms, self.random_network)
        propagation = self.scenario.propagation
        if propagation.shadowing_correlation_distance_m <= 0.0:  # sigma I, whatever the network
            return receivers, present, self.shadowing_cholesky[None]
        cholesky = channel.shadowing_cholesky_batched(receivers, present, propagation)
        return receivers, present, cholesky

    def _online(self, block: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """``(B, R)``: the stations a sample uses that are not marked offline, not dropped out
        and not taken down; where that leaves none, the usable station with the largest
        dropout uniform stays up, so every transmission is heard somewhere."""
        dropout = self._layout.take(block, "dropout")
        usable = self._station_up & present
        online = (dropout >= self.scenario.receiver_hardware.dropout_probability) & usable
        online &= self._stations_up(block, present)
        silent = ~online.any(dim=1) & usable.any(dim=1)
        if bool(silent.any()):
            keeper = torch.where(usable, dropout, torch.full_like(dropout, -1.0)).argmax(dim=1)
            online[silent, keeper[silent]] = True
        return online

    def _stations_up(self, block: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """``(B, R)`` False for the 0 to ``offline_count_max`` stations each sample takes
        down, never leaving fewer than ``MIN_STATIONS_UP`` of its stations: a uniform count,
        then the stations with the smallest of one uniform each."""
        most = self.scenario.receiver_hardware.offline_count_max
        if most == 0:
            return torch.ones_like(present)
        uniforms = self._layout.take(block, "stations_down")
        count = (uniforms[:, 0] * (most + 1)).floor().long().clamp(max=most)
        keep = present.sum(dim=1).clamp(max=MIN_STATIONS_UP)
        count = torch.minimum(count, present.sum(dim=1) - keep)
        keys = torch.where(present, uniforms[:, 1:], torch.full_like(uniforms[:, 1:], 2.0))
        rank = keys.argsort(dim=1).argsort(dim=1)
        up: torch.Tensor = rank >= count[:, None]
        return up

    def _taps(self, block: torch.Tensor, distance_m: torch.Tensor) -> torch.Tensor:
        phase_rad = 2.0 * math.pi * self._layout.take(block, "carrier_phase")
        if not self.scenario.multipath.enabled:
            return torch.polar(torch.ones_like(phase_rad), phase_rad).unsqueeze(-1)
        multipath = self.scenario.multipath
        profile = channel.tap_power_profile(
            channel.rms_delay_spread_s(distance_m, multipath),
            self.taps,
            self.feature_config.sample_rate_hz,
        )
        scattered = torch.special.ndtri(self._layout.take(block, "scattered")).reshape(
            *distance_m.shape, self.taps, 2
        )
        return channel.multipath_taps(profile, multipath.rician_k_db, phase_rad, scattered)

    def _convolve(self, transmitted: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
        """``(B, 2, R, T)`` real and imaginary parts of each receiver's taps applied to the
        ``(B, T + taps - 1)`` waveform, as one real batched matrix product."""
        batch, count = transmitted.shape[0], self.taps
        parts = torch.view_as_real(transmitted).transpose(1, 2)
        windows = parts.unfold(2, self.n_samples, 1).reshape(batch, 2 * count, self.n_samples)
        flipped = taps.flip(-1)
        real, imag = flipped.real, flipped.imag
        mixing = torch.cat([torch.cat([real, -imag], dim=2), torch.cat([imag, real], dim=2)], dim=1)
        return torch.bmm(mixing, windows).view(batch, 2, self.n_receivers, self.n_samples)

    def _lo_rotation(self, lo_hz: torch.Tensor) -> torch.Tensor:
        """``(B, R, T)`` phasors ``exp(j 2 pi f n / fs)`` from coarse x fine factors (few sines)."""
        step = 64
        blocks = -(-self.n_samples // step)
        radians_per_sample = (2.0 * math.pi / self.feature_config.sample_rate_hz) * lo_hz
        fine = torch.arange(step, dtype=torch.float32, device=self.device)
        coarse = fine.new_tensor(range(0, blocks * step, step))
        fine_phase = radians_per_sample[..., None] * fine
        coarse_phase = radians_per_sample[..., None] * coarse
        rotation = (
            torch.polar(torch.ones_like(coarse_phase), coarse_phase)[..., None]
            * (torch.polar(torch.ones_like(fine_phase), fine_phase)[..., None, :])
        )
        return rotation.flatten(-2)[..., : self.n_samples]

    def _synthesise(
        self, block: torch.Tensor, truth: dict[str, torch.Tensor], seed: int, indices: list[int]
    ) -> torch.Tensor:
        device, fs_hz = self.device, self.feature_config.sample_rate_hz
        n_total = self.n_samples + self.taps - 1
        time_s = waveforms.time_axis_s(n_total, fs_hz, device)
        batch = block.shape[0]
        phase = torch.zeros(batch, n_total, device=device)
        envelope = torch.ones(batch, n_total, device=device)
        tx = self.scenario.transmitter
        signal_type = truth["signal_type"]
        for kind_index, kind in enumerate(SIGNAL_TYPES):
            rows = torch.nonzero(signal_type == kind_index).reshape(-1)
            if rows.numel() == 0:
                continue
            uniforms = self._layout.take(block[rows], kind.value).to(device, torch.float32)
            rows = rows.to(device)
            if kind is SignalType.FM_VOICE:
                phase[rows] = waveforms.fm_voice_phase_rad(time_s, uniforms, tx.fm_deviation_hz)
            elif kind is SignalType.CW:
                envelope[rows] = waveforms.cw_envelope(time_s, uniforms, fs_hz)
            else:
                phase[rows], envelope[rows] = waveforms.digital_burst(
                    time_s,
                    uniforms,
                    fs_hz,
                    tx.digital_symbol_rate_baud,
                    tx.digital_deviation_hz,
                    tx.burst_min_fraction,
                )
        offset_hz = truth["carrier_offset_hz"].to(device, torch.float32)
        phase = phase + 2.0 * math.pi * offset_hz[:, None] * time_s
        taps = truth["taps"].to(device, torch.complex64)
        signal = self._convolve(torch.polar(envelope, phase), taps)
        noise = rng.standard_normal_noise(
            seed, indices, (self.n_receivers, self.n_samples, 2), device
        )
        noise.mul_(math.sqrt(self.noise_power_mw / 2.0)).add_(signal.permute(0, 2, 3, 1))
        iq = torch.view_as_complex(noise)
        gain_db = truth["gain_offset_db"]
        if bool((gain_db != 0.0).any()):
            iq.mul_((10.0 ** (gain_db / 20.0)).to(device, torch.float32)[..., None])
        if self.scenario.receiver_hardware.lo_offset_sigma_hz > 0.0:
            # Rotating the noise too leaves it white and circular, so one product serves both.
            iq.mul_(self._lo_rotation(truth["lo_offset_hz"].to(device, torch.float32)))
        offline = ~truth["online"].to(device)
        if bool(offline.any()):
            iq[offline] = 0
        return iq
