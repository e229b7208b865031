"""Board questions the GTP commands ask that are not the rules' business: where free handicap
stones go, the score once dead stones are gone, stones grouped for final_status_list, and
which move cleans up dead stones in kgs-genmove_cleanup.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from envs.go import BLACK, EMPTY, WHITE, Position, Rules, fixed_handicap, max_fixed_handicap


def replay(position: Position, rules: Rules) -> Position:
    """The same game (setup stones and moves) under other rules, e.g. a new komi. Moves that
    the new rules forbid end the replay there."""
    root = position.root()
    game = Position.new(rules).with_stones(
        black=np.flatnonzero(root.board == BLACK), white=np.flatnonzero(root.board == WHITE),
        to_play=root.to_play)
    for color, move in position.moves():
        try:
            game = game.play(move, color)
        except ValueError:
            break
    return game


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


def without_stones(position: Position, dead: Iterable[int]) -> Position:
    """A root position with the `dead` stones taken off (for scoring)."""
    board = position.board.copy()
    board[np.asarray(list(dead), dtype=np.int64)] = EMPTY
    return Position.new(position.rules).with_stones(
        black=np.flatnonzero(board == BLACK), white=np.flatnonzero(board == WHITE),
        to_play=position.to_play)


def groups(position: Position, points: Iterable[int]) -> list[list[int]]:
    """The given stones split into connected same-colour chains (each sorted), in board
    order of their first stone."""
    size = position.rules.size
    wanted = {int(p) for p in points}
    board = position.board
    result = []
    for start in sorted(wanted):
        if start not in wanted:
            continue
        chain, stack = [], [start]
        wanted.discard(start)
        while stack:
            p = stack.pop()
            chain.append(p)
            for q in neighbours(p, size):
                if q in wanted and board[q] == board[start]:
                    wanted.discard(q)
                    stack.append(q)
        result.append(sorted(chain))
    return result


def neighbours(p: int, size: int) -> list[int]:
    row, col = divmod(p, size)
    out = []
    if row > 0:
        out.append(p - size)
    if row < size - 1:
        out.append(p + size)
    if col > 0:
        out.append(p - 1)
    if col < size - 1:
        out.append(p + 1)
    return out


def fills_own_eye(position: Position, p: int, color: int) -> bool:
    """Whether `p` is an empty point whose neighbours are all `color`'s stones (a one-point
    eye, possibly false: filling it is rarely right in the clean-up phase either)."""
    board = position.board
    return all(board[q] == color for q in neighbours(p, position.rules.size))


def cleanup_move(position: Position, color: int, dead: Iterable[int]) -> int | None:
    """A move that works towards capturing the opponent's `dead` stones in the clean-up phase:
    a legal liberty of a dead stone if there is one, else any legal move that does not fill
    one of our own eyes. None when there are no dead opponent stones or no such move."""
    size = position.rules.size
    opponent_dead = [int(p) for p in dead if position.board[int(p)] == 3 - color]
    if not opponent_dead:
        return None
    legal = position.legal_moves()[:-1]
    usable = [p for p in np.flatnonzero(legal) if not fills_own_eye(position, int(p), color)]
    if not usable:
        return None
    liberties = {q for p in opponent_dead for q in neighbours(p, size)
                 if position.board[q] == EMPTY}
    attacking = [int(p) for p in usable if int(p) in liberties]
    return attacking[0] if attacking else int(usable[0])
