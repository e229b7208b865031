"""REINFORCE for the policy net (Silver et al. 2016), as a Learner of the self-play runtime.

The paper's update, for n games of the current policy p against an opponent from the pool:

    Δρ ∝ 1/n Σ_i Σ_t ∂log p(a_t^i | s_t^i)/∂ρ · (z_t^i - b)

with z = +1 for a won game and -1 for a lost one, from the learner's side, over the moves the
learner's side played. Here the sum is a mean over all those moves (the learning rate absorbs
the scale), and b is 0 or the batch's mean z (a baseline lowers the variance, not the mean).

One iteration's games reach the learner through the runtime's replay: a one-shard buffer whose
sampler (`LatestSampler`) hands back exactly the records added last, in order, so `train(1, P)`
is one step on the P moves just played: on-policy, every game used once.

log p is the softmax over the LEGAL moves (the mask travels with each move) with the net in
eval mode, so the learner differentiates exactly the distribution the actors sampled from
(batch norm uses its running statistics on both sides).

The learner also keeps the opponent pool: every `pool_every` steps a copy of the current
weights joins it (the newest `pool_size` are kept; version 0 is the initial policy). The
published weights are {"policy": state, "pool": {version: state}}, arrays on the CPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from agents.alphago.nets.networks import NetSpec, PolicyNet, as_input, build_network
from selfplay.replay import ReplayBuffer, ReplayError, ReplayStorage

State = dict[str, np.ndarray]


def numpy_state(net: torch.nn.Module) -> State:
    """The net's state dict as CPU numpy arrays (picklable, for Ray and for the pool)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}


def policy_from_state(spec: Mapping[str, Any], state: Mapping[str, Any],
                      device: torch.device | str = "cpu") -> PolicyNet:
    """A policy net of `spec` (NetSpec fields) holding `state` (arrays or tensors), eval mode."""
    net = build_network(NetSpec(**spec))
    load_state(net, state)
    return net.to(device).eval()


def load_state(net: torch.nn.Module, state: Mapping[str, Any]) -> None:
    """Load arrays or tensors (copied: Ray's arrays are read-only) into `net`."""
    net.load_state_dict({k: v.detach().clone() if isinstance(v, torch.Tensor)
                         else torch.as_tensor(np.array(v)) for k, v in state.items()})


def rollout_spec(spec: NetSpec) -> dict[str, tuple[tuple[int, ...], Any]]:
    """One learner move: its planes, legal mask, the move (pass = S*S) and the game's z."""
    n = spec.size * spec.size
    return {"planes": ((spec.in_planes, spec.size, spec.size), np.uint8),
            "legal": ((n + 1,), np.bool_), "move": ((), np.int64), "z": ((), np.float32)}


class LatestSampler:
    """A replay sampler that returns the `batch_size` records added last, oldest first (an
    on-policy rollout buffer; weights all 1). Nothing random, so no RNG state."""

    kind = "latest"

    def __init__(self) -> None:
        self.recent = np.zeros(0, np.int64)

    def on_add(self, indices: np.ndarray) -> None:
        self.recent = np.concatenate([self.recent, indices])[-_MAX_RECENT:]

    def sample(self, batch_size: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        if not 1 <= batch_size <= min(len(self.recent), size):
            raise ReplayError(f"asked for the latest {batch_size} records, but only "
                             f"{min(len(self.recent), size)} are held")
        return self.recent[-batch_size:].copy(), np.ones(batch_size, np.float32)

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """No priorities."""

    def state_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "recent": self.recent.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.recent = np.asarray(state["recent"], np.int64)


_MAX_RECENT = 1 << 20


def make_rollout_buffer(spec: Mapping[str, Any], capacity: int, shard: int) -> ReplayBuffer:
    """The one replay shard of the RL run: `capacity` learner moves (one iteration's worth)."""
    return ReplayBuffer(ReplayStorage(rollout_spec(NetSpec(**spec)), capacity), LatestSampler())


def reinforce_loss(net: PolicyNet, batch: Mapping[str, np.ndarray], baseline: str,
                   device: torch.device) -> tuple[torch.Tensor, dict[str, float]]:
    """-mean(log p(a|s) · (z - b)) over the batch's moves, and metrics (no optimizer step)."""
    logits = net(as_input(batch["planes"], device))
    legal = torch.as_tensor(np.array(batch["legal"], bool), device=device)
    moves = torch.as_tensor(np.array(batch["move"], np.int64), device=device)
    z = torch.as_tensor(np.array(batch["z"], np.float32), device=device)
    log_p = torch.log_softmax(logits.masked_fill(~legal, float("-inf")), dim=1)
    chosen = log_p.gather(1, moves[:, None]).squeeze(1)
    b = z.mean() if baseline == "mean" else torch.zeros((), device=device)
    loss = -(chosen * (z - b)).mean()
    p = log_p.exp()
    entropy = -(p * log_p.masked_fill(~legal, 0.0)).sum(1).mean()
    return loss, {"loss": loss.item(), "mean_z": z.mean().item(), "entropy": entropy.item(),
                  "moves": float(len(z))}


class ReinforceLearner:
    """The runtime's Learner for the RL policy: `step` is one REINFORCE update on a batch
    {planes, legal, move, z} of learner moves; the version is the number of steps taken."""

    def __init__(self, spec: Mapping[str, Any], weights: Mapping[str, Any], lr: float = 0.01,
                 momentum: float = 0.0, baseline: str = "mean", pool_every: int = 10,
                 pool_size: int = 16, device: str = "auto", threads: int = 0) -> None:
        if baseline not in ("mean", "none"):
            raise ValueError(f"baseline must be 'mean' or 'none', got {baseline!r}")
        if threads:
            torch.set_num_threads(threads)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.spec = dict(spec)
        self.net = policy_from_state(spec, weights, self.device)
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=lr, momentum=momentum)
        self.baseline = baseline
        self.pool_every, self.pool_size = pool_every, pool_size
        self.steps = 0
        self.pool: dict[int, State] = {0: numpy_state(self.net)}

    def step(self, batch: Mapping[str, np.ndarray]) -> dict[str, float]:
        self.net.eval()  # the actors' distribution: batch norm on running statistics
        loss, metrics = reinforce_loss(self.net, batch, self.baseline, self.device)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        if self.steps % self.pool_every == 0:
            self.pool[self.steps] = numpy_state(self.net)
            for old in sorted(self.pool)[:-self.pool_size]:
                del self.pool[old]
        return metrics

    def get_weights(self) -> tuple[int, dict[str, Any]]:
        return self.steps, {"policy": numpy_state(self.net), "pool": dict(self.pool)}

    def state_dict(self) -> dict[str, Any]:
        """Tensors and plain data (loads with weights_only); a step draws no random numbers."""
        pool = {int(v): {k: torch.from_numpy(a) for k, a in s.items()}
                for v, s in self.pool.items()}
        return {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict(),
                "steps": self.steps, "pool": pool}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])
        self.pool = {int(v): {k: t.cpu().numpy().copy() for k, t in s.items()}
                     for v, s in state["pool"].items()}
