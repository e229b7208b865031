"""How well the network-free search's win rate predicts who wins, beside a value net, on the
same positions: what a value net has to beat before mixing it into a search can help.

The positions are every tenth of measure.py's (every fourth move from the eighth of the
committed 9x9 match games, labelled with the game's winner). For each: the value net's
estimate, and the root win rate of a fresh `mcts` search of each number of visits. A
prediction is right when it falls on the winner's side of one half. Writes JSON.

    .venv/bin/python docs/results/value-check/search.py \
        --weights agents/alphago/weights/play_9x9.pt --visits 200 2000 \
        --json docs/results/value-check/search.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[2]))

from measure import positions  # noqa: E402

from agents.alphago.nets.features import features_batch  # noqa: E402
from agents.alphago.nets.networks import as_input, load_value_network  # noqa: E402
from agents.alphago.search.player import SearchLimits  # noqa: E402
from rlgo.players import build_player  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="a value net or play net file")
    parser.add_argument("--visits", type=int, nargs="+", required=True)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    found, z, games = positions()
    chosen = list(range(0, len(found), 10))
    sample, winners = [found[i] for i in chosen], z[chosen]
    net = load_value_network(args.weights, 9)
    with torch.inference_mode():
        v = net(as_input(features_batch(sample, net.spec.planes, player_colour=True))).numpy()
    result = {"weights": args.weights, "games": games, "positions": len(sample),
              "value_net": float(np.mean(v * winners > 0))}
    player = build_player("mcts", 9, seed=1, log=None)
    for visits in args.visits:
        right = []
        for position, winner in zip(sample, winners, strict=True):
            decision = player.genmove(position, SearchLimits(visits=visits))
            rate = 0.5 if decision.winrate is None else decision.winrate
            right.append((rate - 0.5) * winner > 0)
            player.clear()
        result[f"mcts_{visits}"] = float(np.mean(right))
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
