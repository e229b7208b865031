"""Today's compiled search against the Python MCTS as it was when issue 25 was filed.

`rlgo bench mcts` compares the two searches of the current code, and the Python MCTS shares
everything but the tree walk with the compiled one: when the playouts and priors got faster,
it did too. This measures what the issue asked against, the search of commit 5943138 (the
last before the compiled one), checked out from git into a temporary work tree; rounds take
turns between the two, each in a fresh process with the current virtual environment:

    .venv/bin/python docs/benchmarks/as_filed.py --json docs/benchmarks/mcts_as_filed.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILED = "5943138"

# one round in a child process: a first search on fresh memory (not counted), then a timed one
ROUND = """
import json, sys
sys.path.insert(0, {root!r})
import numpy as np
from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.search.presets import preset
from rlgo.bench.mcts import _opening, _rate
if {compiled}:
    from agents.alphago.search.compiled import CompiledMCTS as Search
else:
    from agents.alphago.search.mcts import MCTS as Search
search = Search(RolloutEvaluator(seed={seed}), preset("mcts"), np.random.default_rng({seed}))
_rate(search, _opening({size}), {seconds})
print(json.dumps(_rate(search, _opening({size}), {seconds})))
"""


def one_round(root: Path, compiled: bool, size: int, seed: int, seconds: float) -> float:
    code = ROUND.format(root=str(root), compiled=compiled, size=size, seed=seed, seconds=seconds)
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        sys.exit(f"as_filed.py: a {size}x{size} round in {root} failed: {last}")
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds must be at least 1 and --seconds above 0")
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{FILED}^{{commit}}"],
                           capture_output=True)
    if known.returncode != 0:
        parser.error(f"commit {FILED} is not in this clone's history (a shallow clone? "
                     f"`git fetch --unshallow` brings it)")
    figures: dict[str, object] = {"filed_commit": FILED, "rounds": args.rounds,
                                  "seconds": args.seconds}
    with tempfile.TemporaryDirectory() as tmp:
        filed = Path(tmp) / "filed"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(filed),
                        FILED], check=True)
        try:
            for size in (9, 19):
                rates: dict[str, list[float]] = {"python_as_filed": [], "compiled": []}
                for seed in range(1, args.rounds + 1):
                    rates["python_as_filed"].append(
                        one_round(filed, False, size, seed, args.seconds))
                    rates["compiled"].append(one_round(ROOT, True, size, seed, args.seconds))
                    print(f"{size}x{size} round {seed}: Python as filed "
                          f"{rates['python_as_filed'][-1]:,.0f}, compiled "
                          f"{rates['compiled'][-1]:,.0f} sims/s", flush=True)
                medians = {name: statistics.median(values) for name, values in rates.items()}
                ratio = medians["compiled"] / medians["python_as_filed"]
                figures |= {f"sims_per_s_{size}x{size}_python_as_filed": medians["python_as_filed"],
                            f"sims_per_s_{size}x{size}": medians["compiled"],
                            f"speedup_over_filed_{size}x{size}": ratio}
                print(f"{size}x{size}: compiled {medians['compiled']:,.0f} sims/s, Python MCTS "
                      f"as filed {medians['python_as_filed']:,.0f}: {ratio:.2f}x", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(filed)],
                           check=False)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
