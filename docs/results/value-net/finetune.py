"""Fine-tune a play net's value head (and its trunk) on engine_games.py's games: the shipped
agents/alphago/weights/search_value_9x9.pt.

Every move of every game is a position; its target is half the search's root value (2q - 1,
for the player to move) and half the game's outcome for that player. The search's value is a
far less noisy target than the outcome alone, so the net learns to judge as a search of
`--visits` does, from a few hundred games. Every tenth game is held out. Batches of 256, each
under one of the 8 board symmetries, AdamW with a one-cycle learning rate, value loss only.
After each epoch it prints the held-out error and the share of the committed match
positions (value-check/measure.py's) whose winner the net predicts.

    .venv/bin/python docs/results/value-net/finetune.py --games 'runs/value-net/games*.jsonl' \
        --init agents/alphago/weights/play_9x9.pt --epochs 5 --out runs/value-net/value.pt
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "docs" / "results" / "value-check"))
sys.path.insert(0, str(ROOT))

from measure import positions as check_positions  # noqa: E402

from agents.alphago.nets.features import features_batch, transform_planes  # noqa: E402
from agents.alphago.nets.networks import as_input, load_network, save_network  # noqa: E402
from envs.go import Position, Rules  # noqa: E402


def load_games(pattern: str) -> tuple[list[Position], np.ndarray, np.ndarray, np.ndarray, int]:
    """Positions, search values and outcomes (for the player to move) and game numbers."""
    games = [json.loads(line) for path in sorted(glob.glob(pattern))
             for line in Path(path).read_text().splitlines()]
    found, q, z, game = [], [], [], []
    for number, record in enumerate(games):
        position = Position.new(Rules(size=9, komi=7.0))
        for move, rate in zip(record["moves"], record["q"], strict=True):
            found.append(position)
            q.append(2.0 * rate - 1.0)
            z.append(0.0 if record["winner"] is None
                     else 1.0 if position.to_play == record["winner"] else -1.0)
            game.append(number)
            position = position.play(move)
    return (found, np.array(q, np.float32), np.array(z, np.float32), np.array(game),
            len(games))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", required=True, help="glob of engine_games.py's JSONL files")
    parser.add_argument("--init", default=str(ROOT / "agents/alphago/weights/play_9x9.pt"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--search-weight", type=float, default=0.5)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    found, q, z, game, games = load_games(args.games)
    net = load_network(args.init, "play", 9)
    planes = features_batch(found, net.spec.planes, player_colour=True)
    held = game % 10 == 0
    train, val = np.flatnonzero(~held), np.flatnonzero(held)
    print(f"{games} games, {len(found)} positions ({len(val)} held out)", flush=True)
    check, winners, _ = check_positions()
    check_x = as_input(features_batch(check, net.spec.planes, player_colour=True))
    target = args.search_weight * q + (1.0 - args.search_weight) * z

    def report(tag: str) -> dict:
        net.eval()
        with torch.inference_mode():
            v = net(as_input(planes[val])).value.numpy()
            c = net(check_x).value.numpy()
        net.train()
        row = {"held_out_mse_outcome": float(np.mean((v - z[val]) ** 2)),
               "held_out_mse_search": float(np.mean((v - q[val]) ** 2)),
               "check_accuracy": float(np.mean(c * winners > 0))}
        print(f"{tag}: {json.dumps(row)}", flush=True)
        return row

    report("start")
    batch = 256
    steps = args.epochs * len(train) // batch
    optimiser = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=args.lr,
                                                   total_steps=steps, pct_start=0.1)
    started = time.time()
    for step in range(steps):
        rows = rng.choice(train, batch)
        x = transform_planes(planes[rows].copy(), int(rng.integers(0, 8)))
        loss = torch.mean((net(as_input(x)).value - torch.from_numpy(target[rows])) ** 2)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if (step + 1) % (steps // args.epochs) == 0:
            last = report(f"epoch {(step + 1) // (steps // args.epochs)} "
                          f"({time.time() - started:.0f} s)")
    save_network(args.out, net, {"init": args.init, "games": games, "positions": len(found),
                                 "search_weight": args.search_weight, **last})


if __name__ == "__main__":
    main()
