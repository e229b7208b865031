"""Rules of the game as one frozen value, and the handicap layouts (GTP's fixed and free).

Board size and rules travel as values (a `Rules` inside every Position), never as globals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .coords import check_size, from_rowcol
from .errors import GoError

BLACK = 1
WHITE = 2
EMPTY = 0
COLOR_NAMES = {BLACK: "black", WHITE: "white"}
# The komi of every command and config that does not name one: a half point, so a game under
# area scoring never ends in a draw (arena win rates and Elo, REINFORCE's z and the GUI's
# result all want a winner), and Chinese rules' 7.5, which GTP controllers commonly send.
DEFAULT_KOMI = 7.5
MAX_KOMI = 1000  # points; any real komi is far inside, and the score stays an exact float


def opponent(color: int) -> int:
    """BLACK <-> WHITE."""
    return 3 - color


def parse_color(text: str) -> int:
    """GTP colour ('b', 'black', 'W', ...) -> BLACK or WHITE."""
    key = text.strip().lower()
    if key in ("b", "black"):
        return BLACK
    if key in ("w", "white"):
        return WHITE
    raise GoError(f"invalid color {text!r} (expected b, black, w or white)")


KO_RULES = ("positional", "simple")
SCORINGS = ("area", "territory")
# The rule sets a user can name (CLI --rules, SGF RU): (scoring, ko, suicide). Situational
# superko (AGA, New Zealand) is played as positional superko, which differs from it only in
# rare cycles where a player passes; Korean is played as Japanese.
RULE_SETS = {
    "chinese": ("area", "positional", False),
    "japanese": ("territory", "simple", False),
    "korean": ("territory", "simple", False),
    "aga": ("area", "positional", False),
    "new-zealand": ("area", "positional", True),
    "tromp-taylor": ("area", "positional", True),
}


def rule_set(name: str) -> tuple[str, str, bool]:
    """(scoring, ko, suicide) of a named rule set; '_' and '-' are alike ('new_zealand' is
    KGS's spelling), case is ignored. GoError naming the known sets otherwise."""
    key = name.strip().lower().replace("_", "-")
    if key not in RULE_SETS:
        raise GoError(f"unknown rules {name!r} (known: {', '.join(RULE_SETS)})")
    return RULE_SETS[key]


@dataclass(frozen=True)
class Rules:
    """How a game is played and scored.

    size:    board size, 2..25 (GTP can name 25 columns).
    komi:    points added to White's area score.
    ko:      "positional" (positional superko: no move may recreate an earlier board) or
             "simple" (only the immediate recapture of a single stone is forbidden; this is
             what GNU Go enforces).
    suicide: whether a move that leaves its own group without liberties is allowed (the group
             is then removed). Illegal by default, as in Chinese and Japanese rules.
    scoring: "area" (Tromp-Taylor: stones plus empty regions that reach only one colour) or
             "territory" (Japanese: empty regions plus prisoners, dead stones among them, and
             no territory in seki; see scoring.py). Position.score() and the search always
             count area, as engines playing territory rules commonly search; a finished game
             is counted by scoring.final_score, which follows this field.
    """

    size: int = 19
    komi: float = DEFAULT_KOMI
    ko: str = "positional"
    suicide: bool = False
    scoring: str = "area"

    def __post_init__(self):
        check_size(self.size)
        if self.ko not in KO_RULES:
            raise GoError(f"ko rule must be 'positional' or 'simple', got {self.ko!r}")
        if self.scoring not in SCORINGS:
            raise GoError(f"scoring must be 'area' or 'territory', got {self.scoring!r}")
        if not isinstance(self.suicide, (bool, np.bool_)):
            raise GoError(f"suicide must be true or false, got {self.suicide!r}")
        object.__setattr__(self, "suicide", bool(self.suicide))
        try:
            komi = float(self.komi)
        except (TypeError, ValueError):
            raise GoError(f"komi must be a number, got {self.komi!r}") from None
        if komi != komi or abs(komi) > MAX_KOMI:
            raise GoError(f"komi must be a number of points from -{MAX_KOMI} to {MAX_KOMI}, "
                          f"got {self.komi!r}")
        object.__setattr__(self, "komi", komi)


# GTP's fixed handicap layout: 0 = the low star line, 1 = the centre line, 2 = the high one,
# as (column, row-from-bottom) pairs, in the order the GTP specification places the stones.
_PATTERNS = {
    2: ["00", "22"],
    3: ["00", "22", "02"],
    4: ["00", "22", "02", "20"],
    5: ["00", "22", "02", "20", "11"],
    6: ["00", "22", "02", "20", "01", "21"],
    7: ["00", "22", "02", "20", "01", "21", "11"],
    8: ["00", "22", "02", "20", "01", "21", "10", "12"],
    9: ["00", "22", "02", "20", "01", "21", "10", "12", "11"],
}


def max_fixed_handicap(size: int) -> int:
    """Most stones GTP's fixed_handicap allows on this size (0 below 7x7)."""
    if size < 7:
        return 0
    return 4 if size % 2 == 0 or size == 7 else 9


def fixed_handicap(size: int, stones: int) -> list[int]:
    """Points (flat indices) of GTP's fixed handicap placement for `stones` stones."""
    check_size(size)
    top = max_fixed_handicap(size)
    if not 2 <= stones <= top:
        limit = f"2 to {top}" if top else "none"
        raise GoError(f"invalid handicap {stones} on {size}x{size} (fixed handicap: {limit})")
    edge = 2 if size < 13 else 3
    line = {"0": edge, "1": (size - 1) // 2, "2": size - 1 - edge}
    points = []
    for col_key, row_key in _PATTERNS[stones]:
        row_from_bottom = line[row_key]
        points.append(from_rowcol(size - 1 - row_from_bottom, line[col_key], size))
    return points


def star_points(size: int) -> list[int]:
    """The hoshi a board is drawn with: GTP's fixed handicap points, all nine from 13x13 up,
    the corners and the centre on 9x9 and 11x11, the four corners on 7x7 and even sizes, and
    none below 7x7."""
    top = max_fixed_handicap(size)
    if top == 0:
        return []
    return fixed_handicap(size, 5 if top == 9 and size < 13 else top)


def free_handicap_points(size: int, stones: int) -> list[int]:
    """`stones` well-spread points: GTP's fixed layout as far as it goes, then greedily the
    point farthest from those chosen, first among the points on or inside the 3rd line (4th
    on 13x13 and up; the centre on tiny boards), then ring by ring towards the edge."""
    top = max_fixed_handicap(size)
    chosen = fixed_handicap(size, min(stones, top)) if top >= 2 and stones >= 2 else []
    rows, cols = np.divmod(np.arange(size * size), size)
    edge = np.minimum(np.minimum(rows, cols), np.minimum(size - 1 - rows, size - 1 - cols))
    inner = min(2 if size < 13 else 3, (size - 1) // 2)
    outside = np.maximum(0, inner - edge) * (2 * size * size)  # outweighs any distance
    while len(chosen) < stones:
        if chosen:
            r, c = np.divmod(np.array(chosen), size)
            dist = np.min((rows[:, None] - r) ** 2 + (cols[:, None] - c) ** 2, axis=1)
        else:
            dist = np.zeros(size * size, np.int64)
        score = dist - outside
        score[chosen] = np.iinfo(np.int64).min
        chosen.append(int(np.argmax(score)))
    return chosen
