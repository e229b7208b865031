"""The composition root for Go players: a player kind's name -> a ready Player.

The GTP engine, the GUI and the arena all build their players here, so a new kind of player
(MCTS with rollouts, the network players) is one entry in BUILDERS: a function taking the board
size, a seed and that kind's keyword options and returning an object with the Player protocol
(agents.alphago.player).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.alphago.mcts import MCTSConfig
from agents.alphago.mcts_player import MCTSPlayer
from agents.alphago.player import Player, RandomPlayer
from agents.alphago.rollout import RolloutEvaluator

from .config import ConfigError

Builder = Callable[..., Player]  # (size: int, seed: int, **options) -> Player


def _random(size: int, seed: int, **options: Any) -> Player:
    return RandomPlayer(seed=seed, **options)


def _mcts(size: int, seed: int, config: MCTSConfig | None = None, threads: int | None = None,
          heavy: bool = True) -> Player:
    """The network-free engine: MCTS over compiled rollouts on `threads` cores (default all)."""
    evaluator = RolloutEvaluator(seed=seed, heavy=heavy, threads=threads)
    return MCTSPlayer(evaluator, config, seed=seed)


BUILDERS: dict[str, Builder] = {
    "mcts": _mcts,
    "random": _random,
}


def player_kinds() -> tuple[str, ...]:
    """The names build_player accepts (for --help and error messages)."""
    return tuple(BUILDERS)


def build_player(kind: str, size: int, seed: int = 0, **options: Any) -> Player:
    """A new `kind` player for `size`x`size` boards. ConfigError for an unknown kind or
    options the kind does not take."""
    builder = BUILDERS.get(kind)
    if builder is None:
        raise ConfigError(f"unknown player {kind!r} (choose from: {', '.join(BUILDERS)})")
    try:
        return builder(size, seed, **options)
    except TypeError as err:
        raise ConfigError(f"bad options for player {kind!r}: {err}") from None
