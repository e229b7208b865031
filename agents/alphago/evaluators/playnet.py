"""The play net behind the MCTS Evaluator protocol: priors and values from one forward pass.

PlayNetEvaluator answers a batch of leaves with the play net's (networks.PlayNet) policy head
as the priors and its value head as the values, mixed with one fast rollout per leaf by lambda
as in AlphaGo, V = (1 - lambda) v + lambda z (lambda = 0: the net alone, AlphaGo Zero's way; no
rollouts are run then). Its ownership and score heads come with every evaluation, mixed by the
same lambda with the rollouts' final owners and margins, for analysis. The rollouts run in a
background thread while this one runs the net (compiled playouts and torch both release the
GIL), so on two cores they overlap.

`outputs()` gives the rest of what the net says about a position (ownership and score margin)
for analysis. Values are for the player to move, as MCTS expects (tree.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from agents.alphago.evaluators.protocol import Evaluation
from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.nets.features import features_batch
from agents.alphago.nets.networks import PlayNet, as_input
from envs.go import Position


class PlayNetEvaluator:
    """Evaluator over a PlayNet, optionally mixed with rollouts.

    net:        the PlayNet (moved to `device`, eval mode).
    rollouts:   a RolloutEvaluator for lambda > 0 (its values are used, its priors ignored).
    mix:        lambda in V = (1 - lambda) v + lambda z.
    torch_threads: torch's intra-op threads (process-wide; None leaves it). 1 by default: on
                a shared CPU OpenMP's spinning threads collapse (see apv.NetworkEvaluator).
    """

    def __init__(self, net: PlayNet, rollouts: RolloutEvaluator | None = None, mix: float = 0.0,
                 device: torch.device | str = "cpu", torch_threads: int | None = 1):
        if not 0.0 <= mix <= 1.0:
            raise ValueError(f"mix (lambda) must be in [0, 1], got {mix}")
        if mix > 0 and rollouts is None:
            raise ValueError(f"lambda {mix} mixes in rollouts, but no rollout evaluator is given")
        if net.spec.kind != "play":
            raise ValueError(f"PlayNetEvaluator needs a play network, not a {net.spec.kind} one")
        self.device = torch.device(device)
        self.net = net.to(device=self.device, memory_format=torch.channels_last).eval()
        self.rollouts = rollouts if mix > 0 else None
        self.mix = mix
        self.size = net.spec.size
        self._background = ThreadPoolExecutor(1) if self.rollouts is not None else None
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)

    def evaluate(self, positions: Sequence[Position]) -> Evaluation:
        rolling = None
        if self._background is not None:
            rolling = self._background.submit(self.rollouts.evaluate, positions)
        out = self.outputs(positions)
        ownership, score = out["ownership"], out["score"]
        if rolling is None:
            return Evaluation(out["priors"], out["value"], None, ownership, score)
        rolled = rolling.result()
        values = self._mixed(out["value"], rolled.values)
        if rolled.ownership is not None:
            ownership = self._mixed(ownership, rolled.ownership)
        if rolled.score is not None:
            score = self._mixed(score, rolled.score)
        return Evaluation(out["priors"], values, rolled.tails, ownership, score)

    def _mixed(self, net: np.ndarray, rolled: np.ndarray) -> np.ndarray:
        """(1 - lambda) net + lambda rolled, float32: values, ownership and score alike."""
        return ((1.0 - self.mix) * net + self.mix * rolled).astype(np.float32)

    def outputs(self, positions: Sequence[Position]) -> dict[str, np.ndarray]:
        """The net's view of B positions, for the player to move at each:
        priors float32 [B, n+1] (softmax over the legal moves, pass last), value [B] in
        [-1, 1], ownership [B, n] in [-1, 1] (+1: ours at the end), score [B] (the final area
        margin in points, komi included)."""
        size = positions[0].rules.size
        if size != self.size:
            raise ValueError(f"a network for {self.size}x{self.size}, board {size}x{size}")
        x = as_input(features_batch(positions, self.net.spec.planes, player_colour=True),
                     self.device).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            logits, value, ownership, score = (t.float().cpu().numpy() for t in self.net(x))
        legal = np.stack([p.legal_moves() for p in positions])
        return {"priors": masked_softmax(logits, legal), "value": value,
                "ownership": ownership, "score": score * size * size}

    def close(self) -> None:
        if self._background is not None:
            self._background.shutdown(wait=False)


def masked_softmax(logits: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """float32 [B, n+1]: softmax over the legal entries of each row; 0 elsewhere."""
    masked = np.where(legal, logits, -np.inf)
    masked = masked - masked.max(axis=1, keepdims=True)
    e = np.exp(masked)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def play_evaluator(weights: Mapping[str, Any] | PlayNet, mix: float = 0.0, seed: int = 0,
                   heavy: bool = True, rollout_threads: int | None = 1,
                   device: torch.device | str = "cpu") -> PlayNetEvaluator:
    """A PlayNetEvaluator from a net or broadcast weights (networks.network_payload), with
    heavy (or light) rollouts on `rollout_threads` cores when lambda > 0."""
    from agents.alphago.nets.networks import network_from_payload

    net = weights if isinstance(weights, PlayNet) else network_from_payload(weights, "play")
    rollouts = RolloutEvaluator(seed=seed, heavy=heavy, threads=rollout_threads) if mix > 0 \
        else None
    return PlayNetEvaluator(net, rollouts, mix=mix, device=device)
