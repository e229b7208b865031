"""The board helpers (envs.go.board) one fixture at a time, then against the copies that the
GTP engine, the GUI, the random player and self-play kept before they moved here.

Boards are ASCII diagrams (Position.from_ascii: 'X' black, 'O' white, '.' empty, top row
first); points are GTP vertices, so 'A1' is the bottom-left corner.
"""

from __future__ import annotations

import numpy as np
import pytest

from envs.go import (
    BLACK,
    EMPTY,
    PASS,
    RESIGN,
    WHITE,
    Position,
    Rules,
    chain_at,
    dead_stones,
    fills_own_eye,
    free_handicap_points,
    from_gtp,
    groups,
    liberties,
    neighbours,
    star_points,
    to_gtp,
    winner_from_result,
    winner_of,
    without_stones,
)
from envs.go.playout import make_rng


def vertices(points, size: int) -> set[str]:
    return {to_gtp(int(p), size) for p in points}


def points(text: str, size: int) -> list[int]:
    return [from_gtp(v, size) for v in text.split()]


TWO_CHAINS = """
    . . . . .
    . X X . .
    . X O O .
    . . O . .
    . . . . X
"""


# ---- neighbours and chains ----------------------------------------------------------------------

@pytest.mark.parametrize("vertex, expected", [
    ("A1", {"A2", "B1"}), ("E3", {"E2", "E4", "D3"}), ("C3", {"C2", "C4", "B3", "D3"})])
def test_neighbours(vertex, expected):
    assert vertices(neighbours(from_gtp(vertex, 5), 5), 5) == expected


def test_chain_at_and_its_liberties():
    pos = Position.from_ascii(TWO_CHAINS)
    black = chain_at(pos, from_gtp("B4", 5))
    assert vertices(black, 5) == {"B4", "C4", "B3"}
    assert black == sorted(black)
    assert vertices(liberties(pos, black), 5) == {"B5", "C5", "A4", "D4", "A3", "B2"}
    white = chain_at(pos, from_gtp("D3", 5))
    assert vertices(white, 5) == {"C3", "D3", "C2"}
    assert vertices(liberties(pos, white), 5) == {"D4", "E3", "D2", "B2", "C1"}
    assert chain_at(pos, from_gtp("A1", 5)) == []


def test_groups_run_through_the_given_stones_only():
    pos = Position.from_ascii("""
        . . . . .
        X X X X .
        . . . . .
        O . . . .
        O O . . .
    """)
    chosen = points("A4 B4 D4 A2 A1 B1", 5)
    assert [vertices(g, 5) for g in groups(pos, chosen)] == [{"A4", "B4"}, {"D4"},
                                                             {"A2", "A1", "B1"}]
    assert groups(pos, []) == []


# ---- eyes ---------------------------------------------------------------------------------------

def test_real_and_false_eyes():
    pos = Position.from_ascii("""
        . X . X . .
        X . X . X .
        . X O X O .
        X X . X . .
        . . . . . .
        . . . . . .
    """)
    eye = {v: from_gtp(v, 6) for v in ("A6", "B5", "D5", "F5", "B6", "A4")}
    assert fills_own_eye(pos, eye["A6"], BLACK)          # corner, no enemy diagonal
    assert fills_own_eye(pos, eye["B5"], BLACK)          # centre, one enemy diagonal
    assert not fills_own_eye(pos, eye["B5"], WHITE)
    assert not fills_own_eye(pos, eye["D5"], BLACK)      # two enemy diagonals: a false eye
    assert fills_own_eye(pos, eye["D5"], BLACK, false_eyes=True)
    assert not fills_own_eye(pos, eye["F5"], BLACK)      # not surrounded
    assert not fills_own_eye(pos, eye["B6"], BLACK)      # a stone, not a point
    assert fills_own_eye(pos, eye["A4"], BLACK)          # edge, no enemy diagonal


# ---- winners ------------------------------------------------------------------------------------

def test_winner_of_by_score_draw_and_resignation():
    black_wall = """  # Black 15 points, White 3, 7 points for nobody
        . . X . .
        . . X . .
        . . X O .
        . . X O .
        . . X O .
    """
    pos = Position.from_ascii(black_wall, komi=0.5)
    assert winner_of(pos) == BLACK
    assert winner_of(Position.from_ascii(black_wall, komi=12.5)) == WHITE
    assert winner_of(Position.from_ascii(black_wall, komi=12)) is None
    assert winner_of(pos.play(RESIGN, BLACK)) == WHITE


@pytest.mark.parametrize("result, expected", [
    ("B+3.5", BLACK), ("b+r", BLACK), ("W+Forfeit", WHITE), (" W+T ", WHITE), ("0", None),
    ("Void", None), ("", None), (None, None)])
def test_winner_from_result(result, expected):
    assert winner_from_result(result) == expected


# ---- dead stones and handicap ----------------------------------------------------------------

def test_dead_stones_come_off_for_scoring():
    pos = Position.from_ascii("""
        . . . . . .
        . . . . . .
        . . . . . .
        O O O O . .
        . . . O . .
        . X . O . .
    """, komi=0, ko="simple", to_play=BLACK)
    dead = dead_stones(pos, 400, make_rng(2))
    assert dead.tolist() == [from_gtp("B1", 6)]
    scored = without_stones(pos, dead)
    assert scored.board[from_gtp("B1", 6)] == EMPTY and scored.to_play == BLACK
    assert scored.area() == (0, 36) and winner_of(scored) == WHITE


