"""AlphaGo input planes: each plane group on hand-built boards, ladders, symmetries, the
simple set, and the per-move planes against a plain Position.play() oracle."""

from __future__ import annotations

import numpy as np
import pytest

from agents.alphago.nets import features as F
from agents.alphago.playouts.ladders import ladder_moves
from envs.go import BLACK, PASS, WHITE, Position, Rules

# Black to play: a white stone and a white group in atari, black groups of 1-4 liberties.
P = """
O X . . .
. . . . .
. . X X .
. X O O X
. . X O .
"""
# White to play: several self-ataris, one of them three stones big.
S = """
. X . . .
. . X X .
. X O . X
. X O . .
. . X . .
"""


def grid(text: str, blank: int = 0) -> np.ndarray:
    """Expected values: digits, with '.' and '-' (a stone) meaning `blank`."""
    return np.array([[blank if c in ".-" else int(c) for c in row.split()]
                     for row in text.strip().splitlines()])


def decode(x: np.ndarray, start: int, count: int, first: int = 1, blank: int = 0) -> np.ndarray:
    """The value a one-hot plane group encodes at each point (`blank` where none is set)."""
    block = x[start:start + count]
    assert block.sum(axis=0).max() <= 1, "one-hot planes overlap"
    return np.where(block.any(axis=0), block.argmax(axis=0) + first, blank)


def points(plane: np.ndarray) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in np.argwhere(plane)}


def test_shapes_dtypes_and_plane_counts():
    pos = Position.new(Rules(size=9))
    x = F.features(pos)
    assert x.shape == (48, 9, 9) and x.dtype == np.uint8 and set(np.unique(x)) <= {0, 1}
    assert F.features(pos, player_colour=True).shape == (49, 9, 9)
    assert F.features(pos, "simple").shape == (16, 9, 9)
    assert F.features(pos, "simple", player_colour=True).shape == (17, 9, 9)
    batch = F.features_batch([pos, pos.play(40)])
    assert batch.shape == (2, 48, 9, 9) and batch.dtype == np.uint8
    assert np.array_equal(batch[1], F.features(pos.play(40)))
    assert F.num_planes() == 48 and F.num_planes("simple", True) == 17
    with pytest.raises(ValueError, match="unknown plane set"):
        F.features(pos, "nope")
    with pytest.raises(ValueError, match="one board size"):
        F.features_batch([pos, Position.new(Rules(size=5))])


def test_stone_colour_ones_and_zeros_follow_the_player_to_move():
    black = F.features(Position.from_ascii(P, to_play=BLACK))
    white = F.features(Position.from_ascii(P, to_play=WHITE))
    stones = Position.from_ascii(P).board.reshape(5, 5)
    assert np.array_equal(black[0], stones == BLACK) and np.array_equal(black[1], stones == WHITE)
    assert np.array_equal(white[0], stones == WHITE) and np.array_equal(white[1], stones == BLACK)
    for x in (black, white):
        assert np.array_equal(x[2], stones == 0)
        assert x[F.ONES].all() and not x[F.ZEROS].any()


def test_turns_since_counts_moves_back_along_the_parent_chain():
    root = Position.from_ascii("""
        . O X . .
        . . . . .
        . . . . .
        . . . . .
        . . . . X
        """, to_play=WHITE)
    pos = root
    # W A5, B B4, W D2, B A4 (captures A5 B5), W pass, B C3, W A5 again
    for move in (0, 6, 18, 5, PASS, 12, 0):
        pos = pos.play(move)
    assert pos.board[1] == 0  # the captured setup stone
    assert np.array_equal(decode(F.features(pos), F.TURNS_SINCE, 8), grid("""
        1 . 8 . .
        4 6 . . .
        . . 2 . .
        . . . 5 .
        . . . . 8
        """))
    line = Position.new(Rules(size=5))
    spaced = [0, 2, 4, 10, 12, 14, 20, 22, 24]  # nine moves, no two adjacent
    for move in spaced:
        line = line.play(move)
    ages = decode(F.features(line), F.TURNS_SINCE, 8).ravel()
    assert list(ages[spaced]) == [8, 8, 7, 6, 5, 4, 3, 2, 1] and ages.sum() == 44


def test_liberties_of_each_stones_group():
    x = F.features(Position.from_ascii(P))
    assert np.array_equal(decode(x, F.LIBERTIES, 8), grid("""
        1 2 . . .
        . . . . .
        . . 4 4 .
        . 3 1 1 2
        . . 1 1 .
        """))
    big = Position.new(Rules(size=7)).with_stones(black=[24])  # a lone stone: 4 liberties
    wall = Position.new(Rules(size=7)).with_stones(black=range(21, 28))  # 14 liberties: >= 8
    assert decode(F.features(big), F.LIBERTIES, 8)[3, 3] == 4
    assert (decode(F.features(wall), F.LIBERTIES, 8)[3] == 8).all()


