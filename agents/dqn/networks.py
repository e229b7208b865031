"""Q-networks: the Nature CNN for Atari frames, an MLP for small vector observations, and an
optional dueling head for either.

Both take a stack of k observations, [B, k, *frame]:
- NatureCNN: uint8 frames [B, 4, 84, 84], scaled to [0, 1] inside (so the replay and the actors
  keep bytes); conv 32x8x8/4, 64x4x4/2, 64x3x3/1, then fc 512 (Mnih et al. 2015). The convs
  run channels-last (NHWC), which oneDNN computes about a quarter faster on CPU for batch 32;
  the results are the same numbers, only the memory layout differs.
- MLP: float vectors [B, k, d], flattened to [B, k*d] (CartPole: [B, 1, 4]).
- DataEfficientCNN: the smaller torso of data-efficient Rainbow (van Hasselt et al. 2019):
  conv 32x5x5/5, 64x5x5/5, then fc 256, for the Atari 100k benchmark.
Output: Q-values [B, num_actions] from forward(), whatever the head.

Dueling (Wang et al. 2016): Q(s, a) = V(s) + A(s, a) - mean_a A(s, a), with separate value and
advantage streams of the same hidden width after the shared torso.

Distributional (C51, Bellemare et al. 2017): the head gives logits [B, A, atoms] over a fixed
support z of `atoms` values evenly spaced in [v_min, v_max]; p = softmax over atoms, and
forward() returns Q = sum_i z_i p_i, so acting and evaluation need not know. With dueling the
streams combine on the logits, V [B, 1, atoms] + A - mean_a A, before the softmax (Rainbow).
`log_probs(obs)` [B, A, atoms] is what the loss uses.

Noisy (Fortunato et al. 2018): every linear layer of the head is a NoisyLinear
(agents/dqn/noisy.py); the torso stays deterministic, as in Rainbow. `reset_noise()` resamples.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from agents.dqn.noisy import NoisyLinear, reset_noise


@dataclasses.dataclass(frozen=True)
class HeadOptions:
    """What the head computes: dueling streams, a C51 distribution over `atoms` values in
    [v_min, v_max] (atoms 1 when not distributional: a plain Q-value), noisy layers."""

    dueling: bool = False
    distributional: bool = False
    atoms: int = 51
    v_min: float = -10.0
    v_max: float = 10.0
    noisy: bool = False
    noisy_sigma0: float = 0.5

    def __post_init__(self) -> None:
        if self.distributional and self.atoms < 2:
            raise ValueError(f"a distributional head needs at least 2 atoms, got {self.atoms}")
        if self.distributional and not self.v_min < self.v_max:
            raise ValueError(f"v_min {self.v_min} must be below v_max {self.v_max}")

    @property
    def outputs(self) -> int:
        """Values per action: the atoms, or 1."""
        return self.atoms if self.distributional else 1


class QHead(nn.Module):
    """features [B, F] -> logits [B, A, K] (K = options.atoms) when distributional, else Q
    [B, A]: one hidden layer, plain or dueling, linear or noisy. Parameter names are those of
    the plain head (q.0, q.2, or value.* and advantage.*), so older checkpoints still load."""

    def __init__(self, in_features: int, hidden: int, num_actions: int,
                 options: HeadOptions) -> None:
        super().__init__()
        self.dueling, self.num_actions, self.k = options.dueling, num_actions, options.outputs
        linear = (functools.partial(NoisyLinear, sigma0=options.noisy_sigma0) if options.noisy
                  else nn.Linear)
        if self.dueling:
            self.value = nn.Sequential(linear(in_features, hidden), nn.ReLU(),
                                       linear(hidden, self.k))
            self.advantage = nn.Sequential(linear(in_features, hidden), nn.ReLU(),
                                           linear(hidden, num_actions * self.k))
        else:
            self.q = nn.Sequential(linear(in_features, hidden), nn.ReLU(),
                                   linear(hidden, num_actions * self.k))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        shape = (features.shape[0], self.num_actions, self.k)
        if not self.dueling:
            out = self.q(features).view(shape)
        else:
            advantage = self.advantage(features).view(shape)
            value = self.value(features).view(shape[0], 1, self.k)
            out = value + advantage - advantage.mean(dim=1, keepdim=True)
        return out if self.k > 1 else out.squeeze(2)


class QNetwork(nn.Module):
    """A torso ([B, k, *frame] -> features [B, F], set by the subclass) and a QHead.

    forward(obs) -> Q [B, A] (the distribution's mean when distributional);
    log_probs(obs) -> log p [B, A, atoms] (distributional only);
    reset_noise() resamples the noisy layers (a no-op without them)."""

    torso: nn.Module
    head: QHead

    def _setup(self, options: HeadOptions) -> None:
        self.options = options
        self.distributional, self.noisy = options.distributional, options.noisy
        support = (torch.linspace(options.v_min, options.v_max, options.atoms)
                   if options.distributional else torch.zeros(0))
        # fixed by the config, not learned: no part of the state_dict
        self.register_buffer("support", support, persistent=False)

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        return self.torso(obs)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        values = self.head(self.features(obs))
        if not self.distributional:
            return values
        return (F.softmax(values, dim=2) * self.support).sum(dim=2)

    def log_probs(self, obs: torch.Tensor) -> torch.Tensor:
        if not self.distributional:
            raise ValueError("log_probs needs a distributional head")
        return F.log_softmax(self.head(self.features(obs)), dim=2)

    def reset_noise(self) -> None:
        reset_noise(self)


class ByteConv2d(nn.Conv2d):
    """A convolution of frames in [0, 255] that sees them in [0, 1]: conv(x / 255, W) is
    computed as conv(x, W / 255), which scales the 8k weights instead of the 900k input values
    of a batch (one pass over the batch fewer). Same parameters as nn.Conv2d."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x.float(), self.weight * (1 / 255), self.bias)


class _FrameNetwork(QNetwork):
    """Convolutions over uint8 frames [B, C, H, H] (channels-last inside), then a head."""

    def _build(self, convs: list[nn.Module], in_channels: int, frame_size: int, hidden: int,
               num_actions: int, options: HeadOptions) -> None:
        self._setup(options)
        self.torso = nn.Sequential(*convs, nn.Flatten())
        with torch.no_grad():
            features = self.torso(torch.zeros(1, in_channels, frame_size, frame_size)).shape[1]
        self.head = QHead(features, hidden, num_actions, options)
        self.torso.to(memory_format=torch.channels_last)

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        return self.torso(obs.contiguous(memory_format=torch.channels_last))  # free on stacks


class NatureCNN(_FrameNetwork):
    """uint8 (or float in [0, 255]) frames [B, C, 84, 84] -> Q-values [B, num_actions]."""

    def __init__(self, num_actions: int, in_channels: int = 4, dueling: bool = False,
                 frame_size: int = 84, options: HeadOptions | None = None) -> None:
        super().__init__()
        options = options or HeadOptions(dueling=dueling)
        self._build([ByteConv2d(in_channels, 32, kernel_size=8, stride=4), nn.ReLU(),
                     nn.Conv2d(32, 64, kernel_size=4, stride=2), nn.ReLU(),
                     nn.Conv2d(64, 64, kernel_size=3, stride=1), nn.ReLU()],
                    in_channels, frame_size, 512, num_actions, options)


class DataEfficientCNN(_FrameNetwork):
    """Data-efficient Rainbow's network: frames [B, C, 84, 84] -> Q [B, num_actions]."""

    def __init__(self, num_actions: int, in_channels: int = 4, frame_size: int = 84,
                 options: HeadOptions | None = None) -> None:
        super().__init__()
        self._build([ByteConv2d(in_channels, 32, kernel_size=5, stride=5), nn.ReLU(),
                     nn.Conv2d(32, 64, kernel_size=5, stride=5), nn.ReLU()],
                    in_channels, frame_size, 256, num_actions, options or HeadOptions())


class MLP(QNetwork):
    """Float observations [B, k, d] (or [B, d]) -> Q-values [B, num_actions]. Hidden layers
    but the last form the torso; the last is the head's (noisy when the head is)."""

    def __init__(self, obs_size: int, num_actions: int, hidden: Sequence[int] = (128, 128),
                 dueling: bool = False, options: HeadOptions | None = None) -> None:
        super().__init__()
        if not hidden:
            raise ValueError("an MLP needs at least one hidden layer")
        self._setup(options or HeadOptions(dueling=dueling))
        layers: list[nn.Module] = [nn.Flatten()]
        width = obs_size
        for size in hidden[:-1]:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.torso = nn.Sequential(*layers)
        self.head = QHead(width, hidden[-1], num_actions, self.options)

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        return self.torso(obs.float())


NETWORK_KINDS = ("auto", "nature_cnn", "der_cnn", "mlp")


def build_q_network(obs_shape: Sequence[int], num_actions: int, kind: str = "auto",
                    dueling: bool = False, hidden: Sequence[int] = (128, 128), *,
                    distributional: bool = False, atoms: int = 51, v_min: float = -10.0,
                    v_max: float = 10.0, noisy: bool = False,
                    noisy_sigma0: float = 0.5) -> QNetwork:
    """The network for observations of `obs_shape` ([k, H, W] frames -> NatureCNN, [k, d]
    vectors -> MLP) unless `kind` ('nature_cnn' | 'der_cnn' | 'mlp') says which; the keywords
    choose the head (see HeadOptions)."""
    obs_shape = tuple(int(d) for d in obs_shape)
    options = HeadOptions(dueling, distributional, atoms, v_min, v_max, noisy, noisy_sigma0)
    if kind == "auto":
        kind = "nature_cnn" if len(obs_shape) == 3 else "mlp"
    if kind in ("nature_cnn", "der_cnn"):
        if len(obs_shape) != 3 or obs_shape[1] != obs_shape[2]:
            raise ValueError(f"{kind} needs square frames [k, H, H], got {obs_shape}")
        if kind == "der_cnn":
            return DataEfficientCNN(num_actions, obs_shape[0], obs_shape[1], options)
        return NatureCNN(num_actions, obs_shape[0], frame_size=obs_shape[1], options=options)
    if kind == "mlp":
        size = 1
        for d in obs_shape:
            size *= d
        return MLP(size, num_actions, hidden, options=options)
    raise ValueError(f"unknown network kind {kind!r} ({', '.join(NETWORK_KINDS)})")

