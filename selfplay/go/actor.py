"""A Go self-play actor: whole games with MCTS, returned as records and training examples.

The actor is a plain class (the runtime's Actor protocol), built inside a Ray worker from
picklable settings; this module imports neither torch nor the driver, so a worker starts
quickly. The player is the network-free engine (MCTS over compiled rollouts) with AlphaGo
Zero's self-play exploration: Dirichlet noise on the root priors and moves sampled in
proportion to visits for the first `temperature_moves` moves. Once networks exist, the
weights an actor receives will drive its evaluator; today it records their version, so every
game says which learner step it was played after.

One game's training examples, T positions (one per move played):

    board    int8    [T, size*size]     EMPTY 0 / BLACK 1 / WHITE 2, row 0 at the top
    to_play  int8    [T]                BLACK or WHITE
    policy   float32 [T, size*size+1]   MCTS visit distribution, pass last (sums to 1)
    z        float32 [T]                final outcome for `to_play`: +1 win, -1 loss, 0 draw
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.search.mcts import MCTSConfig
from agents.alphago.search.mcts_player import MCTSPlayer
from agents.alphago.search.player import SearchLimits
from envs.go import DEFAULT_KOMI, PASS, RESIGN, Position, Rules, winner_of
from selfplay.replay import ReplayBuffer, ReplayStorage, UniformSampler


@dataclass(frozen=True)
class GoActorSettings:
    """How an actor plays (a picklable subset of SelfPlayConfig)."""

    size: int = 9
    komi: float = DEFAULT_KOMI
    visits: int = 32
    max_moves: int = 0            # 0: 3 * size * size, then the game is scored as it stands
    dirichlet_alpha: float = 0.3
    dirichlet_weight: float = 0.25
    temperature: float = 1.0
    temperature_moves: int = 8
    c_puct: float = 1.0
    heavy_playouts: bool = True
    resign_threshold: float = 0.0  # 0: never resign (resigned games teach less)
    seed: int = 0


def replay_spec(size: int) -> dict[str, tuple[tuple[int, ...], Any]]:
    """The replay fields of one training example (see the module docstring)."""
    n = size * size
    return {"board": ((n,), np.int8), "to_play": ((), np.int8),
            "policy": ((n + 1,), np.float32), "z": ((), np.float32)}


def make_replay(size: int, capacity: int, seed: int, shard: int) -> ReplayBuffer:
    """One replay shard of Go examples, sampled uniformly (its RNG seeded by seed and shard)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7919, shard]))
    return ReplayBuffer(ReplayStorage(replay_spec(size), capacity), UniformSampler(rng))


def visit_distribution(candidates, n: int) -> np.ndarray:
    """float32 [n+1]: root visit counts normalised (pass at index n); pass=1 if none."""
    policy = np.zeros(n + 1, np.float32)
    for c in candidates:
        policy[n if c.move == PASS else c.move] += c.visits
    total = policy.sum()
    if total <= 0:
        policy[n] = 1.0
        return policy
    return policy / total


def play_game(player: MCTSPlayer, settings: GoActorSettings) -> dict[str, Any]:
    """One self-play game: {"moves": [(colour, move)], "result": "B+3", "final": Position,
    "examples": {...}} (examples as in the module docstring)."""
    rules = Rules(size=settings.size, komi=settings.komi)
    n = settings.size * settings.size
    max_moves = settings.max_moves or 3 * n
    limits = SearchLimits(visits=settings.visits)
    position = Position.new(rules)
    player.clear()
    boards, to_play, policies = [], [], []
    while not position.is_game_over() and position.move_number < max_moves:
        decision = player.genmove(position, limits)
        if decision.move == RESIGN:
            position = position.play(RESIGN)
            break
        boards.append(position.board.copy())
        to_play.append(position.to_play)
        policies.append(visit_distribution(decision.candidates, n))
        position = position.play(decision.move)
    winner = winner_of(position)
    colours = np.asarray(to_play, np.int8)
    if winner is None:
        z = np.zeros(len(colours), np.float32)
    else:
        z = np.where(colours == winner, 1.0, -1.0).astype(np.float32)
    examples = {
        "board": np.asarray(boards, np.int8).reshape(len(boards), n),
        "to_play": colours,
        "policy": np.asarray(policies, np.float32).reshape(len(policies), n + 1),
        "z": z,
    }
    return {"moves": position.moves(), "result": position.result(), "final": position,
            "examples": examples}


class GoSelfPlayActor:
    """The Actor protocol for Go: `run(n)` plays n games and returns their records.

    Each result: {"actor_id", "game" (this actor's game counter), "moves", "result",
    "examples", "weights_version", "positions"}; the final Position is dropped (its parent
    chain is large to ship), the driver rebuilds the record from the moves.
    """

    def __init__(self, settings: GoActorSettings, actor_id: int) -> None:
        self.settings = settings
        self.actor_id = actor_id
        seed = int(np.random.SeedSequence([settings.seed, actor_id]).generate_state(1)[0])
        nodes = 8 * settings.visits + 64  # one search adds <= visits nodes; reset at half
        mcts = MCTSConfig(c_puct=settings.c_puct, dirichlet_alpha=settings.dirichlet_alpha,
                          dirichlet_weight=settings.dirichlet_weight,
                          temperature=settings.temperature,
                          temperature_moves=settings.temperature_moves,
                          resign_threshold=settings.resign_threshold,
                          max_nodes=nodes, max_edges=nodes * (settings.size ** 2 + 1))
        evaluator = RolloutEvaluator(seed=seed, heavy=settings.heavy_playouts, threads=1)
        self.player = MCTSPlayer(evaluator, mcts, seed=seed, name="rlgo-selfplay")
        self.version = -1
        self.versions_seen: list[int] = []
        self.games = 0

    def set_weights(self, version: int, weights: Any) -> None:
        """Record the version (the network-free player has no use for the weights yet)."""
        self.version = int(version)
        self.versions_seen.append(self.version)

    def run(self, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            game = play_game(self.player, self.settings)
            game.pop("final")
            self.games += 1
            out.append({"actor_id": self.actor_id, "game": self.games,
                        "weights_version": self.version,
                        "positions": len(game["examples"]["z"]), **game})
        return out
