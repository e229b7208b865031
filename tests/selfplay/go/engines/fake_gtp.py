"""A tiny GTP engine that misbehaves on purpose, for the arena tests.

    python fake_gtp.py MODE [--name NAME]

It answers every command with success (an empty answer), keeps no board, and on genmove:
    pass     passes
    resign   resigns
    illegal  always answers E5 (so its second E5, at the latest, is on an occupied point)
    garbage  answers something that is not a vertex
    error    answers '? cannot play'
    crash    exits with status 3 without answering
    hang     never answers (sleeps)
"""

from __future__ import annotations

import sys
import time


def main() -> None:
    mode = sys.argv[1]
    name = sys.argv[sys.argv.index("--name") + 1] if "--name" in sys.argv else f"fake-{mode}"
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        command = words[0]
        answer = ""
        if command == "name":
            answer = name
        elif command == "version":
            answer = "0.1"
        elif command == "list_commands":
            answer = "\n".join(["boardsize", "clear_board", "komi", "play", "genmove", "name",
                                "version", "quit"])
        elif command == "genmove":
            if mode == "crash":
                sys.exit(3)
            if mode == "hang":
                time.sleep(3600)
            if mode == "error":
                sys.stdout.write("? cannot play\n\n")
                sys.stdout.flush()
                continue
            answer = {"pass": "pass", "resign": "resign", "illegal": "E5",
                      "garbage": "banana"}[mode]
        sys.stdout.write(f"= {answer}\n\n")
        sys.stdout.flush()
        if command == "quit":
            return


if __name__ == "__main__":
    main()
