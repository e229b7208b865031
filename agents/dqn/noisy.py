"""Noisy linear layers (Fortunato et al. 2018, "Noisy Networks for Exploration"), factorised
Gaussian variant, as Rainbow uses them in place of epsilon-greedy exploration.

    y = (mu_W + sigma_W * eps_W) x + mu_b + sigma_b * eps_b
    eps_W = f(eps_out) f(eps_in)^T,  eps_b = f(eps_out),  f(x) = sign(x) sqrt(|x|)

with eps_in [in] and eps_out [out] standard normal: p + q draws per resample instead of p * q.
Initialisation as in the paper: mu ~ U(-1/sqrt(p), 1/sqrt(p)), sigma = sigma0 / sqrt(p)
(sigma0 0.5 for Rainbow, 0.1 in data-efficient Rainbow).

When the noise changes: only at `reset_noise()`. The caller decides when (agents/dqn: the
learner resamples its online and target networks before each update, the actor its network
before each acting step), so a forward pass itself is deterministic. In eval mode the layer
uses the mean weights mu only: evaluation sees no noise.

The noise lives in non-persistent buffers: it is resampled before every use in training, so it
is no part of a checkpoint (nor of the weights an Ape-X learner sends its actors). It is drawn
from torch's generator of the layer's device; on the CPU that is the global generator a
checkpoint saves, so a resumed run draws the same noise.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _scaled(noise: torch.Tensor) -> torch.Tensor:
    """f(x) = sign(x) sqrt(|x|)."""
    return noise.sign() * noise.abs().sqrt()


class NoisyLinear(nn.Module):
    """A drop-in for nn.Linear with learned, factorised Gaussian weight noise: x [..., in] ->
    [..., out]. Parameters weight_mu, weight_sigma [out, in], bias_mu, bias_sigma [out]."""

    def __init__(self, in_features: int, out_features: int, sigma0: float = 0.5) -> None:
        super().__init__()
        if sigma0 <= 0:
            raise ValueError(f"sigma0 must be above 0, got {sigma0}")
        self.in_features, self.out_features, self.sigma0 = in_features, out_features, sigma0
        self.weight_mu = nn.Parameter(torch.empty(out_features, in_features))
        self.weight_sigma = nn.Parameter(torch.empty(out_features, in_features))
        self.bias_mu = nn.Parameter(torch.empty(out_features))
        self.bias_sigma = nn.Parameter(torch.empty(out_features))
        self.register_buffer("eps_in", torch.zeros(in_features), persistent=False)
        self.register_buffer("eps_out", torch.zeros(out_features), persistent=False)
        self.reset_parameters()
        self.reset_noise()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.in_features)
        nn.init.uniform_(self.weight_mu, -bound, bound)
        nn.init.uniform_(self.bias_mu, -bound, bound)
        nn.init.constant_(self.weight_sigma, self.sigma0 * bound)
        nn.init.constant_(self.bias_sigma, self.sigma0 * bound)

    @torch.no_grad()
    def reset_noise(self) -> None:
        """Draw new eps_in, eps_out (the p + q normals of the factorised noise)."""
        self.eps_in.copy_(_scaled(torch.randn(self.in_features, device=self.eps_in.device)))
        self.eps_out.copy_(_scaled(torch.randn(self.out_features, device=self.eps_out.device)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return F.linear(x, self.weight_mu, self.bias_mu)
        weight = self.weight_mu + self.weight_sigma * torch.outer(self.eps_out, self.eps_in)
        return F.linear(x, weight, self.bias_mu + self.bias_sigma * self.eps_out)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"sigma0={self.sigma0}"


def reset_noise(module: nn.Module) -> None:
    """Resample every NoisyLinear inside `module` (nothing happens without one)."""
    for layer in module.modules():
        if isinstance(layer, NoisyLinear):
            layer.reset_noise()


def has_noise(module: nn.Module) -> bool:
    """Whether `module` holds a NoisyLinear."""
    return any(isinstance(layer, NoisyLinear) for layer in module.modules())
