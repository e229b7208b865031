"""The Go learner of the self-play loop: the play net trained on self-play positions.

One replay record per position (selfplay/go/actor.py makes them):

    planes     uint8   [C, S, S]   the play net's input planes (features.py, + colour)
    policy     float32 [n+1]       the search's visit distribution, pass last
    z          float32 []          the game's outcome for the player to move (+1 / -1 / 0)
    ownership  int8    [n]         who owned each point at the end: +1 mover, -1 opponent, 0
    score      float32 []          the final area margin for the player to move, komi included

Every sample of a batch is seen under one of the 8 board symmetries, drawn at random (AlphaGo
Zero's augmentation: eight times the positions for free, and a net that does not learn a
preferred corner). The loss is AlphaGo Zero's, cross-entropy with the visits plus the value's
squared error, with KataGo's auxiliary terms: the ownership's squared error averaged over the
points, and a Huber loss on the score margin (in units of `size` points, so one unit is a
line of the board). AdamW's weight decay is the L2 term.

The learner trains the candidate. Which network the actors play with is the driver's choice
(selfplay/go/loop.py: only a candidate that wins its gate is promoted), so get_weights gives the
candidate to the gate and the driver broadcasts the best.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.alphago.nets.features import transform_planes, transform_policy
from agents.alphago.nets.networks import NetSpec, PlayNet, build_network, network_payload


def augment(batch: Mapping[str, np.ndarray], rng: np.random.Generator
            ) -> dict[str, np.ndarray]:
    """The batch with each sample turned by one of the 8 symmetries, drawn from `rng`:
    planes [B, C, S, S], policy [B, n+1] and ownership [B, n] move together."""
    planes = np.array(batch["planes"])
    policy = np.array(batch["policy"], np.float32)
    ownership = np.array(batch["ownership"], np.int8)
    size = planes.shape[-1]
    ks = rng.integers(0, 8, len(planes))
    for k in range(1, 8):
        rows = np.flatnonzero(ks == k)
        if len(rows) == 0:
            continue
        planes[rows] = transform_planes(planes[rows], k)
        policy[rows] = transform_policy(policy[rows], k)
        owned = ownership[rows].reshape(len(rows), size, size)
        ownership[rows] = transform_planes(owned, k).reshape(len(rows), size * size)
    return {**batch, "planes": planes, "policy": policy, "ownership": ownership}


class GoLearner:
    """The runtime's Learner protocol over a PlayNet.

    spec:     the net's shape (kind "play"); `initial` (a network_payload) starts it from a
              trained net instead of a random one (a run continues from the committed best).
    The weight version is the number of steps taken.
    """

    def __init__(self, spec: NetSpec, lr: float = 2e-3, weight_decay: float = 1e-4,
                 ownership_weight: float = 1.0, score_weight: float = 0.1, seed: int = 0,
                 device: str = "auto", threads: int | None = None,
                 initial: Mapping[str, Any] | None = None) -> None:
        if spec.kind != "play":
            raise ValueError(f"the self-play learner trains a play network, not {spec.kind}")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        if threads:
            torch.set_num_threads(threads)
        with torch.random.fork_rng(devices=[]):  # init draws from the global generator;
            torch.manual_seed(seed)               # leave the caller's untouched
            self.net: PlayNet = build_network(spec)
        if initial is not None:
            self.set_weights(initial["state"])
        self.net.to(self.device)
        self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=lr,
                                           weight_decay=weight_decay)
        self.ownership_weight = ownership_weight
        self.score_weight = score_weight
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 4099]))
        self.steps = 0

    def losses(self, batch: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
        """The loss and its parts on one (already augmented) batch, with gradients."""
        size = self.net.spec.size

        def tensor(name: str, dtype: Any = np.float32) -> torch.Tensor:
            return torch.as_tensor(np.asarray(batch[name], dtype), device=self.device)

        x = tensor("planes").contiguous(memory_format=torch.channels_last)
        out = self.net(x)
        policy = -(tensor("policy") * torch.log_softmax(out.logits, dim=1)).sum(1).mean()
        value = torch.mean((out.value - tensor("z")) ** 2)
        ownership = torch.mean((out.ownership - tensor("ownership")) ** 2)
        score = nn.functional.smooth_l1_loss(out.score * size, tensor("score") / size)
        loss = policy + value + self.ownership_weight * ownership + self.score_weight * score
        return {"loss": loss, "policy_loss": policy, "value_loss": value,
                "ownership_loss": ownership, "score_loss": score}

    def step(self, batch: Mapping[str, np.ndarray]) -> dict[str, float]:
        """One optimizer step on a replay batch (see the module docstring); scalar metrics."""
        metrics = self.backward(batch)
        self.apply()
        return metrics

    # The two halves of `step`, for data-parallel learners (selfplay/runtime/data_parallel.py)
    # that average the gradients of all ranks between them.

    def backward(self, batch: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Gradients of the mean loss over `batch` (augmented) into the parameters' .grad."""
        self.net.train()
        parts = self.losses(augment(batch, self.rng))
        self.optimizer.zero_grad(set_to_none=True)
        parts["loss"].backward()
        return {k: v.item() for k, v in parts.items()}

    def apply(self) -> None:
        """The optimizer step on the gradients `backward` left (averaged or not)."""
        self.optimizer.step()
        self.steps += 1

    def parameters(self) -> list[torch.Tensor]:
        return list(self.net.parameters())

    def get_weights(self) -> tuple[int, dict[str, Any]]:
        """(version = steps, networks.network_payload of the candidate) on the CPU."""
        return self.steps, network_payload(self.net)

    def set_weights(self, state: Mapping[str, Any]) -> None:
        self.net.load_state_dict({k: torch.as_tensor(np.array(v)) for k, v in state.items()})

    def state_dict(self) -> dict[str, Any]:
        """Everything to resume exactly (tensors and plain data: loads with weights_only)."""
        return {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict(),
                "steps": self.steps, "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])
        self.rng.bit_generator.state = state["rng"]
