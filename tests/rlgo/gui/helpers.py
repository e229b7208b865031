"""Test helpers: a Player whose answers the test scripts."""

from __future__ import annotations

import threading

import numpy as np

from agents.alphago.search.player import Decision, MoveInfo, SearchLimits
from envs.go import PASS, Position


class ScriptedPlayer:
    """A Player whose moves, win rate and dead stones the test decides. With `gate`, genmove
    waits until the gate is set (an engine that is still thinking)."""

    name = "scripted"

    def __init__(self, moves=(), winrate=None, dead=(), gate: threading.Event | None = None,
                 error: Exception | None = None):
        self.moves = list(moves)
        self.winrate = winrate
        self.dead = list(dead)
        self.gate = gate
        self.error = error
        self.asked: list[Position] = []

    def genmove(self, position: Position, limits: SearchLimits) -> Decision:
        self.asked.append(position)
        if self.gate is not None:
            self.gate.wait(10)
        if self.error is not None:
            raise self.error
        move = self.moves.pop(0) if self.moves else PASS
        return Decision(move, self.winrate)

    def analyze(self, position, report, stop, interval):
        report([])
        stop.wait()

    def dead_stones(self, position: Position) -> np.ndarray:
        return np.array(self.dead, dtype=np.int64)

    def clear(self) -> None:
        pass


def candidates_for(position: Position, count: int = 5) -> list[MoveInfo]:
    """`count` legal moves of `position` as candidates, best first; the best's win rate (for
    the player to move) is 0.40 + move_number / 100, so each position's is its own."""
    legal = [int(p) for p in np.flatnonzero(position.legal_moves()) if p >= 0][:count]
    best = 0.40 + position.move_number / 100
    return [MoveInfo(p, 1000 - 100 * i, best - 0.02 * i, 0.1, best - 0.05)
            for i, p in enumerate(legal)]


class ViewPlayer(ScriptedPlayer):
    """A ScriptedPlayer whose moves and analysis come with candidates (candidates_for): the
    engine's view of each position the test can predict. `analysed` lists the positions
    analysed."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.analysed: list[Position] = []

    def genmove(self, position: Position, limits: SearchLimits) -> Decision:
        decision = super().genmove(position, limits)
        candidates = tuple(candidates_for(position))
        return Decision(decision.move, candidates[0].winrate, candidates)

    def analyze(self, position, report, stop, interval):
        self.analysed.append(position)
        report(candidates_for(position))
        stop.wait()
