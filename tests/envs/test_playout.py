"""The compiled playout engine against the Position rules it must agree with."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go import PASS, Position, Rules, dead_stones, kernels
from envs.go import playout as P
from envs.go.board import chain_at, liberties
from envs.go.playout import make_rng, ownership, playout_final_board, playout_scores


def _replay(position: Position, moves: np.ndarray) -> Position:
    for move in moves:
        position = position.play(int(move))  # raises IllegalMove if the playout cheated
    return position


@pytest.mark.parametrize("size", [5, 7, 9, 13, 19])
def test_playout_moves_are_legal_and_boards_agree(size):
    rules = Rules(size=size, komi=6.5, ko="simple")
    for seed in range(20 if size <= 9 else 5):
        start = Position.new(rules)
        board, moves = playout_final_board(start, make_rng(seed))
        end = _replay(start, moves)
        assert np.array_equal(end.board, board), f"seed {seed}\n{end}"
        assert end.is_game_over() or len(moves) >= 3 * size * size



@pytest.mark.parametrize("size", [7, 9])
def test_liberty_sums_stay_exact_and_atari_tests_agree_with_the_rules(size):
    """The playout board's per-group pseudo-liberty count, sum and sum of squares, kept move
    by move, equal those of the same board set up afresh; in_atari and liberties_after, which
    read only those three numbers, say what the rules' liberties say."""
    nbr = kernels.neighbour_table(size)
    n = size * size
    board, head, link, libs, gsize, empty, where, _, _ = P.work_arrays(n)
    fresh = P.work_arrays(n)
    scratch = np.empty(16, np.int32)
    checked_atari = checked_after = 0
    for seed in range(4):
        position = Position.new(Rules(size=size, ko="simple"))
        _, moves = playout_final_board(position, make_rng(seed))
        n_empty = P.setup_board(position.board, nbr, board, head, link, libs, gsize, empty, where)
        for move in moves[: len(moves) - 2]:
            move = int(move)
            if move != PASS:
                n_empty, _ = P.play_move(board, nbr, head, link, libs, gsize, empty, where,
                                         n_empty, move, position.to_play)
            position = position.play(move)
            assert np.array_equal(board, position.board)
            P.setup_board(position.board, nbr, fresh[0], *fresh[1:7])
            stones = np.flatnonzero(board)
            assert np.array_equal(libs[head[stones]], fresh[3][fresh[1][stones]])
            for p in stones[::7]:
                lone = len(liberties(position, chain_at(position, int(p)))) == 1
                assert P.in_atari(libs, head[p], scratch) == lone
                checked_atari += 1
            color = position.to_play
            for p in np.flatnonzero(board == 0)[::5]:
                if not P.is_legal_move(board, nbr, head, libs, p, color, position.ko):
                    continue
                after = position.play(int(p), superko=False)
                captures = int(np.sum(after.board == 0)) > int(np.sum(position.board == 0)) - 1
                expected = 2 if captures else min(2, len(liberties(after, chain_at(after, int(p)))))
                assert P.liberties_after(board, nbr, head, libs, p, color, scratch) == \
                    expected, (seed, int(p))
                checked_after += 1
    assert checked_atari > 500 and checked_after > 500

def test_playout_from_a_ko_respects_the_ko_point():
    pos = Position.from_ascii("""
        . X O . .
        X O . O .
        . X O . .
        . . . . .
        . . . . .
    """, ko="simple")
    pos = pos.play(7)  # Black C4 takes the white stone at B4: White may not retake at once
    assert pos.ko == 6
    retakes = 0
    for seed in range(40):
        board, moves = playout_final_board(pos, make_rng(seed))
        assert moves[0] != 6
        retakes += int(6 in moves[1:].tolist())
        end = _replay(pos, moves)
        assert np.array_equal(end.board, board)
    assert retakes > 0  # the ko is fought later in some playouts


def test_playouts_never_fill_their_own_single_point_eyes():
    rules = Rules(size=9, ko="simple")
    for seed in range(10):
        start = Position.new(rules)
        _, moves = playout_final_board(start, make_rng(seed))
        pos = start
        for move in moves:
            move = int(move)
            if move != PASS:
                nbrs = _neighbours(move, 9)
                mover = pos.to_play
                eye = all(pos.board[q] == mover for q in nbrs)
                diag_opp = sum(pos.board[q] == 3 - mover for q in _diagonals(move, 9))
                edge = len(nbrs) < 4
                assert not (eye and diag_opp + edge < 2), f"filled own eye at {move}"
            pos = pos.play(move)


def test_scores_match_position_score_and_are_seeded():
    rules = Rules(size=9, komi=7.0, ko="simple")
    start = Position.new(rules)
    a = playout_scores(start, 50, make_rng(7))
    b = playout_scores(start, 50, make_rng(7))
    assert np.array_equal(a, b)
    board, moves = playout_final_board(start, make_rng(11))
    end = _replay(start, moves)
    assert playout_scores(start, 1, make_rng(11))[0] == end.score()


def _neighbours(p, size):
    r, c = divmod(p, size)
    return [rr * size + cc for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
            if 0 <= rr < size and 0 <= cc < size]


def _diagonals(p, size):
    r, c = divmod(p, size)
    return [rr * size + cc for rr, cc in ((r - 1, c - 1), (r - 1, c + 1), (r + 1, c - 1),
                                          (r + 1, c + 1)) if 0 <= rr < size and 0 <= cc < size]


def test_dead_stones_and_ownership():
    # a lone white stone inside Black's wall is dead; Black's solid territory is Black's
    pos = Position.from_ascii("""
        . . . X . . .
        . O . X . . .
        . . . X . . .
        X X X X . . .
        . . . . . . .
        . . . . . . .
        . . . . . . .
    """, komi=0, ko="simple", to_play=2)
    owned = ownership(pos, 400, make_rng(1))
    assert owned.shape == (49,) and np.all(np.abs(owned) <= 1)
    assert owned[0] > 0.5  # A7, inside Black's corner
    assert 8 in dead_stones(pos, 400, make_rng(2)).tolist()  # B6, the white stone


def test_playout_scores_equal_tromp_taylor_on_many_final_boards():
    # the fast single-point-eye scoring must agree with the general flood fill everywhere
    for size, komi in ((5, 0.5), (7, 3.0), (9, 7.0)):
        start = Position.new(Rules(size=size, komi=komi, ko="simple"))
        for seed in range(40):
            board, moves = playout_final_board(start, make_rng(seed))
            end = _replay(start, moves)
            assert playout_scores(start, 1, make_rng(seed))[0] == end.score()
            assert np.array_equal(ownership(start, 1, make_rng(seed)),
                                  np.where(end.ownership() == 1, 1.0,
                                           np.where(end.ownership() == 2, -1.0, 0.0)))


def test_area_score_handles_seki_and_large_regions():
    from envs.go import kernels
    from envs.go.playout import area_score

    for diagram in ("""
        . X O . .
        X X O O O
        . X O . .
        X X O O O
        . X O . .
    """, """
        . . X O .
        . . X O .
        X X X O .
        O O O O .
        . . . . .
    """, """
        X X O O O
        X . . O .
        X X O O O
        X . X O .
        X X X O O
    """):  # the last: a two-point region each of whose points sees one colour only
        pos = Position.from_ascii(diagram, komi=0.5)
        owner = np.empty(25, np.int8)
        own_sum = np.zeros(25)
        score = area_score(pos.board, kernels.neighbour_table(5), 0.5, owner, own_sum)
        assert score == pos.score()
        assert np.array_equal(owner, pos.ownership())
