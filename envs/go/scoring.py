"""Counting a finished game under its rule set: area (Chinese, Tromp-Taylor) or territory
(Japanese), given the dead stones.

Area: the board without the dead stones, scored as Position.score() scores it (stones plus
empty regions that reach one colour only).

Territory (Japanese, as KGS counts it: "the score is the sum of captures and territory. Seki
does not count as territory"): each side's empty regions that reach its stones only, plus its
prisoners (Position.prisoners: stones captured during the game, a suicide's stones going to
the opponent) plus the opponent's dead stones, which are taken off and counted as prisoners.
Territory in seki, KataGo's `tax SEKI`, is not counted: an empty region next to a chain in seki
(its eyes, and the shared liberties) is nobody's. Seki is found by the rule the end of a game
leaves it in: an empty point shared by a Black and a White chain where either colour playing
would leave its own chain with at most one liberty (so neither fills it); the chains next to
such a point are in seki. That finds the usual sekis (shared liberties with or without an eye
each); a capturing race left unplayed looks the same and is counted as seki too.

The search plays area scoring whatever the rules (engines playing Japanese rules commonly
do): only the final count, and GTP's final_score, follow Rules.scoring.
Points are flat indices, colours BLACK and WHITE, as everywhere in envs.go.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from . import kernels
from .board import without_stones
from .position import Position
from .rules import BLACK, EMPTY, WHITE


@dataclass(frozen=True)
class TerritoryCount:
    """A Japanese count. territory: empty points owned (seki excluded); prisoners: captured
    during the game; dead: the opponent's dead stones taken off; seki: stones in seki (flat
    indices, sorted). Each pair is (Black's, White's)."""

    territory: tuple[int, int]
    prisoners: tuple[int, int]
    dead: tuple[int, int]
    seki: tuple[int, ...]
    komi: float

    @property
    def black(self) -> int:
        return self.territory[0] + self.prisoners[0] + self.dead[0]

    @property
    def white(self) -> int:
        return self.territory[1] + self.prisoners[1] + self.dead[1]

    @property
    def score(self) -> float:
        """Black's points minus White's minus komi: positive when Black wins."""
        return self.black - self.white - self.komi


def _dead_array(dead: Iterable[int]) -> np.ndarray:
    return np.unique(np.asarray(list(dead), dtype=np.int64))


def _flood(board: np.ndarray, table: np.ndarray, start: int, colors: tuple[int, ...]) -> list[int]:
    """The points connected to `start` through points whose colour is in `colors`."""
    seen, stack = {start}, [start]
    while stack:
        p = stack.pop()
        for q in table[p]:
            q = int(q)
            if q >= 0 and q not in seen and board[q] in colors:
                seen.add(q)
                stack.append(q)
    return sorted(seen)


def _liberties_after(board: np.ndarray, table: np.ndarray, point: int, color: int) -> int:
    """Liberties of `color`'s chain through empty `point` once `color` plays there (captures
    ignored: at the end of a game no living chain is in atari)."""
    trial = board.copy()
    trial[point] = color
    chain = _flood(trial, table, point, (color,))
    return len({int(q) for p in chain for q in table[p] if q >= 0 and trial[q] == EMPTY})


def seki_stones(position: Position, dead: Iterable[int] = ()) -> np.ndarray:
    """int64 [k], sorted: the stones in seki once `dead` is taken off (module docstring)."""
    alive = without_stones(position, _dead_array(dead))
    board, table = alive.board, kernels.neighbour_table(position.rules.size)
    seki: set[int] = set()
    for point in np.flatnonzero(board == EMPTY).tolist():
        touching = {int(board[q]) for q in table[point] if q >= 0}
        if not {BLACK, WHITE} <= touching:
            continue
        if all(_liberties_after(board, table, point, c) <= 1 for c in (BLACK, WHITE)):
            for q in table[point]:
                if q >= 0 and board[q] != EMPTY and int(q) not in seki:
                    seki.update(_flood(board, table, int(q), (int(board[q]),)))
    return np.array(sorted(seki), dtype=np.int64)


def territory_count(position: Position, dead: Iterable[int] = ()) -> TerritoryCount:
    """The Japanese count of `position` with `dead` stones taken off (module docstring)."""
    dead = _dead_array(dead)
    board = position.board
    dead_black = int(np.count_nonzero(board[dead] == BLACK)) if dead.size else 0
    dead_white = int(np.count_nonzero(board[dead] == WHITE)) if dead.size else 0
    alive = without_stones(position, dead)
    owner = alive.ownership()
    seki = seki_stones(position, dead)
    neutral = np.zeros(board.size, bool)
    table = kernels.neighbour_table(position.rules.size)
    for stone in seki.tolist():  # every empty region next to a chain in seki is nobody's
        for q in table[stone]:
            if q >= 0 and alive.board[q] == EMPTY and not neutral[q]:
                neutral[_flood(alive.board, table, int(q), (EMPTY,))] = True
    empty = (alive.board == EMPTY) & ~neutral
    territory = (int(np.count_nonzero(empty & (owner == BLACK))),
                 int(np.count_nonzero(empty & (owner == WHITE))))
    return TerritoryCount(territory=territory, prisoners=tuple(position.prisoners),
                          dead=(dead_white, dead_black), seki=tuple(seki.tolist()),
                          komi=position.rules.komi)


def final_score(position: Position, dead: Iterable[int] = ()) -> float:
    """Black's margin (minus komi) under position.rules.scoring, `dead` stones taken off."""
    if position.rules.scoring == "territory":
        return territory_count(position, dead).score
    return without_stones(position, _dead_array(dead)).score()


def final_result(position: Position, dead: Iterable[int] = ()) -> str:
    """'B+3.5', 'W+R' or '0' (a draw), as GTP's final_score and SGF's RE write it, counted
    by the rules' scoring with `dead` stones taken off."""
    if position.winner is not None:
        return ("B" if position.winner == BLACK else "W") + "+R"
    margin = final_score(position, dead)
    if margin == 0:
        return "0"
    return f"{'B' if margin > 0 else 'W'}+{abs(margin):g}"


def dead_from_ownership(position: Position, owned: np.ndarray) -> np.ndarray:
    """int64 [k]: the stones whose point `owned` (float [size*size], +1 Black, -1 White: a
    search's ownership, MCTS.ownership) gives to the opponent."""
    board = position.board
    return np.flatnonzero(((board == BLACK) & (owned < 0)) | ((board == WHITE) & (owned > 0)))
