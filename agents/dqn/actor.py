"""Acting: epsilon-greedy over a batch of environments, and the epsilon schedules.

- `LinearSchedule`: epsilon from `start` to `end` over `steps` agent steps, then flat (Nature:
  1.0 -> 0.1 over 1M steps).
- `apex_epsilons(N)`: Ape-X's fixed per-actor epsilons eps_i = base^(1 + alpha * i / (N - 1))
  (base 0.4, alpha 7), from 0.4 down to 0.4^8 = 6.6e-4.
- `EpsilonGreedyActor`: one forward pass for all N observations, then each environment takes a
  uniform random action with its own probability epsilon_i. Randomness comes from the numpy
  Generator it is given, and the same number of draws is made every call, so a run replays
  exactly from a saved generator state.

Noisy networks: while the network is in training mode the actor resamples its noise before
every forward pass, i.e. once per acting step (one draw shared by the N environments of that
step); in eval mode the noisy layers use their mean weights and nothing is drawn. With noise
doing the exploring, epsilon may be 0 (Rainbow's preset).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class LinearSchedule:
    """value(step) = start + (end - start) * min(1, step / steps)."""

    def __init__(self, start: float, end: float, steps: int) -> None:
        self.start, self.end, self.steps = float(start), float(end), int(steps)

    def __call__(self, step: int) -> float:
        if self.steps <= 0:
            return self.end
        fraction = min(1.0, max(0.0, step / self.steps))
        return self.start + (self.end - self.start) * fraction


def apex_epsilons(num_actors: int, base: float = 0.4, alpha: float = 7.0) -> np.ndarray:
    """float64 [N]: eps_i = base^(1 + alpha * i / (N - 1)); one actor gets `base`."""
    if num_actors < 1:
        raise ValueError(f"need at least one actor, got {num_actors}")
    if num_actors == 1:
        return np.array([base])
    i = np.arange(num_actors, dtype=np.float64)
    return base ** (1.0 + alpha * i / (num_actors - 1))


class EpsilonGreedyActor:
    """Chooses actions for N environments at once with `network` (Q-values [N, A])."""

    def __init__(self, network: nn.Module, num_actions: int, rng: np.random.Generator,
                 device: torch.device | str = "cpu") -> None:
        self.network = network
        self.num_actions = int(num_actions)
        self.rng = rng
        self.device = torch.device(device)

    @torch.no_grad()
    def _q(self, obs: np.ndarray) -> torch.Tensor:
        """Q [N, A] on the device; a noisy network in training mode gets new noise first."""
        if self.network.training and getattr(self.network, "noisy", False):
            self.network.reset_noise()
        return self.network(torch.as_tensor(obs, device=self.device))

    def greedy(self, obs: np.ndarray) -> np.ndarray:
        """argmax_a Q(obs, a): int64 [N] for observations [N, *obs_shape]."""
        return self._q(obs).argmax(dim=1).cpu().numpy().astype(np.int64)

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q(obs, .): float32 [N, A] for observations [N, *obs_shape]."""
        return self._q(obs).float().cpu().numpy()

    def _explore(self, n: int, epsilon: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which of n environments act at random (bool [N]) and their random actions."""
        explore = self.rng.random(n) < np.broadcast_to(np.asarray(epsilon, np.float64), (n,))
        return explore, self.rng.integers(0, self.num_actions, n, dtype=np.int64)

    def act(self, obs: np.ndarray, epsilon: float | np.ndarray) -> np.ndarray:
        """int64 [N]: random with probability epsilon (scalar, or [N] per environment), else
        greedy. The network is skipped when every environment acts at random."""
        explore, random_actions = self._explore(len(obs), epsilon)
        if explore.all():
            return random_actions
        return np.where(explore, random_actions, self.greedy(obs))

    def act_on_q(self, q: np.ndarray, epsilon: float | np.ndarray) -> np.ndarray:
        """`act` from Q-values [N, A] already computed (an Ape-X actor keeps them to estimate
        its transitions' priorities); the same random draws as `act`."""
        explore, random_actions = self._explore(len(q), epsilon)
        return np.where(explore, random_actions, np.asarray(q).argmax(axis=1))
