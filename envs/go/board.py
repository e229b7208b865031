"""Board questions that every layer above asks of a Position, answered in one place.

The GTP engine, the GUI, the search, the arena and self-play all need the same few facts about
a board: which points touch, which stones form a chain and where its liberties are, whether a
point is a one-point eye, who won a finished game, which stones are dead, and the board once
they are gone. Each has one implementation here, built on the compiled kernels that the rules
themselves use (kernels.group_info floods chains, playout.is_eye judges eyes), so a helper can
never disagree with the rules. Points are flat indices (row 0 at the top), colours BLACK and
WHITE, as everywhere in envs.go. (Handicap layouts are in rules.py.)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from . import kernels, playout
from .position import Position
from .rules import BLACK, EMPTY, WHITE


def neighbours(point: int, size: int) -> list[int]:
    """The orthogonal neighbours of `point` on a size x size board (2 to 4 of them)."""
    return [int(q) for q in kernels.neighbour_table(size)[point] if q >= 0]


def liberties(position: Position, stones: Iterable[int]) -> list[int]:
    """The empty points next to any of `stones`, sorted: a chain's liberties when `stones`
    is a chain (see chain_at), the points that attack them when they are dead stones."""
    board, size = position.board, position.rules.size
    return sorted({q for p in stones for q in neighbours(int(p), size) if board[q] == EMPTY})


def chain_at(position: Position, point: int) -> list[int]:
    """The stones of the chain at `point`, sorted (an empty list for an empty point)."""
    if position.board[point] == EMPTY:
        return []
    return _flood(position.board, position.rules.size, point)


def groups(position: Position, stones: Iterable[int]) -> list[list[int]]:
    """`stones` split into connected same-colour chains that run through `stones` only (as
    GTP's final_status_list groups dead stones), each sorted, ordered by their first stone."""
    wanted = np.zeros(position.board.size, bool)
    wanted[np.asarray(list(stones), dtype=np.int64)] = True
    board = np.where(wanted, position.board, EMPTY).astype(np.int8)
    result, seen = [], np.zeros_like(wanted)
    for start in np.flatnonzero(wanted & (board != EMPTY)):
        if not seen[start]:
            chain = _flood(board, position.rules.size, int(start))
            seen[chain] = True
            result.append(chain)
    return result


def _flood(board: np.ndarray, size: int, start: int) -> list[int]:
    """The sorted chain at the stone `start` of `board`, by the rules' own flood fill."""
    n = board.size
    stack, mark = np.empty(n, np.int32), np.zeros(n, np.int32)
    count, _ = kernels.group_info(board, kernels.neighbour_table(size), start, stack, mark, 1)
    return sorted(int(p) for p in stack[:count])


def fills_own_eye(position: Position, point: int, color: int, *,
                  false_eyes: bool = False) -> bool:
    """Whether `color` playing at empty `point` fills one of its own one-point eyes.

    An eye is surrounded orthogonally by `color`'s stones, with fewer than two diagonals held
    by the opponent (fewer than one on the edge): the rule random playouts follow, so a
    player that avoids these moves plays like a playout. false_eyes=True counts every point
    surrounded orthogonally, whatever its diagonals: in the clean-up phase, filling even a
    false eye is rarely what captures dead stones."""
    board, size = position.board, position.rules.size
    if board[point] != EMPTY:
        return False
    if false_eyes:
        return all(board[q] == color for q in neighbours(point, size))
    return bool(playout.is_eye(board, kernels.neighbour_table(size),
                               kernels.diagonal_table(size), point, color))


def winner_of(position: Position) -> int | None:
    """Who won the game that ended at `position`: BLACK or WHITE, None for a draw. A
    resignation decides; otherwise the board is scored as it stands (Tromp-Taylor area, every
    stone alive), so take dead stones off first (without_stones) if they should not count."""
    if position.winner is not None:
        return position.winner
    score = position.score()
    if score == 0:
        return None
    return BLACK if score > 0 else WHITE


def winner_from_result(result: str | None) -> int | None:
    """The winner a result text names: 'B+3.5', 'B+R', 'B+Forfeit' -> BLACK, 'W+...' ->
    WHITE; a draw ('0'), a void game or an unknown result -> None."""
    text = (result or "").strip().upper()
    if text.startswith("B+"):
        return BLACK
    if text.startswith("W+"):
        return WHITE
    return None


def dead_stones(position: Position, count: int, rng: np.ndarray) -> np.ndarray:
    """int64 [k]: the stones that `count` random playouts from here mostly lose (their point
    ends up the opponent's more often than not). rng: a playout RNG (playout.make_rng)."""
    owned = playout.ownership(position, count, rng)
    board = position.board
    return np.flatnonzero(((board == BLACK) & (owned < 0)) | ((board == WHITE) & (owned > 0)))


def without_stones(position: Position, dead: Iterable[int]) -> Position:
    """A root position with the `dead` stones taken off, the same player to move: score it
    to count dead stones as captured."""
    board = position.board.copy()
    board[np.asarray(list(dead), dtype=np.int64)] = EMPTY
    return Position.new(position.rules).with_stones(
        black=np.flatnonzero(board == BLACK), white=np.flatnonzero(board == WHITE),
        to_play=position.to_play)