def test_capture_size_only_on_legal_moves():
    black = F.features(Position.from_ascii(P, to_play=BLACK))
    assert np.array_equal(decode(black, F.CAPTURE_SIZE, 8, first=0, blank=-1), grid("""
        - - 0 0 0
        1 0 0 0 0
        0 0 - - 0
        0 - - - -
        0 0 - - 3
        """, blank=-1))
    white = F.features(Position.from_ascii(P, to_play=WHITE))
    expected = grid("""
        - - 0 0 0
        0 0 0 0 0
        0 0 - - 0
        0 - - - -
        0 1 - - -
        """, blank=-1)  # E1 would be suicide for White: no plane
    assert np.array_equal(decode(white, F.CAPTURE_SIZE, 8, first=0, blank=-1), expected)


def test_self_atari_size():
    x = F.features(Position.from_ascii(S, to_play=WHITE))
    assert np.array_equal(decode(x, F.SELF_ATARI, 8), grid("""
        1 - 1 . .
        . 1 - - 1
        . - - 3 -
        . - - . .
        . 1 - . .
        """))
    assert not F.features(Position.from_ascii(P))[F.SELF_ATARI:F.SELF_ATARI + 8].any()


def test_liberties_after_move():
    black = F.features(Position.from_ascii(P, to_play=BLACK))
    assert np.array_equal(decode(black, F.LIBERTIES_AFTER, 8), grid("""
        - - 3 3 2
        3 4 5 5 3
        3 7 - - 5
        4 - - - -
        2 3 - - 3
        """))
    white = F.features(Position.from_ascii(P, to_play=WHITE))
    assert np.array_equal(decode(white, F.LIBERTIES_AFTER, 8), grid("""
        - - 2 3 2
        2 3 3 3 3
        3 2 - - 1
        2 - - - -
        2 2 - - .
        """))


def test_sensibleness_excludes_own_eyes_and_illegal_moves():
    x = F.features(Position.from_ascii("""
        . X . X .
        X X X X X
        . . . . .
        . . . . O
        . . . O .
        """))
    assert np.array_equal(x[F.SENSIBLE], grid("""
        . - . - .
        - - - - -
        1 1 1 1 1
        1 1 1 1 -
        1 1 1 - .
        """))


# ---- ladders --------------------------------------------------------------------------------

LADDER = """
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
. . . . X . . . .
. . . X O . . . .
. . . . . X . . .
. . . . . . . . .
. . . . . . . . .
. . . . . . . . .
"""


def ladders(diagram: str, to_play: int = BLACK, **limits) -> tuple[set, set]:
    pos = Position.from_ascii(diagram, to_play=to_play)
    capture, escape = ladder_moves(pos, **limits)
    size = pos.size
    if not limits:  # the planes hold the same answers
        x = F.features(pos)
        assert np.array_equal(x[F.LADDER_CAPTURE].ravel(), capture)
        assert np.array_equal(x[F.LADDER_ESCAPE].ravel(), escape)
    return points(capture.reshape(size, size)), points(escape.reshape(size, size))


def put(diagram: str, row: int, col: int, stone: str) -> str:
    rows = [r.split() for r in diagram.strip().splitlines()]
    rows[row][col] = stone
    return "\n".join(" ".join(r) for r in rows)


def test_a_working_ladder_captures_in_both_directions():
    assert ladders(LADDER) == ({(4, 5), (5, 4)}, set())


def test_a_ladder_breaker_saves_the_runner():
    # a white stone on the up-right path breaks the ladder that starts with the atari at E4
    assert ladders(put(LADDER, 1, 7, "O")) == ({(4, 5)}, set())
    # the same on the down-left path, seen from White with the stone already in atari
    atari = put(LADDER, 4, 5, "X")
    assert ladders(atari, WHITE) == (set(), set())
    assert ladders(put(atari, 7, 1, "O"), WHITE) == (set(), {(5, 4)})


def test_the_runner_escapes_by_capturing_a_ladder_stone():
    # E6 is short of liberties: running up-right puts it in atari, and White takes it
    assert ladders(put(LADDER, 2, 4, "O")) == ({(4, 5)}, set())
    # already in atari: capturing at D6 escapes, and so does extending (the capture waits)
    weak = put(put(put(LADDER, 4, 5, "X"), 2, 4, "O"), 3, 5, "O")
    assert ladders(weak, WHITE) == (set(), {(3, 3), (5, 4)})


def test_ladders_along_the_edge():
    edge = "\n".join([". . . . . . ."] * 5 + [". . . X . . .", ". . . O . . ."])
    assert ladders(edge) == ({(6, 2), (6, 4)}, set())
    atari = put(edge, 6, 2, "X")
    assert ladders(atari, WHITE) == (set(), set())
    assert ladders(put(atari, 5, 5, "O"), WHITE) == (set(), {(6, 4)})


