"""Recount the committed matches whose referee was GNU Go in its default (territory) rules.

Until 2026-12-07 several matches named `--referee "gnugo --mode gtp"`, which counts
territory and prisoners, while the games are played for area with an area komi (the arena's
own `--referee gnugo` adds --chinese-rules; `rlgo go match` now refuses the other). This
replays every game of those matches that ended by the count (not by resignation) into
`gnugo --mode gtp --chinese-rules` and asks its final_score, as the arena's referee would
have. Writes JSON: per match, engine A's record as committed and as recounted.

    .venv/bin/python docs/results/referee/rescore.py --json docs/results/referee/rescored.json
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from envs.go.gtp_client import GtpClient  # noqa: E402
from envs.go.sgf import position_from_record  # noqa: E402
from envs.go.sgf_files import load_sgf_file  # noqa: E402
from selfplay.go.arena import score_game  # noqa: E402

MATCHES = ROOT / "docs" / "matches"


def territory_refereed() -> list[str]:
    """The matches with SGFs whose command named GNU Go as referee without --chinese-rules."""
    names = []
    for summary in sorted(MATCHES.glob("*.txt")):
        command = summary.read_text().splitlines()[0]
        words = shlex.split(command.lstrip("$ "))
        if "--referee" not in words or not (MATCHES / summary.stem).is_dir():
            continue
        referee = words[words.index("--referee") + 1]
        if referee != "gnugo" and "--chinese-rules" not in referee:
            names.append(summary.stem)
    return names


def points(result: str, a_black: bool) -> float:
    if result in ("0", "DRAW"):
        return 0.5
    return 1.0 if (result[0] == "B") == a_black else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True)
    parser.add_argument("--gnugo", default="/usr/games/gnugo")
    args = parser.parse_args()
    out = {}
    referee = GtpClient(f"{args.gnugo} --mode gtp --chinese-rules", timeout=60)
    for name in territory_refereed():
        rows = {"committed": [0, 0, 0], "recounted": [0, 0, 0], "changed": []}
        for path in sorted((MATCHES / name).glob("game-*.sgf")):
            record = load_sgf_file(path)
            a_black = bool(re.search(r"^Black: engine A:", record.extra["C"][0], re.M))
            new = record.result
            if not record.result.endswith("+R") and "Forfeit" not in record.result:
                new, _ = score_game(position_from_record(record), referee, 60)
            for key, result in (("committed", record.result), ("recounted", new)):
                rows[key][{1.0: 0, 0.0: 1, 0.5: 2}[points(result, a_black)]] += 1
            if points(new, a_black) != points(record.result, a_black):
                rows["changed"].append(f"{path.name}: {record.result} -> {new}")
        out[name] = rows
        print(f"{name}: A {'-'.join(map(str, rows['committed']))} as committed, "
              f"{'-'.join(map(str, rows['recounted']))} recounted (wins-losses-draws)")
    referee.close()
    Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
