"""Q-networks: the Nature CNN for Atari frames, an MLP for small vector observations, and an
optional dueling head for either.

Both take a stack of k observations, [B, k, *frame]:
- NatureCNN: uint8 frames [B, 4, 84, 84], scaled to [0, 1] inside (so the replay and the actors
  keep bytes); conv 32x8x8/4, 64x4x4/2, 64x3x3/1, then fc 512 (Mnih et al. 2015). The convs
  run channels-last (NHWC), which oneDNN computes about a quarter faster on CPU for batch 32;
  the results are the same numbers, only the memory layout differs.
- MLP: float vectors [B, k, d], flattened to [B, k*d] (CartPole: [B, 1, 4]).
Output: Q-values [B, num_actions].

Dueling (Wang et al. 2016): Q(s, a) = V(s) + A(s, a) - mean_a A(s, a), with separate value and
advantage streams of the same hidden width after the shared torso.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class QHead(nn.Module):
    """features [B, F] -> Q [B, A]: one hidden layer, plain or dueling."""

    def __init__(self, in_features: int, hidden: int, num_actions: int, dueling: bool) -> None:
        super().__init__()
        self.dueling = dueling
        if dueling:
            self.value = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(),
                                       nn.Linear(hidden, 1))
            self.advantage = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(),
                                           nn.Linear(hidden, num_actions))
        else:
            self.q = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(),
                                   nn.Linear(hidden, num_actions))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if not self.dueling:
            return self.q(features)
        advantage = self.advantage(features)
        return self.value(features) + advantage - advantage.mean(dim=1, keepdim=True)


class ByteConv2d(nn.Conv2d):
    """A convolution of frames in [0, 255] that sees them in [0, 1]: conv(x / 255, W) is
    computed as conv(x, W / 255), which scales the 8k weights instead of the 900k input values
    of a batch (one pass over the batch fewer). Same parameters as nn.Conv2d."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x.float(), self.weight * (1 / 255), self.bias)


class NatureCNN(nn.Module):
    """uint8 (or float in [0, 255]) frames [B, C, 84, 84] -> Q-values [B, num_actions]."""

    def __init__(self, num_actions: int, in_channels: int = 4, dueling: bool = False,
                 frame_size: int = 84) -> None:
        super().__init__()
        self.torso = nn.Sequential(
            ByteConv2d(in_channels, 32, kernel_size=8, stride=4), nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2), nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1), nn.ReLU(),
            nn.Flatten())
        with torch.no_grad():
            features = self.torso(torch.zeros(1, in_channels, frame_size, frame_size)).shape[1]
        self.head = QHead(features, 512, num_actions, dueling)
        self.torso.to(memory_format=torch.channels_last)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.contiguous(memory_format=torch.channels_last)  # free on the replay's stacks
        return self.head(self.torso(x))


class MLP(nn.Module):
    """Float observations [B, k, d] (or [B, d]) -> Q-values [B, num_actions]."""

    def __init__(self, obs_size: int, num_actions: int, hidden: Sequence[int] = (128, 128),
                 dueling: bool = False) -> None:
        super().__init__()
        if not hidden:
            raise ValueError("an MLP needs at least one hidden layer")
        layers: list[nn.Module] = [nn.Flatten()]
        width = obs_size
        for size in hidden[:-1]:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.torso = nn.Sequential(*layers)
        self.head = QHead(width, hidden[-1], num_actions, dueling)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.head(self.torso(obs.float()))


def build_q_network(obs_shape: Sequence[int], num_actions: int, kind: str = "auto",
                    dueling: bool = False, hidden: Sequence[int] = (128, 128)) -> nn.Module:
    """The network for observations of `obs_shape` ([k, H, W] frames -> NatureCNN, [k, d]
    vectors -> MLP) unless `kind` ('nature_cnn' | 'mlp') says which."""
    obs_shape = tuple(int(d) for d in obs_shape)
    if kind == "auto":
        kind = "nature_cnn" if len(obs_shape) == 3 else "mlp"
    if kind == "nature_cnn":
        if len(obs_shape) != 3 or obs_shape[1] != obs_shape[2]:
            raise ValueError(f"nature_cnn needs square frames [k, H, H], got {obs_shape}")
        return NatureCNN(num_actions, obs_shape[0], dueling, obs_shape[1])
    if kind == "mlp":
        size = 1
        for d in obs_shape:
            size *= d
        return MLP(size, num_actions, hidden, dueling)
    raise ValueError(f"unknown network kind {kind!r} (auto, nature_cnn, mlp)")
