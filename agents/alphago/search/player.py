"""What GTP, the GUI and the arena see of a Go engine: the Player protocol.

A Player chooses moves for a Position; it may keep a search tree between calls, keyed on the
position it is given, but the game state belongs to the caller. Limits come per call, so the
caller's time management (GTP time_settings/time_left) decides how long each move may take.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from envs.go import PASS, Position, dead_stones, fills_own_eye
from envs.go.playout import make_rng


@dataclass(frozen=True)
class SearchLimits:
    """Stop a search at whichever comes first (None: no limit of that kind)."""

    visits: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class MoveInfo:
    """One candidate move as analysis shows it (Leela Zero's lz-analyze fields, KataGo's
    scoreLead).

    winrate, prior and lcb are probabilities for the player to move, in [0, 1]. score_lead is
    that player's expected final area margin in points after the move, komi included (the
    average of the search's leaves under it), None when the evaluator gives no score."""

    move: int
    visits: int
    winrate: float
    prior: float
    lcb: float
    pv: tuple[int, ...] = ()
    score_lead: float | None = None


@dataclass(frozen=True)
class Decision:
    """A chosen move, the player's win-rate estimate for the side to move, and the candidates
    it weighed (best first)."""

    move: int
    winrate: float | None = None
    candidates: tuple[MoveInfo, ...] = field(default=())


class Player(Protocol):
    name: str

    def genmove(self, position: Position, limits: SearchLimits) -> Decision:
        """Choose a move (a point, PASS or RESIGN) for position.to_play."""
        ...

    def analyze(self, position: Position, report: Callable[[list[MoveInfo]], None],
                stop: threading.Event, interval: float) -> None:
        """Search until `stop` is set, calling `report` with the candidates every `interval`
        seconds."""
        ...

    def dead_stones(self, position: Position) -> np.ndarray:
        """Points of the stones this player thinks are dead (for final_score and the GUI)."""
        ...

    def clear(self) -> None:
        """Forget everything about the previous game."""
        ...


@runtime_checkable
class TreeSearch(Protocol):
    """What GTP analysis, pondering and the GUI use of a player's `mcts`: mcts.MCTS and
    compiled.CompiledMCTS. `tree` is a tree.Tree whose `root` node holds the candidates."""

    config: Any
    tree: Any
    root: int
    simulations: int

    def search(self, position: Position, limits: SearchLimits,
               stop: threading.Event | None = None,
               report: Callable[[list[MoveInfo]], None] | None = None,
               report_every: float = 1.0) -> list[MoveInfo]: ...

    def candidates(self) -> list[MoveInfo]: ...

    def choose(self, position: Position, candidates: list[MoveInfo]) -> Decision: ...

    def ownership(self) -> np.ndarray | None: ...

    def ownership_stdev(self) -> np.ndarray | None: ...

    def clear(self) -> None: ...


class RandomPlayer:
    """Uniformly random legal moves that do not fill the mover's own single-point eyes: the
    weakest sensible opponent, a baseline for the arena and a fast player for tests."""

    name = "random"

    def __init__(self, seed: int = 0, playouts_for_status: int = 200):
        self._rng = np.random.default_rng(seed)
        self._playouts = playouts_for_status

    def genmove(self, position: Position, limits: SearchLimits | None = None) -> Decision:
        legal = np.flatnonzero(position.legal_moves()[:-1])
        legal = [int(p) for p in legal if not fills_own_eye(position, int(p), position.to_play)]
        if not legal:
            return Decision(PASS)
        return Decision(int(self._rng.choice(legal)))

    def analyze(self, position: Position, report: Callable[[list[MoveInfo]], None],
                stop: threading.Event, interval: float) -> None:
        report([])
        stop.wait()

    def dead_stones(self, position: Position) -> np.ndarray:
        return dead_stones(position, self._playouts, make_rng(int(self._rng.integers(2**62))))

    def clear(self) -> None:
        pass

