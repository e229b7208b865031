"""The network-free engine's move priors: opening sense on big boards, 9x9 as it was."""

from __future__ import annotations

import numpy as np
import pytest

from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.playouts import mogo
from agents.alphago.search.compiled import CompiledMCTS
from agents.alphago.search.mcts import MCTS, MCTSConfig
from agents.alphago.search.player import SearchLimits
from envs.go import Position, Rules, from_gtp, kernels


def priors(position: Position) -> np.ndarray:
    size = position.rules.size
    n = size * size
    out = np.zeros(n + 1, np.float32)
    last = position.last_move if position.last_move is not None and position.last_move >= 0 \
        else -1
    mogo.heuristic_priors(position.board, kernels.neighbour_table(size),
                          kernels.diagonal_table(size), kernels.neighbour8_table(size),
                          position.to_play, last, position.legal_moves()[:n],
                          mogo.pattern_table(), out)
    return out[:n].reshape(size, size)


def by_line(grid: np.ndarray) -> list[float]:
    """The mean prior of each line from the edge (first, second, ...), over the whole board."""
    size = grid.shape[0]
    index = np.add.outer(np.arange(size), np.zeros(size, int))
    line = np.minimum(np.minimum(index, index.T), np.minimum(size - 1 - index, size - 1 - index.T))
    return [float(grid[line == k].mean()) for k in range(4)]


@pytest.mark.parametrize("size", [11, 13, 19])
def test_an_empty_big_board_opens_on_the_third_and_fourth_lines(size):
    first, second, third, fourth = by_line(priors(Position.new(Rules(size=size, komi=7.5))))
    assert first == second == 0 and min(third, fourth) > 1


@pytest.mark.parametrize("search", [CompiledMCTS, MCTS])
def test_no_search_plays_the_edge_of_an_empty_area(search):
    """Both searches give the ruled-out moves no edge: however the playouts score them, the
    engine cannot choose them (the 19x19 opening without a network)."""
    position = Position.new(Rules(size=13, komi=7.5))
    for move in ("D3", "K10"):
        position = position.play(from_gtp(move, 13))
    tree_search = search(RolloutEvaluator(seed=0, threads=1), MCTSConfig(),
                         np.random.default_rng(0))
    tree_search.search(position, SearchLimits(visits=400))
    tree = tree_search.tree
    moves = tree.move[tree.edges(tree_search.root)]
    lines = {min(r, c, 12 - r, 12 - c) for r, c in (divmod(int(m), 13) for m in moves if m >= 0)}
    assert min(lines) == 0  # the first line near D3 is still there ...
    grid = priors(position)
    ruled_out = {int(p) for p in np.flatnonzero(grid.ravel() == 0)} & \
        {int(p) for p in np.flatnonzero(position.legal_moves()[:-1])}
    assert ruled_out and not ruled_out & {int(m) for m in moves}  # ... the empty edges are not


def test_near_stones_the_lines_no_longer_rule():
    """Next to a stone (an approach, a hane, a 3-3 invasion) the second line is ordinary Go:
    only the empty areas are weighted by their line."""
    position = Position.new(Rules(size=19, komi=7.5))
    for move in ("Q16", "R17"):
        position = position.play(from_gtp(move, 19))
    grid = priors(position)
    point = divmod(from_gtp("R18", 19), 19)  # second line, next to the stone on R17
    far_second = divmod(from_gtp("K2", 19), 19)  # second line, nothing near
    assert grid[point] > 0 and grid[far_second] == 0


def test_9x9_priors_keep_no_line_preference_beyond_the_first():
    first, second, third, fourth = by_line(priors(Position.new(Rules(size=9, komi=7.0))))
    assert second == third == fourth and first == pytest.approx(0.3 * second)


@pytest.mark.parametrize("size", [5, 9, 13, 19])
def test_the_scratch_version_repeats_itself_and_counts_nearness_exactly(size):
    """fill_priors (the compiled search's, with scratch that earlier calls left dirty) gives
    heuristic_priors' weights; its sliding-window nearness equals a brute-force count."""
    rng = np.random.default_rng(size)
    n = size * size
    tables = (kernels.neighbour_table(size), kernels.diagonal_table(size),
              kernels.neighbour8_table(size))
    scratch = np.full((mogo.PRIORS_SCRATCH, n), 7, np.int32)
    for density in (0.0, 0.05, 0.3, 0.6):
        board = np.where(rng.random(n) < density, rng.integers(1, 3, n), 0).astype(np.int8)
        legal = board == 0
        fresh, reused = np.empty(n + 1, np.float32), np.empty(n + 1, np.float32)
        mogo.heuristic_priors(board, *tables, 1, int(np.argmax(board != 0)), legal,
                              mogo.pattern_table(), fresh)
        mogo.fill_priors(board, *tables, 1, int(np.argmax(board != 0)), legal,
                         mogo.pattern_table(), reused, scratch)
        assert np.array_equal(fresh, reused)
        grid = board.reshape(size, size) != 0
        near = np.array([[grid[max(0, r - 2):r + 3, max(0, c - 2):c + 3].any()
                          for c in range(size)] for r in range(size)])
        if size >= mogo.OPENING_SENSE_SIZE:  # fill_priors leaves its nearness in scratch[5]
            assert np.array_equal(scratch[5].reshape(size, size) == 1, near)
