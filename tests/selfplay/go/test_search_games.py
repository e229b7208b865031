"""Games searched in lockstep (selfplay/go/search_games.py): the training records of a scripted
game, checked against a final position worked out by hand, and the lockstep scheduler."""

from __future__ import annotations

import numpy as np

from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.nets.features import features_batch
from agents.alphago.search.mcts import MCTS, MCTSConfig
from agents.alphago.search.player import MoveInfo
from envs.go import BLACK, PASS, WHITE, Position, Rules
from selfplay.go.search_games import SearchGame, play_lockstep, visit_distribution

SIZE = 5
KOMI = 2.5
N = SIZE * SIZE


def _point(row: int, col: int) -> int:
    return row * SIZE + col


def _script() -> list[int]:
    """Black fills column 1, White column 3, alternately, then both pass. By Tromp-Taylor
    Black owns columns 0-1, White columns 3-4, column 2 (touching both) is no one's: 10 points
    each, so Black's margin is 10 - 10 - 2.5 = -2.5 and White wins."""
    moves = []
    for row in range(SIZE):
        moves += [_point(row, 1), _point(row, 3)]
    return moves + [PASS, PASS]


def _candidates(move: int, step: int) -> list[MoveInfo]:
    """Root statistics whose most visited move is `move`; a real move comes with two runners-up
    on empty points of column 2 (never played), so the visit distribution has three entries."""
    winrate = 0.3 + 0.01 * step
    if move == PASS:  # alone: choose() may not swap a losing pass for another move
        return [MoveInfo(PASS, 9, winrate, 0.5, winrate)]
    return [MoveInfo(move, 10 + step, winrate, 0.5, winrate),
            MoveInfo(_point(step % SIZE, 2), 4, 0.2, 0.2, 0.2),
            MoveInfo(PASS, 1, 0.1, 0.1, 0.1)]


def _scripted_game() -> tuple[SearchGame, list[Position], list[np.ndarray]]:
    """The scripted game played through SearchGame.move, with the positions searched and the
    visit distributions given, computed independently of the game."""
    rules = Rules(size=SIZE, komi=KOMI)
    config = MCTSConfig(temperature=0.0, temperature_moves=0, dirichlet_alpha=0.0)
    mcts = MCTS(RolloutEvaluator(seed=0, threads=1), config)  # never searches here
    game = SearchGame(rules, mcts, mcts)
    position = Position.new(rules)
    positions, policies = [], []
    for step, move in enumerate(_script()):
        assert not game.over
        given = _candidates(move, step)
        game.move(given)
        positions.append(position)
        row = np.zeros(N + 1, np.float32)
        total = sum(c.visits for c in given)
        for c in given:
            row[N if c.move == PASS else c.move] = c.visits / total
        policies.append(row)
        position = position.play(move)
    assert game.over and game.position.is_game_over()
    return game, positions, policies


def test_the_records_of_a_scripted_game_are_exact():
    game, positions, policies = _scripted_game()
    assert [m for _, m in game.position.moves()] == _script()
    assert game.winner() == WHITE and game.position.result() == "W+2.5"
    ex = game.examples("simple")
    t = len(_script())
    movers = np.array([p.to_play for p in positions])
    assert list(movers) == [BLACK, WHITE] * (t // 2)
    # outcome: +1 for the winner (White) to move, -1 for Black
    np.testing.assert_array_equal(ex["z"], np.where(movers == BLACK, -1.0, 1.0))
    # ownership by hand: columns 0-1 Black's, 3-4 White's, 2 no one's
    black_view = np.zeros((SIZE, SIZE), np.int8)
    black_view[:, :2], black_view[:, 3:] = 1, -1
    for i, mover in enumerate(movers):
        sign = 1 if mover == BLACK else -1
        np.testing.assert_array_equal(ex["ownership"][i], sign * black_view.reshape(-1))
    np.testing.assert_array_equal(ex["score"], np.where(movers == BLACK, -2.5, 2.5))
    np.testing.assert_allclose(ex["policy"], np.stack(policies), rtol=1e-6)
    np.testing.assert_array_equal(ex["planes"],
                                  features_batch(positions, "simple", player_colour=True))
    assert ex["planes"].dtype == np.uint8 and ex["ownership"].dtype == np.int8
    assert game.move_comments()[0] == "win rate 30.0%" and len(game.move_comments()) == t


def test_a_visit_distribution_puts_pass_last_and_defaults_to_pass():
    dist = visit_distribution([MoveInfo(3, 6, 0.5, 0.5, 0.5), MoveInfo(PASS, 2, 0.5, 0.5, 0.5)],
                              4)
    np.testing.assert_allclose(dist, [0, 0, 0, 0.75, 0.25])
    np.testing.assert_array_equal(visit_distribution([], 4), [0, 0, 0, 0, 1])


def test_lockstep_plays_every_game_once_with_fewer_slots_than_games():
    rules = Rules(size=SIZE, komi=0.5)
    evaluator = RolloutEvaluator(seed=1, threads=1)
    config = MCTSConfig(batch_size=4, dirichlet_alpha=0.0, temperature_moves=4,
                        resign_threshold=0.0)
    started = []

    def start(i: int) -> SearchGame:
        started.append(i)
        mcts = MCTS(evaluator, config, np.random.default_rng(i))
        return SearchGame(rules, mcts, mcts, max_moves=6 + i, tag=i)

    finished = list(play_lockstep(start, total=7, slots=3, visits=8))
    assert sorted(g.tag for g in finished) == list(range(7)) and started == list(range(7))
    for game in finished:
        assert game.over and len(game.searched) == game.position.move_number
        assert game.position.move_number <= 6 + game.tag
        assert len(game.examples("simple")["z"]) == len(game.searched)
