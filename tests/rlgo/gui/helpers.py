"""Test helpers: a Player whose answers the test scripts."""

from __future__ import annotations

import threading

import numpy as np

from agents.alphago.search.player import Decision, SearchLimits
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
