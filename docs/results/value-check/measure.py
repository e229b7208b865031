"""How well a value net predicts who wins, beside the heavy playouts it would be mixed with.

The positions are every fourth move (from the eighth) of the committed 9x9 match games
(docs/matches/*9x9*/, each game once), labelled with the game's winner; draws and games
without a winner are left out. For each position: the value net's estimate, the mean result of
16 and of 64 heavy playouts, and the net mixed into the 64-playout mean with weights 0 to 1.
A prediction is right when its sign is the winner's. Writes JSON.

    .venv/bin/python docs/results/value-check/measure.py \
        --weights agents/alphago/weights/play_9x9.pt --json docs/results/value-check/v14.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from agents.alphago.evaluators.rollout import RolloutEvaluator  # noqa: E402
from agents.alphago.nets.features import features_batch  # noqa: E402
from agents.alphago.nets.networks import as_input, load_value_network  # noqa: E402
from envs.go import sgf  # noqa: E402


def positions() -> tuple[list, np.ndarray, int]:
    seen, out, winners = set(), [], []
    for path in sorted(ROOT.glob("docs/matches/*9x9*/*.sgf")):
        record = sgf.read_sgf(path.read_bytes())
        if record.size != 9 or not record.result or record.result[0] not in "BW":
            continue
        if tuple(record.moves) in seen:
            continue
        seen.add(tuple(record.moves))
        winner = 1 if record.result[0] == "B" else 2
        position = sgf.position_from_record(sgf.GameRecord(rules=record.rules))
        for i, (_, move) in enumerate(record.moves):
            if i >= 8 and i % 4 == 0:
                out.append(position)
                winners.append(1.0 if position.to_play == winner else -1.0)
            position = position.play(move)
    return out, np.array(winners), len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="a value net or play net file")
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    net = load_value_network(args.weights, 9)
    found, z, games = positions()
    with torch.inference_mode():
        v = np.concatenate([
            net(as_input(features_batch(found[i:i + 256], net.spec.planes, player_colour=True)))
            .numpy() for i in range(0, len(found), 256)])
    playouts = RolloutEvaluator(seed=1, threads=1)
    rolled = np.array([playouts.evaluate(found).values for _ in range(64)])

    def right(x: np.ndarray) -> float:
        return float(np.mean(np.sign(x) == z))

    result = {"weights": args.weights, "games": games, "positions": len(z),
              "value_net": right(v), "playouts_16": right(rolled[:16].mean(0)),
              "playouts_64": right(rolled.mean(0)),
              "mixed_into_64": {f"{w:.1f}": right(w * v + (1 - w) * rolled.mean(0))
                                for w in (0.1, 0.2, 0.3, 0.5, 0.7)}}
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
