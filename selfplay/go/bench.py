"""`rlgo bench selfplay`: self-play games/s and positions/s on Ray, by number of actors and nodes.

Three settings, each timed after every actor has finished a warm-up game (so worker start-up,
imports and numba's cache load are not counted):

    1 actor, 2 actors           embedded Ray on this machine
    2 actors on 2 nodes         a simulated two-node cluster (ray.cluster_utils.Cluster, one
                                CPU per node), so each actor runs on its own node

The learner is a no-op here: this measures the actors and the runtime around them (polling,
results through the object store), not training. `run()` returns the figures as a dict:
games_per_s_1_actor, games_per_s_2_actors, games_per_s_2_nodes and the positions_per_s_* twins.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray

from envs.go import DEFAULT_KOMI
from selfplay.go.actor import GoActorSettings, GoSelfPlayActor, make_replay
from selfplay.runtime.connect import loopback_only
from selfplay.runtime.ray_backend import RayBackend


@dataclass(frozen=True)
class SelfPlayBenchConfig:
    size: int = 9
    komi: float = DEFAULT_KOMI
    visits: int = 16
    games: int = 8              # timed games per setting (after one warm-up game per actor)
    two_nodes: bool = True      # also time 2 actors on a simulated two-node cluster
    seed: int = 0


class NullLearner:
    """A learner that learns nothing (the bench times the actors)."""

    def step(self, batch) -> dict[str, float]:
        return {}

    def get_weights(self) -> tuple[int, Any]:
        return 0, {}

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def measure(backend: RayBackend, settings: GoActorSettings, actors: int,
            games: int) -> tuple[float, float]:
    """(games/s, positions/s) of `actors` actors on `backend`, after a warm-up game each."""
    backend.start(functools.partial(GoSelfPlayActor, settings), NullLearner,
                  functools.partial(make_replay, settings.size, 1, settings.seed),
                  actors=actors)
    warmed: set[int] = set()
    while len(warmed) < actors:
        warmed.update(actor_id for actor_id, _ in backend.poll(1.0, actors))
    start = time.perf_counter()
    done, positions = 0, 0
    while done < games:
        for _, game in backend.poll(1.0, games - done):
            done += 1
            positions += game["positions"]
    elapsed = time.perf_counter() - start
    return done / elapsed, positions / elapsed


@contextlib.contextmanager
def two_node_cluster(cpus_per_node: int = 1) -> Iterator[str]:
    """A simulated two-node Ray cluster on loopback; yields its address. The caller connects
    (RayBackend(address=...)) and must disconnect (ray.shutdown) before the block ends."""
    from ray.cluster_utils import Cluster

    with loopback_only():
        cluster = Cluster(initialize_head=True, head_node_args={
            "num_cpus": cpus_per_node, "num_gpus": 0, "node_ip_address": "127.0.0.1",
            "include_dashboard": False})
        cluster.add_node(num_cpus=cpus_per_node, num_gpus=0, node_ip_address="127.0.0.1")
        cluster.wait_for_nodes()
    try:
        yield cluster.address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()


def run(config: SelfPlayBenchConfig | None = None, json_path: str | None = None,
        print_table: bool = True) -> dict[str, float]:
    """Time the three settings; print a table, optionally write JSON; return the figures."""
    config = config or SelfPlayBenchConfig()
    if ray.is_initialized():
        raise RuntimeError("bench selfplay starts its own Ray instances; run it in a process "
                           "that is not connected to Ray")
    settings = GoActorSettings(size=config.size, komi=config.komi, visits=config.visits,
                               seed=config.seed)
    figures: dict[str, float] = {}
    for actors, key in ((1, "1_actor"), (2, "2_actors")):
        backend = RayBackend(actor_cpus=1, learner_cpus=0)  # embedded, all cores
        try:
            games, positions = measure(backend, settings, actors, config.games)
        finally:
            backend.close()  # shuts the embedded Ray down: it owns it
        figures[f"games_per_s_{key}"], figures[f"positions_per_s_{key}"] = games, positions
    if config.two_nodes:
        with two_node_cluster() as address:
            backend = RayBackend(address=address, actor_cpus=1, learner_cpus=0)
            try:
                nodes = len(backend.nodes)
                games, positions = measure(backend, settings, 2, config.games)
            finally:
                backend.close()
        figures["games_per_s_2_nodes"], figures["positions_per_s_2_nodes"] = games, positions
        figures["nodes"] = nodes
    if print_table:
        print(f"self-play {config.size}x{config.size}, {config.visits} visits per move, "
              f"{config.games} timed games per setting")
        for key, value in figures.items():
            print(f"  {key:<28} {value:10.2f}")
    if json_path:
        Path(json_path).write_text(json.dumps(figures, indent=2) + "\n")
    return figures
