"""`rlgo bench go`: speed of the Go rules core.

Random playouts per second on one core (9x9 and 19x19), Position.play() and legal_moves()
calls per second, and cold start: the wall time for a new Python process to import the engine
and finish its first playout, with numba's on-disk cache warm (what a GTP frontend waits for).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

from envs.go import PASS, Position, Rules
from envs.go.playout import make_rng, playout_scores

from .report import emit, rate


@dataclass(frozen=True)
class GoBenchConfig:
    """seconds: length of one timing round; rounds: rounds per figure (the median is kept)."""

    seconds: float = 2.0
    rounds: int = 3
    cold_start_runs: int = 3
    seed: int = 0


_COLD_START = (
    "from envs.go import Position, Rules\n"
    "from envs.go.playout import make_rng, playout_scores\n"
    "playout_scores(Position.new(Rules(size=9)), 1, make_rng(0))\n"
)


def _random_game(size: int, rng: np.random.Generator) -> list[int]:
    """Moves of one random game (for replaying through Position.play)."""
    pos = Position.new(Rules(size=size, ko="simple"))
    moves = []
    while not pos.is_game_over() and len(moves) < 2 * size * size:
        legal = np.flatnonzero(pos.legal_moves()[:-1])
        move = int(rng.choice(legal)) if len(legal) else PASS
        pos = pos.play(move)
        moves.append(move)
    return moves


def cold_start_seconds(runs: int) -> float:
    """Median wall time of a fresh interpreter importing the engine and running one playout."""
    subprocess.run([sys.executable, "-c", _COLD_START], check=True)  # warm numba's disk cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", _COLD_START], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(config: GoBenchConfig, json_path: str | None = None) -> dict:
    rows = []
    for size in (9, 19):
        start = Position.new(Rules(size=size))
        rng = make_rng(config.seed)
        playout_scores(start, 1, rng)  # compile or load before timing
        batch = 200 if size == 9 else 40
        per_s = rate(lambda s=start, b=batch, r=rng: len(playout_scores(s, b, r)),
                     config.seconds, config.rounds)
        rows.append((f"playouts_per_s_{size}x{size}", per_s, "random playouts/s, one core"))
        print(f"  {size}x{size} playouts: {per_s:,.0f}/s", file=sys.stderr)
    for size in (9, 19):
        moves = _random_game(size, np.random.default_rng(config.seed))
        rules = Rules(size=size, ko="simple")

        def replay(moves=moves, rules=rules) -> int:
            pos = Position.new(rules)
            for move in moves:
                pos = pos.play(move)
            return len(moves)

        def legal(moves=moves, rules=rules) -> int:
            pos = Position.new(rules)
            for move in moves[: len(moves) // 2]:
                pos = pos.play(move)
            for _ in range(100):
                pos._compute_legal()  # uncached: legal_moves() would answer from its cache
            return 100

        rows.append((f"play_per_s_{size}x{size}", rate(replay, config.seconds / 2, config.rounds),
                     "Position.play() calls/s"))
        rows.append((f"legal_moves_per_s_{size}x{size}",
                     rate(legal, config.seconds / 2, config.rounds), "legal_moves() calls/s"))
    cold = cold_start_seconds(config.cold_start_runs)
    rows.append(("cold_start_s", cold, "s to the first playout in a new process"))
    return emit("rlgo bench go", rows, json_path, {"config": vars(config)})
