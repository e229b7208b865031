"""Numbered game records in a folder: what every Go driver writes (self-play, RL sample games,
teacher games), named so that the number says how far a run got.

    FOLDER/game-000001.sgf, game-000002.sgf, ...

A record is written atomically (save_sgf_file), so a run killed at any instant leaves whole
files only; `existing_games` tells a resumed run where it stands, and `drop_games_after`
removes the records a checkpoint does not count.
"""

from __future__ import annotations

import re
from pathlib import Path

from envs.go import RESIGN, Rules
from envs.go.sgf import GameRecord
from envs.go.sgf_files import save_sgf_file

GAME_FILE = re.compile(r"game-(\d+)\.sgf$")


def game_path(folder: Path, index: int) -> Path:
    return folder / f"game-{index:06d}.sgf"


def save_game(folder: Path, index: int, rules: Rules, moves: list, result: str | None,
              player: str, comment: str, move_comments: list[str] | None = None) -> Path:
    """Write game `index` as FOLDER/game-NNNNNN.sgf: `moves` [(colour, move)] (a
    resignation is the result's, not a move), `player` for both colours, one comment for the
    game and optionally one per move (`move_comments`, aligned with `moves`)."""
    kept = [i for i, (_, m) in enumerate(moves) if m != RESIGN]
    comments = {j: move_comments[i] for j, i in enumerate(kept)
                if move_comments is not None and i < len(move_comments)}
    record = GameRecord(rules=rules, moves=[moves[i] for i in kept],
                        result=result, player_black=player, player_white=player,
                        extra={"GC": [comment]}, move_comments=comments)
    path = game_path(folder, index)
    folder.mkdir(parents=True, exist_ok=True)  # a run directory makes it for the first game
    save_sgf_file(path, record)
    return path


def game_numbers(folder: Path) -> list[int]:
    return [int(m.group(1)) for p in folder.glob("game-*.sgf") if (m := GAME_FILE.match(p.name))]


def existing_games(folder: Path) -> int:
    """The highest game number already in `folder` (0 if none)."""
    return max(game_numbers(folder), default=0)


def drop_games_after(folder: Path, games: int) -> None:
    """Remove the records numbered above `games` (played after the checkpoint by a run that
    died): they are played again, so the folder always matches the counters."""
    for number in game_numbers(folder):
        if number > games:
            game_path(folder, number).unlink(missing_ok=True)