@pytest.mark.parametrize("size, stones", [(9, 5), (9, 12), (19, 9), (19, 20), (5, 3), (2, 3)])
def test_free_handicap_points_are_distinct_and_start_with_the_fixed_layout(size, stones):
    chosen = free_handicap_points(size, stones)
    assert len(chosen) == len(set(chosen)) == stones
    assert all(0 <= p < size * size for p in chosen)
    if size == 19:
        assert vertices(chosen[:4], 19) == {"D4", "Q16", "D16", "Q4"}


@pytest.mark.parametrize("size, expected", [
    (19, "D4 K4 Q4 D10 K10 Q10 D16 K16 Q16"), (13, "D4 G4 K4 D7 G7 K7 D10 G10 K10"),
    (9, "C3 G3 E5 C7 G7"), (11, "C3 J3 F6 C9 J9"), (8, "C3 F3 C6 F6"), (7, "C3 E3 C5 E5"),
    (6, "")])
def test_star_points(size, expected):
    assert vertices(star_points(size), size) == set(expected.split())


# ---- against the copies the layers above kept before ------------------------------------------

def old_neighbours(p: int, size: int) -> list[int]:  # rlgo/gtp/game.py
    row, col = divmod(p, size)
    return [q for q, ok in ((p - size, row > 0), (p + size, row < size - 1), (p - 1, col > 0),
                            (p + 1, col < size - 1)) if ok]


def old_groups(position: Position, chosen) -> list[list[int]]:  # rlgo/gtp/game.py
    size, board, wanted, result = position.size, position.board, {int(p) for p in chosen}, []
    for start in sorted(wanted):
        if start not in wanted:
            continue
        chain, stack = [], [start]
        wanted.discard(start)
        while stack:
            p = stack.pop()
            chain.append(p)
            for q in old_neighbours(p, size):
                if q in wanted and board[q] == board[start]:
                    wanted.discard(q)
                    stack.append(q)
        result.append(sorted(chain))
    return result


def old_chain_at(position: Position, point: int) -> list[int]:  # rlgo/gui/game.py
    board, size, color = position.board, position.size, position.board[point]
    if color == 0:
        return []
    seen, stack = {point}, [point]
    while stack:
        for q in old_neighbours(stack.pop(), size):
            if q not in seen and board[q] == color:
                seen.add(q)
                stack.append(q)
    return sorted(seen)


def old_random_player_eye(position: Position, p: int) -> bool:  # RandomPlayer._fills_own_eye
    size, me = position.size, position.to_play
    row, col = divmod(p, size)
    for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1)):
        if 0 <= r < size and 0 <= c < size and position.board[r * size + c] != me:
            return False
    diagonals = [(r, c) for r, c in ((row - 1, col - 1), (row - 1, col + 1), (row + 1, col - 1),
                                     (row + 1, col + 1)) if 0 <= r < size and 0 <= c < size]
    enemy = sum(position.board[r * size + c] == 3 - me for r, c in diagonals)
    return enemy + (len(diagonals) < 4) < 2


def old_terminal_value(position: Position) -> float:  # MCTS._terminal_value
    if position.winner is not None:
        return 1.0 if position.winner == position.to_play else -1.0
    score = position.score()
    if score == 0:
        return 0.0
    return 1.0 if (score > 0) == (position.to_play == BLACK) else -1.0


def random_positions(size: int, seed: int, moves: int):
    """The positions of one random game (passes now and then, so both colours move)."""
    rng = np.random.default_rng(seed)
    pos = Position.new(Rules(size=size, komi=float(rng.integers(0, 3)), ko="simple"))
    for _ in range(moves):
        move = int(rng.choice(np.flatnonzero(pos.legal_moves())))
        pos = pos.play(PASS if move == size * size else move)
        yield pos
        if pos.is_game_over():
            return


@pytest.mark.parametrize("size, seed", [(5, 0), (7, 1), (9, 2), (9, 3)])
def test_helpers_agree_with_the_copies_they_replace(size, seed):
    rng = np.random.default_rng(seed + 100)
    n = size * size
    for pos in random_positions(size, seed, 3 * n):
        assert all(sorted(neighbours(p, size)) == sorted(old_neighbours(p, size))
                   for p in range(n))
        stones = np.flatnonzero(pos.board)
        chosen = stones[rng.random(stones.size) < 0.6]
        assert groups(pos, chosen) == old_groups(pos, chosen)
        for p in range(n):
            assert chain_at(pos, p) == old_chain_at(pos, p)
            if pos.board[p] == EMPTY:
                me = pos.to_play
                assert fills_own_eye(pos, p, me) == old_random_player_eye(pos, p)
                assert fills_own_eye(pos, p, me, false_eyes=True) == all(
                    pos.board[q] == me for q in old_neighbours(p, size))
        value = {BLACK: 1.0, WHITE: -1.0, None: 0.0}[winner_of(pos)]
        assert value * (1 if pos.to_play == BLACK else -1) == old_terminal_value(pos)
