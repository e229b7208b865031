"""The Ray backend: actors, learner and replay shards as Ray actors, on one machine or many.

    driver (this process)            Ray actors
    ---------------------            ----------
    poll: ray.wait on run() futures  _ActorHost x N      wraps an Actor; run(n) -> results
    add: round-robin to shards       ReplayShard x S     wraps a ReplayBuffer (0 CPUs: idle)
    train: learner.step(shard.sample(B))  LearnerGroup  1 or K data-parallel learners
                                                         (GPU when present)
    publish: ONE ray.put per update, the ObjectRef passed to every actor

Samples go from a shard straight to the learner (the driver passes the sample's ObjectRef,
never the arrays). Each actor has at most `max_in_flight` run() calls outstanding, so
finished games never pile up unread and a new weight version reaches an actor within two
calls. An actor whose future raises RayActorError (killed, crashed, node lost) is replaced
by a fresh one with the next actor id and the current weights; its lost calls are simply
re-issued, so the run still gets the number of results it asked for. The learner and the
shards hold state a fresh actor would not have: when one of them dies, every later call
raises ComponentLost, and the driver resumes from its last checkpoint.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import ray
from ray.exceptions import RayActorError

from selfplay.runtime.api import (
    ActorFactory,
    ComponentLost,
    LearnerFactory,
    ReplayFactory,
    ReplayShard,
    RuntimeBackendError,
    choose_shard,
)
from selfplay.runtime.connect import check_resources, cluster_view, connect
from selfplay.runtime.data_parallel import LearnerGroup


@contextlib.contextmanager
def _stateful(what: str):
    """Turn the death of a learner or shard (RayActorError) into ComponentLost."""
    try:
        yield
    except RayActorError as err:
        reason = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
        raise ComponentLost(f"the {what} died ({type(err).__name__}: {reason})") from err


class _ActorHost:
    """Builds the agent's actor inside the Ray worker (so only the factory is pickled)."""

    def __init__(self, factory: ActorFactory, actor_id: int) -> None:
        from agents.cpu import flush_denormals  # a fresh worker: before torch's threads start

        flush_denormals()
        self.actor = factory(actor_id)

    def set_weights(self, payload: tuple[int, Any]) -> None:
        version, weights = payload  # Ray resolved the broadcast ObjectRef to its value
        self.actor.set_weights(version, weights)

    def run(self, n: int) -> list[Any]:
        return self.actor.run(n)

    def where(self) -> tuple[str, int]:
        """(Ray node id, process id) this actor runs in (for placement checks)."""
        return ray.get_runtime_context().get_node_id(), os.getpid()


