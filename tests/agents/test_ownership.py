"""Ownership and score from the evaluators through the search (issue 20): the rollouts' final
owners and margins for the leaf's mover, the play net's heads mixed with them by lambda, the
lockstep split, and MCTS's averages (ownership in Black's view, each root move's score lead
for its mover), reset when the root changes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.alphago.evaluators.playnet import PlayNetEvaluator
from agents.alphago.evaluators.protocol import Evaluation
from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.nets.networks import NetSpec, build_network
from agents.alphago.playouts import linear
from agents.alphago.search.lockstep import search_together, split_evaluation
from agents.alphago.search.mcts import MCTS, MCTSConfig
from agents.alphago.search.player import SearchLimits
from envs.go import BLACK, WHITE, Position, Rules, from_gtp

SIZE = 5
KOMI = 7.5


def _black_wall(to_play: int) -> Position:
    """5x5, Black everywhere but two single-point eyes (A5, C5): nobody can play a playout
    move (Black never fills an eye, White's would be suicide), so every playout ends at once
    with Black owning all 25 points: a margin of 25 - 7.5 for Black."""
    eyes = {from_gtp("A5", SIZE), from_gtp("C5", SIZE)}
    black = [p for p in range(SIZE * SIZE) if p not in eyes]
    return Position.new(Rules(size=SIZE, komi=KOMI)).with_stones(black=black, to_play=to_play)


@pytest.mark.parametrize("kind", ["heavy", "light", "linear"])
def test_rollouts_report_final_owners_and_margin_for_the_mover(kind):
    evaluator = RolloutEvaluator(seed=3, heavy=kind == "heavy", threads=2, linear_policy=(
        linear.RolloutPolicy.zeros() if kind == "linear" else None))
    out = evaluator.evaluate([_black_wall(BLACK), _black_wall(WHITE)] * 3)
    assert out.ownership.shape == (6, SIZE * SIZE) and out.ownership.dtype == np.float32
    assert out.score.dtype == np.float32
    np.testing.assert_array_equal(out.ownership[0::2], 1.0)  # Black to move owns it all
    np.testing.assert_array_equal(out.ownership[1::2], -1.0)  # White to move owns nothing
    np.testing.assert_allclose(out.score, [17.5, -17.5] * 3)
    np.testing.assert_array_equal(out.values, [1, -1] * 3)


def test_rollout_values_agree_with_their_margins_on_an_open_board():
    position = Position.new(Rules(size=SIZE, komi=0.5)).play(from_gtp("C3", SIZE))
    out = RolloutEvaluator(seed=5, threads=1).evaluate([position] * 32)
    np.testing.assert_array_equal(out.values, np.sign(out.score))
    assert set(np.unique(out.ownership)) <= {-1.0, 0.0, 1.0}
    # the margin is the mover's area (owned points) minus the opponent's, minus komi for
    # Black; White is to move here, so komi counts for it
    area = (out.ownership == 1).sum(1) - (out.ownership == -1).sum(1)
    np.testing.assert_allclose(out.score, area + 0.5)


def _tiny_play_net(size: int = SIZE):
    torch.manual_seed(0)
    return build_network(NetSpec(kind="play", size=size, planes="simple", layers=1, filters=8,
                                 hidden=16))


def test_play_net_gives_its_heads_and_mixes_them_with_rollouts_by_lambda():
    net = _tiny_play_net()
    positions = [_black_wall(BLACK), _black_wall(WHITE)]
    alone = PlayNetEvaluator(net)
    out, heads = alone.evaluate(positions), alone.outputs(positions)
    np.testing.assert_allclose(out.ownership, heads["ownership"])
    np.testing.assert_allclose(out.score, heads["score"])
    mixed = PlayNetEvaluator(net, RolloutEvaluator(seed=1, threads=1), mix=0.25)
    try:
        both = mixed.evaluate(positions)
    finally:
        mixed.close()
    # the rollouts' owners are +1 / -1 everywhere and their margins +-17.5 (see _black_wall)
    np.testing.assert_allclose(both.ownership[0], 0.75 * heads["ownership"][0] + 0.25,
                               atol=1e-6)
    np.testing.assert_allclose(both.ownership[1], 0.75 * heads["ownership"][1] - 0.25,
                               atol=1e-6)
    np.testing.assert_allclose(both.score, 0.75 * heads["score"] + 0.25 * np.array(
        [17.5, -17.5]), rtol=1e-5)
    assert both.ownership.dtype == np.float32 and both.score.dtype == np.float32


def test_split_evaluation_carries_ownership_and_score():
    priors = np.ones((5, 10), np.float32)
    ownership = np.arange(45, dtype=np.float32).reshape(5, 9)
    score = np.arange(5, dtype=np.float32)
    parts = split_evaluation(Evaluation(priors, score, None, ownership, score), [2, 0, 3])
    np.testing.assert_array_equal(parts[0].ownership, ownership[:2])
    assert parts[1].ownership.shape == (0, 9)
    np.testing.assert_array_equal(parts[2].score, score[2:])
    assert split_evaluation(Evaluation(priors, score), [5])[0].ownership is None


class FixedInBlacksView:
    """Uniform priors and values, and the same ownership and score for every leaf when seen
    from Black (`black_own` [n], `black_score`), handed to MCTS from the leaf's mover's view as
    the protocol says: whatever mix of movers the leaves have, the search's averages in Black's
    view must come out as exactly these."""

    def __init__(self, black_own: np.ndarray, black_score: float):
        self.black_own, self.black_score = black_own, black_score

    def evaluate(self, positions):
        b, n = len(positions), positions[0].board.size
        signs = np.array([1.0 if p.to_play == BLACK else -1.0 for p in positions], np.float32)
        return Evaluation(np.ones((b, n + 1), np.float32), np.zeros(b, np.float32), None,
                          (signs[:, None] * self.black_own[None]).astype(np.float32),
                          (signs * self.black_score).astype(np.float32))


def test_search_averages_ownership_in_blacks_view_and_scores_for_the_root_mover():
    own = np.linspace(-1, 1, SIZE * SIZE).astype(np.float32)
    evaluator = FixedInBlacksView(own, 4.0)
    search = MCTS(evaluator, MCTSConfig(rave_equivalence=0, batch_size=4))
    empty = Position.new(Rules(size=SIZE, komi=KOMI))
    candidates = search.search(empty, SearchLimits(visits=40))
    np.testing.assert_allclose(search.ownership(), own, atol=1e-6)
    assert search.ownership().dtype == np.float32
    assert all(c.score_lead == pytest.approx(4.0) for c in candidates)  # Black chose them
    # a new, unrelated root (White to move): the averages start afresh, in the new values
    evaluator.black_own, evaluator.black_score = -own, 2.5
    white_root = empty.play(from_gtp("C3", SIZE)).play(from_gtp("B2", SIZE)).play(
        from_gtp("D4", SIZE))
    candidates = search.search(white_root, SearchLimits(visits=40))
    np.testing.assert_allclose(search.ownership(), -own, atol=1e-6)
    assert candidates and all(c.score_lead == pytest.approx(-2.5) for c in candidates)
    # the root moves down the kept tree: reset as well
    evaluator.black_own = np.zeros_like(own)
    search.search(white_root.play(candidates[0].move), SearchLimits(visits=16))
    np.testing.assert_allclose(search.ownership(), 0.0, atol=1e-6)


def test_each_root_move_gets_the_scores_of_the_leaves_under_it():
    """Rollouts from the wall position: every leaf's playout ends where it stands, so a root
    move's score lead is the exact margin after it, for Black who chose it."""
    search = MCTS(RolloutEvaluator(seed=0, threads=1), MCTSConfig(batch_size=4))
    candidates = search.search(_black_wall(BLACK), SearchLimits(visits=64))
    stdev = search.ownership_stdev()
    assert stdev is not None and stdev.shape == (SIZE * SIZE,) and (stdev >= 0).all()
    for c in candidates:
        assert c.score_lead is not None and -25 - KOMI <= c.score_lead <= 25 - KOMI
    # after Black's pass White cannot move (suicide) and Black fills no eye: the wall stands
    passing = [c for c in candidates if c.move < 0]
    assert passing and passing[0].score_lead == pytest.approx(17.5)


def test_no_ownership_without_an_evaluator_that_gives_it_and_lockstep_keeps_it():
    class ValuesOnly(FixedInBlacksView):
        def evaluate(self, positions):
            return super().evaluate(positions)._replace(ownership=None, score=None)

    plain = MCTS(ValuesOnly(np.zeros(SIZE * SIZE, np.float32), 0.0))
    candidates = plain.search(Position.new(Rules(size=SIZE)), SearchLimits(visits=8))
    assert plain.ownership() is None and all(c.score_lead is None for c in candidates)
    own = np.full(SIZE * SIZE, 0.5, np.float32)
    shared = FixedInBlacksView(own, 1.0)
    searches = [MCTS(shared, MCTSConfig(batch_size=4)) for _ in range(2)]
    empty = Position.new(Rules(size=SIZE))
    results = search_together(searches, [empty, empty.play(from_gtp("C3", SIZE))], 12)
    for search in searches:
        np.testing.assert_allclose(search.ownership(), own, atol=1e-6)
    assert all(c.score_lead == pytest.approx(1.0) for c in results[0])
    assert all(c.score_lead == pytest.approx(-1.0) for c in results[1])
