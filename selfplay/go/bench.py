"""`rlgo bench selfplay`: self-play games/s and positions/s on Ray, by number of actors and nodes.

The actors are the closed loop's (selfplay/go/loop.py): GoSelfPlayActor playing with a play
net (MCTS over its policy and value, `games_in_parallel` games in lockstep so each network call
is a batch), at SelfPlayConfig's visits and lockstep width unless the bench config says
otherwise. The net is what version 0 of a `bootstrap: scratch` run plays with
(loop.initial_network: the shipped play net for the size if there is one, else a random one of
the default shape); playing strength does not matter here, only the work per move.

Three settings, each timed after every actor has played a warm-up game (so worker start-up,
imports, numba's cache load and the net's first forward pass are not counted):

    1 actor, 2 actors           embedded Ray on this machine
    2 actors on 2 nodes         a simulated two-node cluster (ray.cluster_utils.Cluster, one
                                CPU per node), so each actor runs on its own node

Each run() call plays `games_in_parallel` games (games_per_call), as in a real run. The learner
trains nothing (FixedWeights): this measures the actors and the runtime around them (polling,
results through the object store), not training. `run()` returns the figures as a dict:
games_per_s_1_actor, games_per_s_2_actors, games_per_s_2_nodes, the positions_per_s_* twins,
positions_per_s_ratio (2 actors over 1: the scaling on this machine) and `gpu` (the CUDA
device's name, None without one; the actors themselves play on the CPU).
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
from selfplay.go.loop import SelfPlayConfig, initial_network
from selfplay.runtime.connect import loopback_only
from selfplay.runtime.ray_backend import RayBackend


@dataclass(frozen=True)
class SelfPlayBenchConfig:
    size: int = 9
    komi: float = DEFAULT_KOMI
    visits: int = SelfPlayConfig.visits                  # MCTS simulations per move
    games_in_parallel: int = SelfPlayConfig.games_in_parallel  # lockstep games per run() call
    leaves: int = SelfPlayConfig.leaves                  # leaves per game per round
    games: int = 16             # timed games per setting (after one warm-up game per actor)
    two_nodes: bool = True      # also time 2 actors on a simulated two-node cluster
    seed: int = 0

    def __post_init__(self) -> None:
        if self.games < 1:
            raise ValueError(f"games must be at least 1, got {self.games}")
        self.selfplay_config()  # a bad size, visits, ... is refused where the config loads

    def selfplay_config(self) -> SelfPlayConfig:
        """The run whose actors are timed (a range error here names the bad key)."""
        return SelfPlayConfig(size=self.size, komi=self.komi, visits=self.visits,
                              games_in_parallel=self.games_in_parallel, leaves=self.leaves,
                              games_per_call=self.games_in_parallel, bootstrap="scratch",
                              seed=self.seed)


class NullLearner:
    """A learner that learns nothing and has no weights: the actors keep what they were
    given (their bootstrap evaluator, or what the driver broadcast)."""

    def step(self, batch) -> dict[str, float]:
        return {}

    def get_weights(self) -> tuple[int, Any]:
        return 0, None

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class FixedWeights(NullLearner):
    """A learner that learns nothing and always publishes one play net's payload, so the
    backend's first publish (in start) already hands every actor the net."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    def get_weights(self) -> tuple[int, Any]:
        return 0, self.payload


def measure(backend: RayBackend, settings: GoActorSettings, payload: dict[str, Any],
            actors: int, games: int) -> tuple[float, float]:
    """(games/s, positions/s) of `actors` actors playing with the play net `payload` on
    `backend`, after a warm-up game each."""
    backend.start(functools.partial(GoSelfPlayActor, settings),
                  functools.partial(FixedWeights, payload),
                  functools.partial(make_replay, settings.size, 1, settings.seed,
                                    planes=settings.planes),
                  actors=actors)
    backend.broadcast(0, payload)  # as the loop does; start's publish already sent the same
    # one game each, straight to the actors (the backend's calls are games_per_call games):
    # Ray runs an actor's calls in order, so the net is in place before it
    ray.get([handle.run.remote(1) for handle in backend.actor_handles().values()])
    start = time.perf_counter()
    done, positions = 0, 0
    while done < games:
        for _, game in backend.poll(1.0, games - done):
            done += 1
            positions += game["positions"]
    elapsed = time.perf_counter() - start
    return done / elapsed, positions / elapsed


def gpu_name() -> str | None:
    """This machine's CUDA device, or None (recorded with the figures; the actors play on
    the CPU either way)."""
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


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
        print_table: bool = True) -> dict[str, Any]:
    """Time the three settings; print a table, optionally write JSON; return the figures."""
    config = config or SelfPlayBenchConfig()
    if ray.is_initialized():
        raise RuntimeError("bench selfplay starts its own Ray instances; run it in a process "
                           "that is not connected to Ray")
    run_config = config.selfplay_config()
    settings = run_config.actor_settings()
    payload, _ = initial_network(run_config)
    calls = dict(actor_cpus=1, learner_cpus=0, games_per_call=run_config.games_per_call)
    figures: dict[str, Any] = {}
    for actors, key in ((1, "1_actor"), (2, "2_actors")):
        backend = RayBackend(**calls)  # embedded, all cores
        try:
            games, positions = measure(backend, settings, payload, actors, config.games)
        finally:
            backend.close()  # shuts the embedded Ray down: it owns it
        figures[f"games_per_s_{key}"], figures[f"positions_per_s_{key}"] = games, positions
    figures["positions_per_s_ratio"] = (figures["positions_per_s_2_actors"]
                                        / figures["positions_per_s_1_actor"])
    if config.two_nodes:
        with two_node_cluster() as address:
            backend = RayBackend(address=address, **calls)
            try:
                nodes = len(backend.nodes)
                games, positions = measure(backend, settings, payload, 2, config.games)
            finally:
                backend.close()
        figures["games_per_s_2_nodes"], figures["positions_per_s_2_nodes"] = games, positions
        figures["nodes"] = nodes
    figures["gpu"] = gpu_name()
    if print_table:
        net = payload["spec"]
        print(f"self-play {config.size}x{config.size} with a play net ({net['layers']} blocks "
              f"x {net['filters']} filters), {config.visits} visits per move, "
              f"{config.games_in_parallel} games in lockstep, {config.games} timed games per "
              f"setting; GPU: {figures['gpu'] or 'none'}")
        for key, value in figures.items():
            if isinstance(value, (int, float)):
                print(f"  {key:<28} {value:10.2f}")
    if json_path:
        Path(json_path).write_text(json.dumps(figures, indent=2) + "\n")
    return figures
