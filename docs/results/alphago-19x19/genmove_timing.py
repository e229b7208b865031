"""A 200-move 19x19 game against `rlgo go gtp --size 19 --time 5`: how long each of the
engine's 100 genmoves took, and its peak memory (VmHWM). White plays random legal moves.

    .venv/bin/python docs/results/alphago-19x19/genmove_timing.py > genmove-5s.json
"""

from __future__ import annotations

import json
import subprocess
import time

import numpy as np

from envs.go import Position, Rules, from_gtp, to_gtp

COMMAND = [".venv/bin/rlgo", "go", "gtp", "--size", "19", "--time", "5", "--quiet"]


def main() -> None:
    engine = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(command: str) -> str:
        engine.stdin.write(command + "\n")
        engine.stdin.flush()
        answer = engine.stdout.readline().strip()
        while engine.stdout.readline().strip():  # a GTP answer ends with an empty line
            pass
        return answer

    for command in ("boardsize 19", "clear_board", "komi 7.5"):
        ask(command)
    rng = np.random.default_rng(0)
    position = Position.new(Rules(size=19, komi=7.5))
    seconds = []
    for _ in range(100):
        start = time.monotonic()
        move = ask("genmove b")[2:]
        seconds.append(time.monotonic() - start)
        if move.lower() == "resign":
            break
        position = position.play(from_gtp(move, 19))
        points = np.flatnonzero(position.legal_moves()[:-1])
        white = int(rng.choice(points)) if len(points) else position.rules.size ** 2  # pass
        position = position.play(white)
        ask(f"play w {to_gtp(white, 19)}")
    with open(f"/proc/{engine.pid}/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    ask("quit")
    print(json.dumps({
        "command": " ".join(COMMAND), "moves": 2 * len(seconds), "genmoves": len(seconds),
        "genmove_seconds": {"min": min(seconds), "median": float(np.median(seconds)),
                            "max": max(seconds)},
        "within_0.5s": sum(abs(s - 5) <= 0.5 for s in seconds), "peak_rss_mb": peak_kb / 1024,
    }, indent=1))


if __name__ == "__main__":
    main()
