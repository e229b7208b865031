"""Pondering: the engine thinks on the opponent's time (`rlgo go gtp --ponder`).

After a command, when the engine has played (its colour is the last genmove's) and the
opponent is to move, the player searches the current position in the background. It is the
lz-analyze machinery (analysis.Analysis: a thread around Player.analyze, stopped by an Event)
with nothing written: the point is the tree. An MCTS player keeps it, and when the opponent's
move arrives the next search starts from that move's subtree (MCTS tree reuse), so the reply's
root has the pondered visits on top of its own.

Any input line stops the pondering before the command runs (GtpEngine.handle_line), so
answers are as prompt as without it; `quit` and EOF stop it for good. The search checks its
stop Event once per batch of simulations, milliseconds apart.

A ponder that ran for long would fill the tree past MCTS's reset bar (half of max_nodes or
max_edges, when the next search starts afresh and the pondering is lost), so it stops by itself
once the tree holds FULL of that bar, leaving the reply room to search.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.alphago.search.player import Player, TreeSearch
from envs.go import Position

from .analysis import Analysis

FULL = 0.75  # of the tree's reset bar (MCTS._set_root) at which pondering stops by itself
CHECK_EVERY = 0.25  # seconds between checks of the tree's size


class Ponder:
    """Background search of positions where the opponent is to move; one at a time."""

    def __init__(self, log: Callable[[str], None]):
        self._log = log
        self._running: Analysis | None = None

    @property
    def running(self) -> bool:
        """Whether a ponder search was started and not stopped (it may have stopped by
        itself on a full tree)."""
        return self._running is not None

    def consider(self, player: Player, position: Position, engine_color: int | None) -> bool:
        """Start pondering `position` if it is the opponent's turn there (the engine's colour
        known, the game not over); True if started. Stops a ponder still running."""
        self.stop()
        if engine_color is None or position.to_play == engine_color or position.is_game_over():
            return False
        self._running = Analysis(player, position, CHECK_EVERY, _discard, self._log,
                                 line=_silent, enough=lambda: tree_full(player))
        self._running.start()
        return True

    def stop(self) -> None:
        """Stop the search and wait for it (one batch of simulations at most)."""
        running, self._running = self._running, None
        if running is not None:
            running.stop()


def tree_full(player: Player) -> bool:
    """Whether the player's search tree is FULL of the way to MCTS's reset bar (False for a
    player without an MCTS): a background search should stop there (the GUI's too)."""
    mcts = getattr(player, "mcts", None)
    if not isinstance(mcts, TreeSearch):
        return False
    tree, config = mcts.tree, mcts.config
    return (tree.n_nodes >= FULL * (config.max_nodes // 2)
            or tree.n_edges >= FULL * (config.max_edges // 2))


def _discard(text: str) -> None:
    """Pondering writes nothing: GTP allows no output between responses."""


def _silent(candidates) -> str:
    return ""
