"""The training loss: the head's negative log-likelihood, or β-NLL (Seitzer et al., 2022).

With plain NLL the gradient that moves a predicted position is divided by its predicted
variance, so a sample the model is unsure about barely moves the mean: a model that starts
unsure (sigma of the area's size) learns its means slowly. β-NLL weights each sample's NLL by
its predicted spread to the power 2β, held constant in the gradient, which gives the mean a
gradient like mean-squared error's at β = 1 and keeps the likelihood's calibration pressure
on sigma. For every head the spread is the predictive covariance's determinant: the weight of
sample i is ``det(Σ_i)^(β/2)``, normalised to a mean of 1 over the batch so the loss keeps the
NLL's scale. β = 0 is the NLL.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from rfloc_core.errors import InvalidInputError
from rfloc_core.heads.moments import predictive_covariance_m2
from rfloc_core.training.config import LossName


def beta_nll_weights(outputs: Mapping[str, torch.Tensor], beta: float) -> torch.Tensor:
    """``(B,)`` per-sample weights ``det(Σ)^(β/2)`` with mean 1, without gradient."""
    covariance = predictive_covariance_m2(outputs)
    if covariance is None:
        raise InvalidInputError(
            f"beta_nll needs a head whose outputs give a covariance (sigma_m, scale_tril_m or a "
            f"mixture), got outputs {sorted(outputs)}; train this head with loss=nll"
        )
    log_weights = 0.5 * beta * torch.logdet(covariance.detach())
    weights = torch.exp(log_weights - log_weights.max())
    return (weights / weights.mean()).to(outputs["position_m"].dtype)


def training_loss(
    outputs: Mapping[str, torch.Tensor], nll: torch.Tensor, loss: LossName, beta: float
) -> torch.Tensor:
    """The scalar loss of a batch from the head's per-sample ``nll`` (B,)."""
    if loss == "nll" or beta == 0.0:
        return nll.mean()
    return (beta_nll_weights(outputs, beta) * nll).mean()
