"""A small but real Go learner for the self-play runtime: policy and value from board planes.

This is the training-step function the runtime's Learner protocol asks an agent for, kept
deliberately tiny (one linear layer per head) so the runtime can be exercised end to end on
a laptop: real gradients, a real optimizer, a loss that falls on repeated data, weights that
travel to the actors. AlphaGo's networks will plug into the same protocol.

Input planes from one replay batch (see go_actor.py for the record fields):

    board [B, n] int8, to_play [B] int8  ->  planes float32 [B, 3, n]: own stones,
                                              opponent's stones, empty points
    policy head: logits [B, n+1] (pass last), trained by cross-entropy against the MCTS
                 visit distribution policy [B, n+1]
    value head:  tanh -> [B], trained by mean squared error against z [B]

loss = cross-entropy + value_weight * MSE (AlphaGo Zero's loss without the L2 term, which
AdamW's weight decay provides).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn


def board_planes(board: np.ndarray | torch.Tensor, to_play: np.ndarray | torch.Tensor
                 ) -> torch.Tensor:
    """float32 [B, 3, n]: own stones, opponent stones, empty, from the mover's view."""
    board = torch.as_tensor(np.array(board, np.int64))  # a copy: Ray's arrays are read-only
    me = torch.as_tensor(np.array(to_play, np.int64)).view(-1, 1)
    own = board == me
    empty = board == 0
    return torch.stack([own, ~own & ~empty, empty], dim=1).float()


class TinyGoNet(nn.Module):
    """Linear policy and value heads over the 3 board planes of a size x size board."""

    def __init__(self, size: int) -> None:
        super().__init__()
        n = size * size
        self.policy = nn.Linear(3 * n, n + 1)
        self.value = nn.Linear(3 * n, 1)

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """planes [B, 3, n] -> (logits [B, n+1], values [B] in (-1, 1))."""
        x = planes.flatten(1)
        return self.policy(x), torch.tanh(self.value(x)).squeeze(1)


class GoLearner:
    """The Learner protocol for Go over TinyGoNet.

    The weight version is the number of steps taken, so version 0 is the untrained net and
    every published version is one the optimizer produced.
    """

    def __init__(self, size: int, lr: float = 0.01, weight_decay: float = 1e-4,
                 value_weight: float = 1.0, seed: int = 0, device: str = "auto",
                 threads: int | None = None) -> None:
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        if threads:
            torch.set_num_threads(threads)
        with torch.random.fork_rng(devices=[]):  # nn.Linear's init draws from the global
            torch.manual_seed(seed)               # generator; leave the caller's untouched
            self.net = TinyGoNet(size).to(self.device)
        self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=lr,
                                           weight_decay=weight_decay)
        self.value_weight = value_weight
        self.steps = 0

    def losses(self, batch: Mapping[str, np.ndarray]) -> tuple[torch.Tensor, ...]:
        """(loss, policy cross-entropy, value MSE) on one batch, with gradients."""
        planes = board_planes(batch["board"], batch["to_play"]).to(self.device)
        target = torch.as_tensor(np.array(batch["policy"], np.float32), device=self.device)
        z = torch.as_tensor(np.array(batch["z"], np.float32), device=self.device)
        logits, values = self.net(planes)
        policy_loss = -(target * torch.log_softmax(logits, dim=1)).sum(1).mean()
        value_loss = torch.mean((values - z) ** 2)
        return policy_loss + self.value_weight * value_loss, policy_loss, value_loss

    def step(self, batch: Mapping[str, np.ndarray]) -> dict[str, float]:
        """One optimizer step on a batch {board, to_play, policy, z}; scalar metrics."""
        metrics = self.backward(batch)
        self.apply()
        return metrics

    # The two halves of `step`, for data-parallel learners (selfplay/runtime/data_parallel.py)
    # that average the gradients of all ranks between them.

    def backward(self, batch: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Gradients of the mean loss over `batch` into the parameters' .grad."""
        self.net.train()
        loss, policy_loss, value_loss = self.losses(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        return {"loss": loss.item(), "policy_loss": policy_loss.item(),
                "value_loss": value_loss.item()}

    def apply(self) -> None:
        """The optimizer step on the gradients `backward` left (averaged or not)."""
        self.optimizer.step()
        self.steps += 1

    def parameters(self) -> list[torch.Tensor]:
        return list(self.net.parameters())

    def get_weights(self) -> tuple[int, dict[str, np.ndarray]]:
        """(version = steps, {parameter name: float32 array}) on the CPU, for broadcasting."""
        return self.steps, {k: v.detach().cpu().numpy().copy()
                            for k, v in self.net.state_dict().items()}

    def set_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        self.net.load_state_dict({k: torch.as_tensor(np.array(v)) for k, v in weights.items()})

    def state_dict(self) -> dict[str, Any]:
        """Everything to resume exactly (tensors and plain data: loads with weights_only);
        a step draws no random numbers, so there is no learner RNG to keep."""
        return {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict(),
                "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])