def test_a_long_ladder_on_19x19_and_the_depth_limit():
    rows = [["."] * 19 for _ in range(19)]
    rows[8][9] = rows[9][8] = rows[10][10] = "X"
    rows[9][9] = "O"
    board = "\n".join(" ".join(r) for r in rows)
    assert ladders(board) == ({(9, 10), (10, 9)}, set())
    assert ladders(board, max_depth=6) == (set(), set())  # cut short: "not captured"


# ---- symmetries, the colour plane, the simple set -------------------------------------------

def random_game(size: int, moves: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    pos, played = Position.new(Rules(size=size)), []
    for _ in range(moves):
        legal = np.flatnonzero(pos.legal_moves())
        move = int(rng.choice(legal))
        move = PASS if move == size * size else move
        pos = pos.play(move)
        played.append(move)
    return played


def replay(size: int, moves: list[int]) -> Position:
    pos = Position.new(Rules(size=size))
    for move in moves:
        pos = pos.play(move)
    return pos


def ascii_of(board: np.ndarray) -> str:
    return "\n".join(" ".join(".XO"[c] for c in row) for row in board)


@pytest.mark.parametrize("k", range(8))
def test_features_commute_with_the_symmetries(k):
    moves = random_game(7, 40, seed=k)
    pos = replay(7, moves)
    image = replay(7, [F.transform_move(m, k, 7) for m in moves])
    x = F.features(pos, player_colour=True)
    assert np.array_equal(F.transform_planes(x, k), F.features(image, player_colour=True))
    assert np.array_equal(F.symmetries(x)[k], F.transform_planes(x, k))
    for diagram in (put(LADDER, 2, 4, "O"), put(put(LADDER, 4, 5, "X"), 7, 1, "O")):
        orig = Position.from_ascii(diagram, to_play=WHITE)
        turned = Position.from_ascii(ascii_of(F.transform_planes(orig.board.reshape(9, 9), k)),
                                     to_play=WHITE)
        assert np.array_equal(F.transform_planes(F.features(orig), k), F.features(turned))


@pytest.mark.parametrize("k", range(8))
def test_policy_transform_matches_the_planes_and_inverts(k):
    rng = np.random.default_rng(k)
    policy = rng.random(26)
    image = F.transform_policy(policy, k)
    assert image[-1] == policy[-1]
    assert np.array_equal(image[:-1].reshape(5, 5), F.transform_planes(policy[:-1].reshape(5, 5),
                                                                        k))
    assert np.array_equal(F.inverse_transform_policy(image, k), policy)
    batch = rng.random((3, 26))
    assert np.array_equal(F.transform_policy(batch, k)[1], F.transform_policy(batch[1], k))
    for p in range(25):
        assert image[F.transform_move(p, k, 5)] == policy[p]
    assert F.transform_move(PASS, k, 5) == PASS


def test_player_colour_plane():
    pos = Position.from_ascii(P)
    assert F.features(pos, player_colour=True)[48].all()
    assert not F.features(pos.play(PASS), player_colour=True)[48].any()
    assert not F.features(pos.play(PASS), "simple", player_colour=True)[16].any()


def test_simple_set():
    pos = Position.from_ascii(P).play(2).play(PASS)
    simple, full = F.features(pos, "simple"), F.features(pos)
    assert np.array_equal(simple[:12], full[:12])
    assert np.array_equal(decode(simple, 12, 4), grid("""
        1 3 3 . .
        . . . . .
        . . 4 4 .
        . 3 1 1 2
        . . 1 1 .
        """))


# ---- the per-move planes against Position.play() --------------------------------------------

def group_of(board: np.ndarray, size: int, start: int) -> tuple[int, int]:
    """(stones, liberties) of the group at `start`, by a plain flood fill."""
    stones, libs, todo = {start}, set(), [start]
    while todo:
        r, c = divmod(todo.pop(), size)
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= rr < size and 0 <= cc < size:
                q = rr * size + cc
                if board[q] == 0:
                    libs.add(q)
                elif board[q] == board[start] and q not in stones:
                    stones.add(q)
                    todo.append(q)
    return len(stones), len(libs)


@pytest.mark.parametrize("seed", range(3))
def test_move_planes_agree_with_playing_each_move(seed):
    pos = replay(7, random_game(7, 30 + 5 * seed, seed=100 + seed))
    x = F.features(pos).reshape(48, 49)
    black_before, white_before = pos.prisoners
    for p in range(49):
        expect = np.zeros(24, np.uint8)
        if pos.is_legal(p):
            after = pos.play(p)
            captured = sum(after.prisoners) - black_before - white_before
            stones, libs = group_of(after.board, 7, p)
            expect[min(captured, 7)] = 1
            expect[16 + min(libs, 8) - 1] = 1
            if libs == 1:
                expect[8 + min(stones, 8) - 1] = 1
        assert np.array_equal(x[F.CAPTURE_SIZE:F.CAPTURE_SIZE + 24, p], expect), p