class RayBackend:
    """Runs the runtime's pieces as Ray actors.

    address:        None: embedded Ray (num_cpus: default all cores), "auto", "host:port" or
                    "ray://host:port" to join a cluster (see connect.py).
    actor_cpus, actor_gpus, actor_resources: what each actor reserves.
    learner_cpus, learner_gpus: each learner's; learner_gpus None means 1 when the cluster
                    has a GPU for every learner, else 0.
    learners:       data-parallel learner ranks (batches split evenly; data_parallel.py).
    max_in_flight:  run() calls outstanding per actor; games_per_call: units per call.
    max_restarts:   actor replacements allowed before the run gives up (a crash loop).
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 actor_cpus: float = 1.0, actor_gpus: float = 0.0,
                 actor_resources: Mapping[str, float] | None = None,
                 learner_cpus: float = 1.0, learner_gpus: float | None = None,
                 learners: int = 1, games_per_call: int = 1, max_in_flight: int = 2,
                 max_restarts: int = 100, seed: int = 0,
                 object_store_memory: int | None = None) -> None:
        self._owns_ray = connect(address, num_cpus, object_store_memory=object_store_memory)
        self.total, self.nodes = cluster_view()
        if learner_gpus is None:  # a GPU per learner when there are enough, else CPUs
            learner_gpus = 1.0 if self.total.get("GPU", 0.0) >= learners else 0.0
        self.actor_request = {"CPU": actor_cpus, "GPU": actor_gpus, **(actor_resources or {})}
        self.learner_request = {"CPU": learner_cpus, "GPU": learner_gpus}
        self.learners = learners
        self.games_per_call = games_per_call
        self.max_in_flight = max_in_flight
        self.max_restarts = max_restarts
        self.rng = np.random.default_rng(seed)
        self.restarts = 0
        self.next_actor_id = 0
        self.version = -1
        self.last_death: str | None = None
        self._actor_factory: ActorFactory | None = None
        self._actors: dict[int, Any] = {}              # actor id -> handle
        self._inflight: dict[Any, tuple[int, int]] = {}  # ObjectRef -> (actor id, units)
        self._shards: list[Any] = []
        self._sizes: list[int] = []
        self._pending_adds: list[tuple[int, Any]] = []
        self._add_turn = 0
        self._turn = 0
        self._learner = None
        self._weights_ref = None

    # ---- start ---------------------------------------------------------------------------------

    def default_actors(self) -> int:
        """As many actors as the CPUs left beside the learner allow (at least 1)."""
        free = self.total.get("CPU", 1.0) - self.learners * self.learner_request["CPU"]
        per = self.actor_request["CPU"]
        return max(1, int(free // per)) if per > 0 else 1

    def start(self, actor_factory: ActorFactory, learner_factory: LearnerFactory,
              replay_factory: ReplayFactory, actors: int, shards: int = 1,
              first_actor_id: int = 0) -> None:
        """Check resources, then create learner, shards and `actors` actors (<= 0: default)."""
        actors = actors if actors > 0 else self.default_actors()
        if shards < 1:
            raise RuntimeBackendError(f"need at least one replay shard, got {shards}")
        check_resources(self.total, self.actor_request, actors, self.learner_request,
                        self.nodes, learners=self.learners)
        self._learner = LearnerGroup(learner_factory, self.learners,
                                     self.learner_request["CPU"], self.learner_request["GPU"])
        shard_cls = ray.remote(ReplayShard).options(num_cpus=0)
        self._shards = [shard_cls.remote(replay_factory, k) for k in range(shards)]
        self._sizes = [0] * shards
        self._actor_factory = actor_factory
        self.next_actor_id = first_actor_id
        for _ in range(actors):
            self._spawn()
        self.publish()

    def _spawn(self) -> int:
        request = dict(self.actor_request)
        options = {"num_cpus": request.pop("CPU"), "num_gpus": request.pop("GPU"),
                   "max_restarts": 0, "max_task_retries": 0}
        if request:
            options["resources"] = request
        actor_id = self.next_actor_id
        self.next_actor_id += 1
        handle = ray.remote(_ActorHost).options(**options).remote(self._actor_factory, actor_id)
        if self._weights_ref is not None:
            handle.set_weights.remote(self._weights_ref)
        self._actors[actor_id] = handle
        return actor_id

    def actor_handles(self) -> dict[int, Any]:
        """Live actors by id (for tests and tools that kill or inspect one)."""
        return dict(self._actors)

    def in_flight(self) -> dict[int, int]:
        """Outstanding run() calls per live actor (each at most max_in_flight)."""
        counts = dict.fromkeys(self._actors, 0)
        for actor_id, _ in self._inflight.values():
            counts[actor_id] = counts.get(actor_id, 0) + 1
        return counts

    # ---- actors --------------------------------------------------------------------------------

    def poll(self, timeout: float, remaining: int) -> list[tuple[int, Any]]:
        """Finished results as [(actor_id, result)], waiting up to `timeout` s for the first."""
        self._refill(remaining)
        if not self._inflight:
            return []
        refs = list(self._inflight)
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        if ready:
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        out = []
        for ref in ready:
            if ref not in self._inflight:  # dropped with an actor replaced meanwhile
                continue
            actor_id, _units = self._inflight.pop(ref)
            try:
                results = ray.get(ref)
            except RayActorError as err:
                self._replace(actor_id, err)
                continue
            out.extend((actor_id, r) for r in results)
        self._refill(remaining - len(out))
        return out

    def _refill(self, remaining: int) -> None:
        """Submit run() calls, evenly over actors, while fewer than `remaining` units are
        outstanding and no actor has `max_in_flight` calls."""
        outstanding = sum(units for _, units in self._inflight.values())
        counts = self.in_flight()
        order = list(self._actors.items())
        start = self._turn % max(1, len(order))
        order = order[start:] + order[:start]  # the actor after the last one served goes first
        for level in range(self.max_in_flight):
            for actor_id, handle in order:
                if outstanding >= remaining:
                    return
                if counts[actor_id] != level:
                    continue
                units = min(self.games_per_call, remaining - outstanding)
                self._inflight[handle.run.remote(units)] = (actor_id, units)
                self._turn += 1
                counts[actor_id] += 1
                outstanding += units

    def _replace(self, actor_id: int, err: Exception) -> None:
        """Forget a dead actor and its calls; start a fresh one with the current weights."""
        self.restarts += 1
        self.last_death = f"actor {actor_id}: {type(err).__name__}"
        if self.restarts > self.max_restarts:
            raise RuntimeBackendError(f"actors died {self.restarts} times (last: "
                                      f"{str(err).splitlines()[0][:200]}); giving up")
        handle = self._actors.pop(actor_id, None)
        for ref in [r for r, (a, _) in self._inflight.items() if a == actor_id]:
            del self._inflight[ref]
        if handle is not None:
            with contextlib.suppress(Exception):  # already gone: nothing to clean up
                ray.kill(handle, no_restart=True)
        self._spawn()

    def publish(self) -> int:
        """Fetch the learner's weights and broadcast them with one ray.put."""
        return self.broadcast(*self.learner_weights())

    def learner_weights(self) -> tuple[int, Any]:
        with _stateful("learner"):
            return self._learner.get_weights()

    def broadcast(self, version: int, weights: Any) -> int:
        """Send (version, weights) to every actor with one ray.put; replacements get them."""
        self._weights_ref = ray.put((version, weights))
        for handle in self._actors.values():
            handle.set_weights.remote(self._weights_ref)
        self.version = version
        return version

    # ---- replay and learner --------------------------------------------------------------------

    def add(self, batch: Mapping[str, np.ndarray], td_errors: np.ndarray | None = None) -> None:
        k = self._add_turn % len(self._shards)
        self._add_turn += 1
        self._pending_adds.append((k, self._shards[k].add.remote(dict(batch), td_errors)))

    def _settle(self) -> None:
        """Wait for queued adds so the shard sizes (and any add error) are known."""
        if self._pending_adds:
            with _stateful("replay shard"):
                sizes = ray.get([ref for _, ref in self._pending_adds])
            for (k, _), size in zip(self._pending_adds, sizes, strict=True):
                self._sizes[k] = size
            self._pending_adds.clear()

    def replay_size(self) -> int:
        self._settle()
        return sum(self._sizes)

    def train(self, steps: int, batch_size: int) -> list[dict[str, float]]:
        """`steps` learner steps; each batch goes from a shard to the learner by reference.
        With K learners each rank gets its own batch_size/K records (from its own shard)."""
        self._settle()
        k = len(self._learner)
        if batch_size % k:
            raise RuntimeBackendError(f"batch_size {batch_size} does not split evenly over "
                                      f"{k} learners")
        refs = []
        for _ in range(steps):
            samples = [self._shards[choose_shard(self._sizes, self.rng)].sample.remote(
                batch_size // k) for _ in range(k)]
            refs.append(self._learner.step(samples))
        with _stateful("learner or a replay shard"):
            flat = ray.get([ref for step in refs for ref in step])
        return [LearnerGroup.mean_metrics(flat[i * k:(i + 1) * k]) for i in range(steps)]

    def train_prioritized(self, steps: int, batch_size: int) -> list[dict[str, float]]:
        """`train` on `sample_indexed` batches; each rank's metrics bring back `indices` and
        `td_errors` [B/K], sent (without waiting) to the shard the batch came from as new
        priorities. Steps are pipelined, so a batch's priorities are updated after all
        `steps` samples were drawn: at most `steps` updates late."""
        self._settle()
        k = len(self._learner)
        if batch_size % k:
            raise RuntimeBackendError(f"batch_size {batch_size} does not split evenly over "
                                      f"{k} learners")
        plan = []
        for _ in range(steps):
            shards = [choose_shard(self._sizes, self.rng) for _ in range(k)]
            samples = [self._shards[s].sample_indexed.remote(batch_size // k) for s in shards]
            plan.append((shards, self._learner.step(samples)))
        metrics = []
        for shards, refs in plan:
            with _stateful("learner or a replay shard"):
                per_rank = ray.get(refs)
            for s, m in zip(shards, per_rank, strict=True):
                self._shards[s].update_priorities.remote(m.pop("indices"), m.pop("td_errors"))
            metrics.append(LearnerGroup.mean_metrics(per_rank))
        return metrics

    def learner_state(self) -> dict[str, Any]:
        with _stateful("learner"):
            learner = self._learner.state_dict()
        return {"learner": learner,
                "add_turn": self._add_turn, "rng": self.rng.bit_generator.state}

    def load_learner_state(self, state: dict[str, Any]) -> None:
        with _stateful("learner"):
            self._learner.load_state_dict(state["learner"])
        self._add_turn = int(state["add_turn"])
        self.rng.bit_generator.state = state["rng"]

    def save_replay(self, directory: str | Path) -> None:
        """Each shard writes RUN/.../shard-K/replay.npz itself (the driver must share the
        filesystem with the shards: true on one machine; on a cluster use a shared path)."""
        self._settle()
        with _stateful("replay shard"):
            ray.get([s.save.remote(str(directory)) for s in self._shards])

    def load_replay(self, directory: str | Path) -> None:
        with _stateful("replay shard"):
            self._sizes = ray.get([s.load.remote(str(directory)) for s in self._shards])

    def close(self) -> None:
        """Kill everything this backend started; shut Ray down only if we started it."""
        handles = [*self._actors.values(), *self._shards]
        if self._learner is not None:
            handles.extend(self._learner.handles())
        for handle in handles:
            with contextlib.suppress(Exception):  # already dead
                ray.kill(handle, no_restart=True)
        self._actors.clear()
        self._inflight.clear()
        self._shards = []
        self._learner = None
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
            self._owns_ray = False
