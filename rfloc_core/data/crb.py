"""Cramér-Rao lower bound for RSS localization with log-normal shadowing.

Model (dB): ``rss_i = A - 10 n log10(d_i) + s_i`` with ``s ~ N(0, C)``, where ``A`` lumps the
transmit power and the loss at the reference distance, and ``d_i`` is the 3-D distance from
the transmitter ``(x, y, up)`` to receiver ``i``. For a Gaussian model with parameter-free
covariance the Fisher information is ``J = G^T C^-1 G`` with ``G = d mu / d theta``:

* ``d mu_i / d x = -(10 n / ln 10) (x - x_i) / d_i²`` (same for ``y``),
* ``d mu_i / d A = 1`` (only when the power is unknown).

The position bound is the top-left 2x2 block of ``J^-1``; with unknown power that is the
inverse of the Schur complement ``J_pp - J_pA J_AA^-1 J_Ap``, never smaller than with known power.
"""

from __future__ import annotations

import math

import torch

from rfloc_core.errors import InvalidInputError


def rss_jacobian(
    position_m: torch.Tensor,
    receivers_enu_m: torch.Tensor,
    path_loss_exponent: float,
    transmitter_up_m: float = 0.0,
    known_power: bool = False,
) -> torch.Tensor:
    """``(B, receivers, 3 or 2)`` derivatives of the mean RSS (dB) w.r.t. x, y (m) [and A (dB)];
    the receivers are one network ``(receivers, 2 or 3)`` or one per sample ``(B, receivers, 2
    or 3)``."""
    position = torch.as_tensor(position_m, dtype=torch.float64)
    receivers = torch.as_tensor(receivers_enu_m, dtype=torch.float64).to(position.device)
    if receivers.shape[-1] == 2:
        receivers = torch.nn.functional.pad(receivers, (0, 1))
    up = torch.full_like(position[:, :1], transmitter_up_m)
    delta = torch.cat([position, up], dim=1)[:, None, :] - receivers
    distance2 = delta.square().sum(dim=-1, keepdim=True)
    gradient = -(10.0 * path_loss_exponent / math.log(10.0)) * delta[..., :2] / distance2
    if known_power:
        return gradient
    return torch.cat([gradient, torch.ones_like(gradient[..., :1])], dim=-1)


def masked_precision(
    covariance_db2: torch.Tensor, online: torch.Tensor | None, batch: int
) -> torch.Tensor:
    """``(B, R, R)`` inverse of the covariance (``(R, R)``, or one per sample) restricted to
    online receivers, zero elsewhere."""
    covariance = covariance_db2.to(torch.float64)
    if online is None:
        full: torch.Tensor = torch.linalg.inv(covariance).expand(batch, -1, -1)
        return full
    mask = online.to(torch.float64)
    outer = mask[:, :, None] * mask[:, None, :]
    restricted = covariance * outer + torch.diag_embed(1.0 - mask)
    precision: torch.Tensor = torch.linalg.inv(restricted) * outer
    return precision


def rss_fisher_information(
    position_m: torch.Tensor,
    receivers_enu_m: torch.Tensor,
    path_loss_exponent: float,
    shadowing_sigma_db: float | None = None,
    *,
    covariance_db2: torch.Tensor | None = None,
    online: torch.Tensor | None = None,
    transmitter_up_m: float = 0.0,
    known_power: bool = False,
) -> torch.Tensor:
    """``(B, 3, 3)`` Fisher information for ``(x, y, A)`` (``(B, 2, 2)`` with known power).

    Give either ``shadowing_sigma_db`` (independent shadowing) or ``covariance_db2`` (one
    ``(R, R)`` or one per sample). The receivers are one network or one per sample, as in
    ``rss_jacobian``.
    """
    position = torch.as_tensor(position_m, dtype=torch.float64)
    receivers = torch.as_tensor(receivers_enu_m, dtype=torch.float64)
    if covariance_db2 is None:
        if shadowing_sigma_db is None or shadowing_sigma_db <= 0.0:
            raise InvalidInputError(
                f"the RSS bound needs shadowing_sigma_db > 0 or a covariance, got "
                f"{shadowing_sigma_db}; with no shadowing the bound is zero"
            )
        covariance_db2 = torch.eye(receivers.shape[-2], dtype=torch.float64) * shadowing_sigma_db**2
    jacobian = rss_jacobian(position, receivers, path_loss_exponent, transmitter_up_m, known_power)
    precision = masked_precision(covariance_db2.to(position.device), online, position.shape[0])
    return jacobian.transpose(1, 2) @ precision @ jacobian


def rss_crb_covariance_m2(
    position_m: torch.Tensor,
    receivers_enu_m: torch.Tensor,
    path_loss_exponent: float,
    shadowing_sigma_db: float | None = None,
    **options: object,
) -> torch.Tensor:
    """``(B, 2, 2)`` lower bound on the covariance (m²) of any unbiased position estimate.

    Keyword options are those of ``rss_fisher_information`` (``covariance_db2``, ``online``,
    ``transmitter_up_m``, ``known_power``). A singular geometry, or fewer online receivers
    than unknowns (3 with unknown power, 2 with known), gives ``inf``.
    """
    information = rss_fisher_information(
        position_m,
        receivers_enu_m,
        path_loss_exponent,
        shadowing_sigma_db,
        **options,  # type: ignore[arg-type]
    )
    inverse, status = torch.linalg.inv_ex(information)
    bound = inverse[:, :2, :2]
    singular = (status != 0) | ~torch.isfinite(bound).all(dim=(1, 2))
    # Round-off can "invert" a rank-deficient information matrix into a finite bound with a
    # negative variance; fewer receivers than unknowns is unobservable whatever round-off says.
    singular |= (torch.diagonal(bound, dim1=1, dim2=2) <= 0).any(dim=1)
    online = options.get("online")
    if isinstance(online, torch.Tensor):
        unknowns = information.shape[-1]
        singular |= online.to(bound.device).sum(dim=1) < unknowns
    return torch.where(singular[:, None, None], torch.full_like(bound, math.inf), bound)


def rss_crb_rmse_m(
    position_m: torch.Tensor,
    receivers_enu_m: torch.Tensor,
    path_loss_exponent: float,
    shadowing_sigma_db: float | None = None,
    **options: object,
) -> torch.Tensor:
    """``(B,)`` per-sample bound on the RMS position error in metres: ``sqrt(trace(CRB))``."""
    bound = rss_crb_covariance_m2(
        position_m, receivers_enu_m, path_loss_exponent, shadowing_sigma_db, **options
    )
    return torch.sqrt(torch.diagonal(bound, dim1=1, dim2=2).sum(dim=1))


def rmse_bound_m(crb_covariance_m2: torch.Tensor) -> float:
    """Bound on the RMSE over a set of samples: ``sqrt(mean_k trace(CRB_k))``, metres."""
    traces = torch.diagonal(crb_covariance_m2, dim1=1, dim2=2).sum(dim=1)
    return float(torch.sqrt(traces.mean()))


def circle_rmse_bound_m(
    radius_m: float, receivers: int, path_loss_exponent: float, shadowing_sigma_db: float
) -> float:
    """Closed form for ``N`` receivers equally spaced on a circle, transmitter at the centre:
    ``2 d / (b sqrt(N))`` with ``b = 10 n / (sigma ln 10)``; the same with known or unknown power.
    """
    b = 10.0 * path_loss_exponent / (shadowing_sigma_db * math.log(10.0))
    return 2.0 * radius_m / (b * math.sqrt(receivers))
