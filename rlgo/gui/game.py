"""Small values and helpers under the GUI's controller: the settings of a new game, friendly
texts for illegal moves, who won, and game files (SGF) on disk."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from envs.errors import quoted
from envs.go import (
    BLACK,
    DEFAULT_KOMI,
    WHITE,
    GoError,
    Position,
    Rules,
    SgfError,
    fixed_handicap,
    winner_from_result,
)
from envs.go.coords import RESIGN
from envs.go.sgf import position_from_record, record_from_position
from envs.go.sgf_files import load_sgf_file, save_sgf_file

TIME_CHOICES = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0)
SIZES = (9, 13, 19)

ILLEGAL_MESSAGES = {
    "occupied": "That point is already occupied.",
    "suicide": "Suicide is not allowed: that stone would have no liberties.",
    "ko": "Ko: you cannot retake the ko at once. Play elsewhere first.",
    "superko": "Superko: that move would repeat an earlier board position.",
    "off board": "That is not a point on the board.",
    "game over": "The game is over.",
}


@dataclass(frozen=True)
class GameSettings:
    """What a new game starts with. human: the colour the human plays (BLACK or WHITE)."""

    size: int = 9
    human: int = BLACK
    komi: float = DEFAULT_KOMI
    handicap: int = 0
    ko: str = "positional"

    def rules(self) -> Rules:
        return Rules(size=self.size, komi=self.komi, ko=self.ko)

    def start(self) -> Position:
        """The first position; GoError for an impossible size or handicap."""
        if self.human not in (BLACK, WHITE):
            raise GoError(f"the human's colour must be BLACK or WHITE, got {self.human!r}")
        if self.handicap == 1 or self.handicap < 0:
            raise GoError(f"handicap must be 0 or 2..9, got {self.handicap}")
        stones = fixed_handicap(self.size, self.handicap) if self.handicap else ()
        return Position.new(self.rules(), handicap=stones)


def next_choice(choices: tuple[float, ...], now: float | None, step: int) -> float:
    """The entry `step` places after the one nearest `now` (wrapping around)."""
    now = choices[0] if now is None else now
    index = min(range(len(choices)), key=lambda i: abs(choices[i] - now))
    return choices[(index + step) % len(choices)]


def verdict(result: str | None, human: int) -> str:
    """'You win!', 'The engine wins.' or 'A draw.' for a result such as 'B+3.5'."""
    winner = winner_from_result(result)
    if winner is None:
        return "A draw."
    return "You win!" if winner == human else "The engine wins."


# ---- SGF files ----------------------------------------------------------------------------------

def new_game_path(directory: Path) -> Path:
    """directory/<date>-<time>.sgf, with -2, -3, ... when that name is taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = directory / f"{stamp}.sgf", 1
    while path.exists():
        n += 1
        path = directory / f"{stamp}-{n}.sgf"
    return path


def save_game(path: Path, position: Position, result: str | None, black: str,
              white: str) -> None:
    """The game that led to `position` as SGF (atomically); OSError or GoError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = record_from_position(position, result=result, player_black=black,
                                  player_white=white, date=time.strftime("%Y-%m-%d"))
    save_sgf_file(path, record)


def latest_game(directory: Path) -> Path | None:
    """The most recently modified .sgf in `directory`."""
    files = sorted(directory.glob("*.sgf"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None


def load_game(path: Path) -> tuple[Position, int, int]:
    """(the game's final position, its handicap, the games the file holds: the first is
    loaded). A recorded resignation (RE[W+R]) is played as a RESIGN, so the game loads as
    over. SgfError naming the file."""
    record = load_sgf_file(path)  # a regular file of sane size; its errors name the file
    try:
        position = position_from_record(record)
    except SgfError as err:
        raise SgfError(f"{quoted(str(path), 300)}: {err}") from None
    result = (record.result or "").upper()
    if result.endswith("+R") and result[:1] in ("B", "W") and position.winner is None:
        position = position.play(RESIGN, WHITE if result[0] == "B" else BLACK)
    return position, record.handicap, record.games_in_file
