"""The learner and replay of a driver that only collects (teacher games, value-net data).

The runtime's loop always has a learner and a replay shard; a driver whose actors play with
fixed weights (or none) and whose results go straight to disk gets `FixedWeights` as its
learner, which publishes the weights once (one broadcast instead of a copy per actor), and
`empty_replay` as its one shard. Pass `learner=False` to make_backend, so neither reserves
a CPU or GPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from selfplay.replay import ReplayBuffer, ReplayStorage, UniformSampler


class FixedWeights:
    """A Learner that trains nothing: version 0 is `weights` (None: the actors need none)."""

    def __init__(self, weights: Any = None) -> None:
        self.weights = weights

    def step(self, batch) -> dict[str, float]:
        raise RuntimeError("a collecting run takes no learner steps")

    def get_weights(self) -> tuple[int, Any]:
        return 0, self.weights

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def empty_replay(shard: int) -> ReplayBuffer:
    """A one-record replay shard that nothing is added to."""
    storage = ReplayStorage({"unused": ((), np.int8)}, 1)
    return ReplayBuffer(storage, UniformSampler(np.random.default_rng(shard)))
