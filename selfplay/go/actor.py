"""A Go self-play actor: games with MCTS over the best network, returned as training records.

The actor is a plain class (the runtime's Actor protocol), built inside a Ray worker from
picklable settings. It plays `run(n)`'s n games in lockstep, up to `games_in_parallel` at a
time (selfplay/go/search_games.py), so the network sees full batches: 8 games x 8 leaves is one
forward pass of 64. Exploration is AlphaGo Zero's: Dirichlet noise on the root priors and moves
drawn in proportion to visits for the first `temperature_moves` moves; no resignation (a
resigned game teaches the ownership and score heads nothing).

What it plays with is what the driver last broadcast (set_weights): a play net's payload
(networks.network_payload) drives a PlayNetEvaluator, mixed with rollouts by lambda (`mix`);
before any play net exists (weights None) it bootstraps with AlphaGo's route, the shipped SL
policy net's priors and heavy rollouts (`bootstrap="sl"`, where an SL policy ships for the
board size), or with the network-free engine (`bootstrap="rollouts"`, and "sl" elsewhere).
Every game says which weight version played it. An actor given a GPU (runtime.actor_gpus, a
share such as 0.25 lets four actors use one) runs its network there: GPU actors, each batching
its own lockstep games, rather than one inference server for all.

One game's records are SearchGame.examples() (selfplay/go/learner.py lists the fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.alphago.evaluators.protocol import Evaluator
from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.search.mcts import MCTS, MCTSConfig
from envs.go import DEFAULT_KOMI, Rules
from selfplay.go.search_games import SearchGame, play_lockstep
from selfplay.replay import ReplayBuffer, ReplayStorage, UniformSampler

BOOTSTRAPS = ("sl", "rollouts")


@dataclass(frozen=True)
class GoActorSettings:
    """How an actor plays (a picklable subset of SelfPlayConfig)."""

    size: int = 9
    komi: float = DEFAULT_KOMI
    visits: int = 64
    max_moves: int = 0            # 0: 3 * size * size, then the game is scored as it stands
    games_in_parallel: int = 8    # games searched in lockstep (one network batch per round)
    leaves: int = 8               # leaves per game per round (MCTS batch_size)
    c_puct: float = 1.5
    dirichlet_alpha: float = 0.3
    dirichlet_weight: float = 0.25
    temperature: float = 1.0
    temperature_moves: int = 8
    mix: float = 0.0              # lambda: the rollouts' share of a leaf's value
    heavy_playouts: bool = True
    planes: str = "simple"        # the play net's plane set (the records' input planes)
    bootstrap: str = "sl"         # what plays before the first play net: sl | rollouts
    seed: int = 0

    def search_config(self, noise: bool = True) -> MCTSConfig:
        """The MCTS settings of a self-play game (noise=False: a gating match's, where only
        the first moves' temperature varies the games)."""
        nodes = 8 * self.visits + 64  # one search adds <= visits nodes; the tree resets at half
        return MCTSConfig(c_puct=self.c_puct, batch_size=self.leaves, resign_threshold=0.0,
                          rave_equivalence=1000.0 if self.mix > 0 else 0.0,
                          dirichlet_alpha=self.dirichlet_alpha if noise else 0.0,
                          dirichlet_weight=self.dirichlet_weight,
                          temperature=self.temperature,
                          temperature_moves=self.temperature_moves,
                          max_nodes=nodes, max_edges=nodes * (self.size ** 2 + 1))


def replay_spec(size: int, planes: str = "simple") -> dict[str, tuple[tuple[int, ...], Any]]:
    """The replay fields of one training example (selfplay/go/learner.py)."""
    from agents.alphago.nets.features import num_planes

    n = size * size
    return {"planes": ((num_planes(planes, player_colour=True), size, size), np.uint8),
            "policy": ((n + 1,), np.float32), "z": ((), np.float32),
            "ownership": ((n,), np.int8), "score": ((), np.float32)}


def make_replay(size: int, capacity: int, seed: int, shard: int,
                planes: str = "simple") -> ReplayBuffer:
    """One replay shard of Go examples, sampled uniformly (its RNG seeded by seed and shard):
    the newest `capacity` positions, the learner's sliding window."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7919, shard]))
    return ReplayBuffer(ReplayStorage(replay_spec(size, planes), capacity), UniformSampler(rng))


def make_evaluator(settings: GoActorSettings, weights: Any, seed: int) -> Evaluator:
    """What plays with `weights`: a play net payload, or None (the bootstrap)."""
    if weights is not None:
        from agents.alphago.evaluators.playnet import play_evaluator

        return play_evaluator(weights, mix=settings.mix, seed=seed,
                              heavy=settings.heavy_playouts, device=_device())
    from agents.alphago.evaluators.apv import NetworkEvaluator
    from agents.alphago.nets.networks import load_network

    rollouts = RolloutEvaluator(seed=seed, heavy=settings.heavy_playouts, threads=1)
    path = sl_policy(settings)
    if path is None:
        return rollouts
    return NetworkEvaluator(load_network(path, "policy", settings.size), None, rollouts, mix=1.0)


def sl_policy(settings: GoActorSettings) -> Path | None:
    """The SL policy the "sl" bootstrap plays with: the shipped one for the board size (None
    for "rollouts", or where none ships: the network-free engine plays then)."""
    from agents.alphago.nets.networks import default_weights

    return default_weights("policy", settings.size) if settings.bootstrap == "sl" else None


def _device() -> str:
    """Where an actor's network runs: the GPU its Ray worker was given (runtime.actor_gpus;
    Ray hides the GPUs from a worker that has none), else the CPU."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class GoSelfPlayActor:
    """The Actor protocol for Go: `run(n)` plays n games and returns their records.

    Each result: {"actor_id", "game" (this actor's game counter), "moves", "result",
    "examples", "winrates", "weights_version", "positions"}.
    """

    def __init__(self, settings: GoActorSettings, actor_id: int) -> None:
        if settings.bootstrap not in BOOTSTRAPS:
            raise ValueError(f"bootstrap must be one of {BOOTSTRAPS}, got {settings.bootstrap!r}")
        self.settings = settings
        self.actor_id = actor_id
        self.seed = int(np.random.SeedSequence([settings.seed, actor_id]).generate_state(1)[0])
        self.rng = np.random.default_rng(self.seed)
        self.rules = Rules(size=settings.size, komi=settings.komi)
        self.version = -1
        self.versions_seen: list[int] = []
        self.evaluator: Evaluator | None = None
        self.games = 0

    def set_weights(self, version: int, weights: Any) -> None:
        """Play from now on with `weights` (a play net payload, or None: the bootstrap)."""
        old, self.evaluator = self.evaluator, make_evaluator(self.settings, weights, self.seed)
        if old is not None and hasattr(old, "close"):
            old.close()
        self.version = int(version)
        self.versions_seen.append(self.version)

    def run(self, n: int) -> list[dict[str, Any]]:
        if self.evaluator is None:
            self.set_weights(-1, None)
        s = self.settings
        config = s.search_config()

        def start(_: int) -> SearchGame:
            mcts = MCTS(self.evaluator, config, np.random.default_rng(self.rng.integers(2**63)))
            return SearchGame(self.rules, mcts, mcts, s.max_moves)

        out = []
        for game in play_lockstep(start, n, s.games_in_parallel, s.visits):
            self.games += 1
            examples = game.examples(s.planes)
            out.append({"actor_id": self.actor_id, "game": self.games,
                        "weights_version": self.version, "moves": game.position.moves(),
                        "result": game.position.result(), "examples": examples,
                        "winrates": game.move_comments(), "positions": len(examples["z"])})
        return out
