"""The in-process backend: the same Backend surface as RayBackend, run synchronously.

Everything happens in the calling thread, in a fixed order (actors take turns, one `run`
call per poll), so a run is reproducible from its seed and a debugger or a traceback shows
the real code. Tests use it for end-to-end runs; `backend: local` in a config uses it for
debugging an agent before putting it on Ray.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from selfplay.runtime.api import (
    ActorFactory,
    LearnerFactory,
    ReplayFactory,
    ReplayShard,
    RuntimeBackendError,
    choose_shard,
)


class LocalBackend:
    """Actors, learner and replay shards as plain objects in this process.

    games_per_call: units each `run` call asks an actor for.
    seed:           the shard-choice RNG's seed (which shard each batch comes from).
    """

    def __init__(self, games_per_call: int = 1, seed: int = 0) -> None:
        self.games_per_call = games_per_call
        self.rng = np.random.default_rng(seed)
        self.restarts = 0
        self.next_actor_id = 0
        self.version = -1
        self._actors: list[tuple[int, Any]] = []
        self._shards: list[ReplayShard] = []
        self._sizes: list[int] = []
        self._learner = None
        self._turn = 0
        self._add_turn = 0

    def default_actors(self) -> int:
        """One: the actors take turns in this thread, so more would not play faster."""
        return 1

    def start(self, actor_factory: ActorFactory, learner_factory: LearnerFactory,
              replay_factory: ReplayFactory, actors: int, shards: int = 1,
              first_actor_id: int = 0) -> None:
        """Create learner, shards and `actors` actors (<= 0: default_actors(), as on Ray)."""
        actors = actors if actors > 0 else self.default_actors()
        if shards < 1:
            raise RuntimeBackendError(f"need at least one replay shard, got {shards}")
        self._learner = learner_factory()
        self._shards = [ReplayShard(replay_factory, k) for k in range(shards)]
        self._sizes = [0] * shards
        self.next_actor_id = first_actor_id
        for _ in range(actors):
            self._actors.append((self.next_actor_id, actor_factory(self.next_actor_id)))
            self.next_actor_id += 1
        self.publish()

    def actor_ids(self) -> list[int]:
        return [actor_id for actor_id, _ in self._actors]

    def poll(self, timeout: float, remaining: int) -> list[tuple[int, Any]]:
        """One `run` call on the next actor in turn (nothing when `remaining` <= 0)."""
        if remaining <= 0:
            return []
        actor_id, actor = self._actors[self._turn % len(self._actors)]
        self._turn += 1
        return [(actor_id, r) for r in actor.run(min(self.games_per_call, remaining))]

    def add(self, batch: Mapping[str, np.ndarray], td_errors: np.ndarray | None = None) -> None:
        k = self._add_turn % len(self._shards)
        self._add_turn += 1
        self._sizes[k] = self._shards[k].add(batch, td_errors)

    def replay_size(self) -> int:
        return sum(self._sizes)

    def train(self, steps: int, batch_size: int) -> list[dict[str, float]]:
        """`steps` learner steps, each on a batch from a shard chosen by size."""
        metrics = []
        for _ in range(steps):
            batch = self._shards[choose_shard(self._sizes, self.rng)].sample(batch_size)
            metrics.append(self._learner.step(batch))
        return metrics

    def train_prioritized(self, steps: int, batch_size: int) -> list[dict[str, float]]:
        """`train` on `sample_indexed` batches, each step's TD errors becoming new priorities
        in the shard the batch came from before the next batch is drawn."""
        metrics = []
        for _ in range(steps):
            shard = self._shards[choose_shard(self._sizes, self.rng)]
            result = self._learner.step(shard.sample_indexed(batch_size))
            shard.update_priorities(result.pop("indices"), result.pop("td_errors"))
            metrics.append(result)
        return metrics

    def publish(self) -> int:
        return self.broadcast(*self._learner.get_weights())

    def learner_weights(self) -> tuple[int, Any]:
        return self._learner.get_weights()

    def broadcast(self, version: int, weights: Any) -> int:
        self._weights = (version, weights)
        for _, actor in self._actors:
            actor.set_weights(version, weights)
        self.version = version
        return version

    def learner_state(self) -> dict[str, Any]:
        return {"learner": self._learner.state_dict(), "add_turn": self._add_turn,
                "rng": self.rng.bit_generator.state}

    def load_learner_state(self, state: dict[str, Any]) -> None:
        self._learner.load_state_dict(state["learner"])
        self._add_turn = int(state["add_turn"])
        self.rng.bit_generator.state = state["rng"]

    def save_replay(self, directory: str | Path) -> None:
        for shard in self._shards:
            shard.save(str(directory))

    def load_replay(self, directory: str | Path) -> None:
        self._sizes = [shard.load(str(directory)) for shard in self._shards]

    def close(self) -> None:
        self._actors.clear()
