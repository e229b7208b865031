"""What the runtime runs, and what every backend offers: the shared vocabulary of the factory.

Actors and learners are plain classes with no knowledge of where they run. An agent (DQN,
AlphaGo) supplies three factories, all picklable so Ray can ship them to other processes:

    actor factory    actor_id -> Actor       plays games / steps environments
    learner factory  ()       -> Learner     one training step on a replay batch
    replay factory   shard    -> ReplayBuffer  the storage of one replay shard

and a backend runs them: `LocalBackend` in this process (tests, debugging) or `RayBackend` as
Ray actors on all cores or a cluster. Both present the `Backend` interface below, so the
driver loop of an agent (selfplay/go/loop.py) is written once.

Weights are versioned: the learner's `get_weights()` returns (version, weights), where the
version is the learner's step count, so an actor result carrying the version it played with
says how stale its data was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from envs.errors import UserError
from selfplay.replay import ReplayBuffer

T = TypeVar("T")


class RuntimeBackendError(UserError, RuntimeError):
    """A backend that cannot run as asked: a cluster that cannot be reached or joined, a
    request for more resources than exist. The message is for the user (one line)."""


class ResourceRequestError(RuntimeBackendError):
    """The configuration asks for more CPUs/GPUs than the cluster has (refused up front)."""


class ComponentLost(RuntimeBackendError):
    """The learner or a replay shard died (crash, kill, node lost). Unlike an actor, neither
    can be replaced by a fresh one without losing state, so the backend is finished; a
    driver recovers by resuming from its last checkpoint (`with_recovery`)."""


def with_recovery(attempt: Callable[[bool], T], resume: bool, max_recoveries: int,
                  log: Callable[[str], None] | None) -> tuple[T, int]:
    """Run `attempt(resume)`; each time it raises ComponentLost, say so through `log` and run
    `attempt(True)` (resume from the last checkpoint on a new backend), at most
    `max_recoveries` times. Returns the result and the number of recoveries. An attempt that
    cannot make a new backend (the caller passed one in) should get max_recoveries 0."""
    recoveries = 0
    while True:
        try:
            return attempt(resume), recoveries
        except ComponentLost as err:
            if recoveries >= max_recoveries:
                raise
            recoveries += 1
            resume = True
            if log is not None:
                log(f"{err}; resuming from the last checkpoint "
                    f"(recovery {recoveries} of at most {max_recoveries})")


class Actor(Protocol):
    """Produces experience. `run(n)` does n units of work (n games, n batches of steps) with
    the newest weights it was given and returns one result per unit."""

    def set_weights(self, version: int, weights: Any) -> None: ...

    def run(self, n: int) -> list[Any]: ...


class Learner(Protocol):
    """Consumes replay. `step` trains once on a batch {name: array [B, *shape]} and returns
    scalar metrics; the state dict holds torch tensors and plain data only (so checkpoints
    load with weights_only=True) and covers model, optimizer, step count and RNG."""

    def step(self, batch: Mapping[str, np.ndarray]) -> dict[str, float]: ...

    def get_weights(self) -> tuple[int, Any]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


ActorFactory = Callable[[int], Actor]
LearnerFactory = Callable[[], Learner]
ReplayFactory = Callable[[int], ReplayBuffer]  # or any replay with the same surface (FrameReplay)


class ReplayShard:
    """One shard of replay: a ReplayBuffer behind a small call surface that is the same in
    process and as a Ray actor (where arrays arrive read-only; the storage copies them)."""

    def __init__(self, factory: ReplayFactory, index: int) -> None:
        self.buffer = factory(index)
        self.index = index

    def add(self, batch: Mapping[str, np.ndarray], td_errors: np.ndarray | None = None) -> int:
        """Add records {name: [n, *shape]} (with their first priorities as `td_errors` [n]
        when the sender computed them); returns the shard's size afterwards."""
        self.buffer.add(batch, td_errors)
        return len(self.buffer)

    def sample(self, batch_size: int) -> dict[str, np.ndarray]:
        """A batch {name: [B, *shape]} drawn by the shard's sampler."""
        records, _, _ = self.buffer.sample(batch_size)
        return records

    def sample_indexed(self, batch_size: int) -> dict[str, np.ndarray]:
        """A batch that also carries `indices` int64 [B] and importance `weights` float32
        [B], for a learner whose TD errors come back through `update_priorities`."""
        return self.buffer.sample_indexed(batch_size)

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """New priorities from a learner's TD errors [B] for records `indices` [B] that
        `sample_indexed` gave it (ignored by uniform sampling)."""
        self.buffer.update_priorities(indices, td_errors)

    def size(self) -> int:
        return len(self.buffer)

    def save(self, directory: str) -> str:
        return str(self.buffer.save(Path(directory) / f"shard-{self.index}"))

    def load(self, directory: str) -> int:
        """Restore the shard from `directory`/shard-K; returns its size (ReplayError if the
        file is missing or damaged, leaving the shard as it was)."""
        self.buffer.load(Path(directory) / f"shard-{self.index}")
        return len(self.buffer)


def choose_shard(sizes: list[int], rng: np.random.Generator) -> int:
    """A shard to sample from, with probability proportional to its size, so every stored
    record is about equally likely whichever shard holds it."""
    total = sum(sizes)
    if total <= 0:
        raise RuntimeBackendError("cannot sample from an empty replay")
    return int(rng.choice(len(sizes), p=np.asarray(sizes, np.float64) / total))


class Backend(Protocol):
    """What a driver loop sees, in process or on Ray.

    start:    build the learner, `shards` replay shards and `actors` actors (ids from
              `first_actor_id`), give the actors the learner's weights.
    poll:     results of finished `run` calls as [(actor_id, result)], waiting at most
              `timeout` seconds; keeps each actor busy (bounded in flight) while fewer than
              `remaining` units are outstanding. Dead actors are replaced.
    add:      records {name: [n, *shape]} into replay (round-robin over shards), with their
              first priorities when the actor computed them (td_errors [n]).
    train:    `steps` learner steps on replay batches of `batch_size`; their metrics.
    train_prioritized: the same with `sample_indexed` batches; each step's metrics must hold
              `indices` and `td_errors` [B], which go back to the batch's shard as new
              priorities (and are removed from the metrics returned).
    publish:  broadcast the learner's current weights to all actors; returns the version.
    learner_weights: the learner's (version, weights), without broadcasting them.
    broadcast: send (version, weights) to all actors (and to any actor that replaces one),
              for a driver that chooses what the actors play with (Go's gate).
    """

    restarts: int
    next_actor_id: int

    def start(self, actor_factory: ActorFactory, learner_factory: LearnerFactory,
              replay_factory: ReplayFactory, actors: int, shards: int = 1,
              first_actor_id: int = 0) -> None: ...

    def poll(self, timeout: float, remaining: int) -> list[tuple[int, Any]]: ...

    def add(self, batch: Mapping[str, np.ndarray], td_errors: np.ndarray | None = None
            ) -> None: ...

    def replay_size(self) -> int: ...

    def train(self, steps: int, batch_size: int) -> list[dict[str, float]]: ...

    def train_prioritized(self, steps: int, batch_size: int) -> list[dict[str, float]]: ...

    def publish(self) -> int: ...

    def learner_weights(self) -> tuple[int, Any]: ...

    def broadcast(self, version: int, weights: Any) -> int: ...

    def learner_state(self) -> dict[str, Any]: ...

    def load_learner_state(self, state: dict[str, Any]) -> None: ...

    def save_replay(self, directory: str | Path) -> None: ...

    def load_replay(self, directory: str | Path) -> None: ...

    def close(self) -> None: ...
