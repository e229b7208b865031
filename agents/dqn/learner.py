"""The DQN learner: one gradient step per `update(batch)`, a target network copied every
`target_update` updates, and everything needed to resume exactly in `state_dict()`.

Optimizers: Adam, or RMSProp as in the Nature paper (lr 2.5e-4, squared-gradient decay 0.95,
eps 0.01, centered: the running mean gradient is subtracted, which is DeepMind's "gradient
momentum 0.95"; torch adds eps outside the square root where DeepMind added it inside).
Gradients are clipped to a global norm (10 by default, as in Dueling DQN and Ape-X; None
turns it off).

A batch is a mapping of arrays or tensors:
    obs [B, *obs_shape], action int [B], reward float [B] (n-step return),
    discount float [B] (gamma^m, 0 after termination), next_obs [B, *obs_shape],
    weights float [B] (importance weights; optional).

The network decides the loss: one with a distributional head (`network.distributional`, see
agents/dqn/networks.py) learns by the C51 cross-entropy, and its per-sample cross-entropies
are the "TD errors" that come back as priorities; any other by the TD loss of
LearnerConfig.loss. Noisy networks (`network.noisy`) get new noise in the online and the
target network at the start of every update (one draw per network for the whole batch, shared
by its passes over s_t and s_{t+m}).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.dqn.losses import categorical_loss, categorical_targets, td_loss, td_targets


@dataclasses.dataclass(frozen=True)
class LearnerConfig:
    """Optimisation settings (see the module docstring)."""

    optimizer: str = "adam"  # adam | rmsprop
    lr: float = 1e-4
    adam_eps: float = 1e-8  # torch's default; 1.5e-4 stalls Pong (docs/results/pong.md)
    rms_alpha: float = 0.95
    rms_eps: float = 0.01
    rms_centered: bool = True
    loss: str = "huber"  # huber | mse (a distributional network: cross-entropy instead)
    double: bool = True
    grad_clip: float | None = 10.0
    target_update: int = 2500  # in updates (Nature: 10k agent steps / 4 steps per update)


class UpdateResult:
    """What one update measured: loss, mean Q(s, a), gradient norm (when clipping), and TD
    errors float32 [B] for priorities (a distributional learner's per-sample cross-entropy).
    The figures stay on the learner's device until read: reading one waits for the GPU to
    finish, so a loop that reads them only when it logs lets the GPU run ahead (on the CPU
    reading costs nothing)."""

    def __init__(self, loss: torch.Tensor, q_mean: torch.Tensor, td_errors: torch.Tensor,
                 grad_norm: torch.Tensor | None) -> None:
        self._loss, self._q_mean, self._grad_norm = loss, q_mean, grad_norm
        self._td_errors = td_errors

    @property
    def loss(self) -> float:
        return float(self._loss)

    @property
    def q_mean(self) -> float:
        return float(self._q_mean)

    @property
    def grad_norm(self) -> float:
        """The gradient's global norm before clipping; nan when clipping is off."""
        return math.nan if self._grad_norm is None else float(self._grad_norm)

    @functools.cached_property
    def td_errors(self) -> np.ndarray:
        return self._td_errors.float().cpu().numpy()


def optimizer_settings(config: LearnerConfig) -> dict[str, Any]:
    """The optimizer's hyperparameters, as torch names them in its param_groups."""
    if config.optimizer == "adam":
        return {"lr": config.lr, "eps": config.adam_eps}
    if config.optimizer == "rmsprop":
        return {"lr": config.lr, "alpha": config.rms_alpha, "eps": config.rms_eps,
                "centered": config.rms_centered}
    raise ValueError(f"unknown optimizer {config.optimizer!r} (adam, rmsprop)")


def make_optimizer(params, config: LearnerConfig) -> torch.optim.Optimizer:
    settings = optimizer_settings(config)
    if config.optimizer == "adam":  # fused: one kernel for all tensors, ~3x faster on CPU
        return torch.optim.Adam(params, **settings, fused=True)
    return torch.optim.RMSprop(params, **settings)


class DQNLearner:
    """Trains `network` (online) against a frozen copy of it (target)."""

    def __init__(self, network: nn.Module, config: LearnerConfig,
                 device: torch.device | str = "cpu") -> None:
        if config.target_update < 1:
            raise ValueError(f"target_update must be at least 1, got {config.target_update}")
        self.config = config
        self.device = torch.device(device)
        self.network = network.to(self.device)
        self.target = copy.deepcopy(self.network)
        self.target.requires_grad_(False)
        self.optimizer = make_optimizer(self.network.parameters(), config)
        self.updates = 0
        self.distributional = bool(getattr(network, "distributional", False))
        self.noisy = bool(getattr(network, "noisy", False))

    def _tensor(self, value: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
        return torch.as_tensor(np.asarray(value) if not torch.is_tensor(value) else value,
                               device=self.device, dtype=dtype)

    def update(self, batch: Mapping[str, Any]) -> UpdateResult:
        """One gradient step on `batch`; syncs the target every `target_update` updates."""
        obs = self._tensor(batch["obs"])
        next_obs = self._tensor(batch["next_obs"])
        actions = self._tensor(batch["action"], torch.int64)
        rewards = self._tensor(batch["reward"], torch.float32)
        discounts = self._tensor(batch["discount"], torch.float32)
        weights = batch.get("weights")
        weights = None if weights is None else self._tensor(weights, torch.float32)
        if self.noisy:
            self.network.reset_noise()
            self.target.reset_noise()
        with torch.no_grad():
            next_q_online = self.network(next_obs) if self.config.double else None
            if self.distributional:
                targets = categorical_targets(rewards, discounts,
                                              self.target.log_probs(next_obs).exp(),
                                              self.network.support, next_q_online)
            else:
                targets = td_targets(rewards, discounts, self.target(next_obs), next_q_online)
        if self.distributional:
            log_probs = self.network.log_probs(obs)
            loss, td_errors = categorical_loss(log_probs, actions, targets, weights)
            q = (log_probs.detach().exp() * self.network.support).sum(dim=2)
        else:
            q = self.network(obs)
            loss, td_errors = td_loss(q, actions, targets, weights, self.config.loss)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = None  # without clipping nothing needs the norm: not worth a pass (~2% of it)
        if self.config.grad_clip is not None:
            norm = nn.utils.clip_grad_norm_(self.network.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.config.target_update == 0:
            self.sync_target()
        q_taken = q.detach().gather(1, actions[:, None])
        return UpdateResult(loss.detach(), q_taken.mean(), td_errors.detach(),
                            None if norm is None else norm.detach())

    def sync_target(self) -> None:
        """Copy the online weights into the target network."""
        self.target.load_state_dict(self.network.state_dict())

    def state_dict(self) -> dict[str, Any]:
        """Online and target weights, optimizer state and the update counter."""
        return {"network": self.network.state_dict(), "target": self.target.state_dict(),
                "optimizer": self.optimizer.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore `state_dict()` output. The optimizer state is copied: torch would otherwise
        share its tensors with the source, and both learners would then write into them.
        Torch also restores the saved learning rate and epsilon; this learner's config sets
        them again, so a run resumed with a new lr or eps trains with it (the same values
        otherwise: nothing changes)."""
        self.network.load_state_dict(state["network"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(copy.deepcopy(state["optimizer"]))
        for group in self.optimizer.param_groups:
            group.update(optimizer_settings(self.config))
        self.updates = int(state["updates"])
