"""Games of the alphago engine against itself at a fixed number of visits a move, each move
kept with the search's root win rate for its player: the data of the shipped 9x9 value net.

The first 4 to 15 moves of a game (drawn per game) are drawn by the root's visit counts, so
the games differ; the rest are the engine's choices. A game ends by two passes, a
resignation or 200 moves. One JSON line a game: moves (points, pass = size*size), q (the
root win rate of each move's search, for its mover), winner (1 Black, 2 White, null), and
resigned. Runs until `--seconds` have passed; run one per core with different seeds.

    .venv/bin/python docs/results/value-net/engine_games.py --seed 1 --visits 1600 \
        --seconds 2400 --out runs/value-net/games1.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from agents.alphago.search.player import SearchLimits  # noqa: E402
from envs.go import RESIGN, Position, Rules, winner_of  # noqa: E402
from rlgo.players import build_player  # noqa: E402


def play(player, rng: np.random.Generator, visits: int) -> dict:
    position = Position.new(Rules(size=9, komi=7.0))
    moves, q, move = [], [], None
    drawn_until = int(rng.integers(4, 16))
    while not position.is_game_over() and position.move_number < 200:
        decision = player.genmove(position, SearchLimits(visits=visits))
        move = decision.move
        if move == RESIGN:
            break
        if position.move_number < drawn_until and decision.candidates:
            seen = [c for c in decision.candidates if c.visits > 0]
            weights = np.array([c.visits for c in seen], float)
            move = seen[rng.choice(len(seen), p=weights / weights.sum())].move
        q.append(round(0.5 if decision.winrate is None else decision.winrate, 4))
        moves.append(int(move))
        position = position.play(move)
    player.clear()
    winner = 3 - position.to_play if move == RESIGN else winner_of(position)
    return {"moves": moves, "q": q, "winner": winner, "resigned": move == RESIGN}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--visits", type=int, default=1600)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    # the engine as it was before a value net shipped: policy net after 8 visits, rollouts
    player = build_player("alphago", 9, seed=args.seed, threads=1, value_weights="none",
                          log=None)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    end, games = time.time() + args.seconds, 0
    with open(args.out, "a") as out:
        while time.time() < end:
            out.write(json.dumps(play(player, rng, args.visits)) + "\n")
            out.flush()
            games += 1
    print(f"{games} games -> {args.out}")


if __name__ == "__main__":
    main()
