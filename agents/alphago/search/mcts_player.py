"""A Player (see player.py) that thinks with MCTS over any Evaluator.

Without networks the evaluator is RolloutEvaluator (compiled Go-knowledge playouts with
heuristic priors): the engine's fallback, and already a real opponent on 9x9.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from agents.alphago.evaluators.protocol import Evaluator
from agents.alphago.search.compiled import make_search
from agents.alphago.search.mcts import MCTSConfig, tree_megabytes
from agents.alphago.search.player import Decision, MoveInfo, SearchLimits
from envs.go import Position, dead_stones
from envs.go.playout import make_rng


class MCTSPlayer:
    """genmove = search within the limits, then MCTS.choose (passing and resigning rules).

    The tree is kept between moves and reused when the next position continues the game.
    `status_playouts` random playouts decide which stones are dead at the end of a game.
    """

    def __init__(self, evaluator: Evaluator, config: MCTSConfig | None = None,
                 seed: int = 0, name: str = "rlgo-mcts", status_playouts: int = 400,
                 log: Callable[[str], None] | None = None):
        self.name = name
        self.mcts = make_search(evaluator, config, np.random.default_rng(seed))
        self._log = log  # told once when the search tree fills up
        self._status_playouts = status_playouts
        self._status_rng = make_rng(seed + 1)
        self._lock = threading.Lock()  # one search at a time (GTP analysis runs in a thread)

    def genmove(self, position: Position, limits: SearchLimits,
                stop: threading.Event | None = None) -> Decision:
        """Search within `limits`, or until `stop` is set (a GUI that quits mid-move)."""
        with self._lock:
            candidates = self.mcts.search(position, limits, stop=stop)
            self._tell_if_full()
            return self.mcts.choose(position, candidates)

    def _tell_if_full(self) -> None:
        tree, config = self.mcts.tree, self.mcts.config
        if self._log is not None and (tree.n_nodes >= config.max_nodes
                                      or tree.n_edges >= config.max_edges):
            megabytes = tree_megabytes(config)
            shown = f"{megabytes:,.0f}" if megabytes >= 10 else f"{megabytes:.2g}"
            self._log(f"rlgo: the search tree is full ({shown} MB): the search went on "
                      f"without growing it; --max-memory MB allows more")
            self._log = None

    def analyze(self, position: Position, report: Callable[[list[MoveInfo]], None],
                stop: threading.Event, interval: float) -> None:
        with self._lock:
            final = self.mcts.search(position, SearchLimits(), stop=stop, report=report,
                                     report_every=interval)
        report(final)

    def dead_stones(self, position: Position) -> np.ndarray:
        return dead_stones(position, self._status_playouts, self._status_rng)

    def clear(self) -> None:
        with self._lock:
            self.mcts.clear()
