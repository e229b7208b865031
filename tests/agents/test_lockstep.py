"""The two halves of a search round (MCTS.begin/gather/finish) and searches in lockstep
(lockstep.search_together): the same trees as search() alone, one evaluator call per round
per evaluator, and no virtual loss left behind."""

from __future__ import annotations

import numpy as np
import pytest

from agents.alphago.evaluators.protocol import Evaluation
from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.search.lockstep import search_together, split_evaluation
from agents.alphago.search.mcts import MCTS, MCTSConfig
from agents.alphago.search.player import SearchLimits
from envs.go import Position, Rules, from_gtp


class BoardCount:
    """A pure function of each position, so batching cannot change its answers: priors drawn
    from the position's hash, and the value from the stone count of the player to move.
    Records the size of every call."""

    def __init__(self):
        self.calls: list[int] = []
        self.seen: list[Position] = []

    def evaluate(self, positions):
        self.calls.append(len(positions))
        self.seen.extend(positions)
        n = positions[0].board.size
        priors = np.empty((len(positions), n + 1), np.float32)
        values = np.empty(len(positions), np.float32)
        for i, pos in enumerate(positions):
            rng = np.random.default_rng([int(pos.hash) & 0xFFFFFFFF, pos.to_play])
            priors[i] = rng.dirichlet(np.ones(n + 1))
            board = np.asarray(pos.board)
            own, other = (board == pos.to_play).sum(), (board == 3 - pos.to_play).sum()
            values[i] = np.tanh(0.3 * (own - other) + 0.1 * rng.standard_normal())
        return Evaluation(priors, values)


def _openings(size: int = 7) -> list[Position]:
    empty = Position.new(Rules(size=size, komi=7))
    one = empty.play(from_gtp("D4", size))
    two = one.play(from_gtp("C3", size)).play(from_gtp("E5", size))
    return [empty, one, two]


def _summary(candidates):
    return [(c.move, c.visits, round(c.winrate, 12), c.pv) for c in candidates]


def _by_hand(search: MCTS, position: Position, visits: int) -> int:
    """search() written out as begin and rounds of gather / evaluate / finish."""
    search.begin(position)
    done = search.finish(search.evaluator.evaluate(search.gather(1)))
    assert done == 0  # the root's evaluation is no simulation
    while done < visits and not search.tree.terminal[search.root]:
        leaves = search.gather(min(search.config.batch_size, visits - done))
        done += search.finish(search.evaluator.evaluate(leaves) if leaves else None)
    return done


@pytest.mark.parametrize("config", [
    dict(batch_size=8),
    dict(batch_size=4, dirichlet_alpha=0.3, virtual_loss=2.0, expand_threshold=2),
])
def test_search_equals_begin_gather_finish_by_hand(config):
    pos = _openings()[1]
    results = []
    for run in ("search", "by hand"):
        search = MCTS(RolloutEvaluator(seed=3, threads=1), MCTSConfig(**config),
                      np.random.default_rng(7))
        if run == "search":
            search.search(pos, SearchLimits(visits=300))
        else:
            assert _by_hand(search, pos, 300) == 300
        results.append((_summary(search.candidates()), search.tree.N[: search.tree.n_edges]))
    assert results[0][0] == results[1][0] and results[0][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_gather_and_finish_check_their_order_and_rows():
    search = MCTS(BoardCount(), MCTSConfig(batch_size=4))
    with pytest.raises(RuntimeError, match="without a gather"):
        search.finish(None)
    search.begin(_openings()[0])
    root = search.gather(4)
    assert len(root) == 1  # the unexpanded root alone, whatever the batch
    with pytest.raises(RuntimeError, match="before finish"):
        search.gather(4)
    with pytest.raises(ValueError, match="0 rows for 1"):
        search.finish(None)
    search.finish(search.evaluator.evaluate(root))
    assert len(search.gather(4)) == 4


def test_one_search_together_equals_its_search():
    pos = _openings()[2]
    alone = MCTS(RolloutEvaluator(seed=1, threads=1), MCTSConfig(batch_size=8))
    expected = _summary(alone.search(pos, SearchLimits(visits=250)))
    together = MCTS(RolloutEvaluator(seed=1, threads=1), MCTSConfig(batch_size=8))
    (got,) = search_together([together], [pos], 250)
    assert _summary(got) == expected
    assert together.simulations == alone.simulations == 250


def test_searches_sharing_an_evaluator_make_one_call_per_round():
    positions, visits = _openings(), [100, 61, 37]
    shared = BoardCount()
    searches = [MCTS(shared, MCTSConfig(batch_size=8)) for _ in positions]
    results = search_together(searches, positions, visits)
    # round 0 evaluates the three roots; then every round up to the longest search's 100
    # visits in batches of 8 (the last one short) is one call
    assert shared.calls[0] == 3
    assert len(shared.calls) == 1 + -(-100 // 8)
    assert shared.calls[1] == 24 and max(shared.calls) <= 24
    for search, position, n, got in zip(searches, positions, visits, results, strict=True):
        assert search.simulations == n
        assert sum(c.visits for c in got) == n
        alone = MCTS(BoardCount(), MCTSConfig(batch_size=8))
        assert _summary(got) == _summary(alone.search(position, SearchLimits(visits=n)))


def _descends(position: Position, root: Position) -> bool:
    return any(a.hash == root.hash and a.move_number == root.move_number
               for a in position.ancestors())


def test_each_evaluator_gets_only_its_own_searches_leaves():
    # three roots none of which continues another, so every leaf belongs to one of them
    empty = Position.new(Rules(size=7, komi=7))
    positions = [empty.play(from_gtp(v, 7)) for v in ("D4", "C3", "E5")]
    first, second = BoardCount(), BoardCount()
    searches = [MCTS(first, MCTSConfig(batch_size=8)), MCTS(second, MCTSConfig(batch_size=4)),
                MCTS(first, MCTSConfig(batch_size=8))]
    search_together(searches, positions, 40)
    assert first.calls == [2] + [16] * 5
    assert second.calls == [1] + [4] * 10
    assert second.seen[0] is positions[1]  # its root, then only that root's descendants
    assert all(_descends(p, positions[1]) for p in second.seen)
    assert first.seen[:2] == [positions[0], positions[2]]
    assert all(_descends(p, positions[0]) or _descends(p, positions[2]) for p in first.seen)
    assert not any(_descends(p, positions[1]) for p in first.seen)


def test_no_virtual_loss_is_left_behind():
    # a virtual loss of 2.5 would leave fractional counts wherever it was not taken back
    positions = _openings()
    shared = BoardCount()
    searches = [MCTS(shared, MCTSConfig(batch_size=8, virtual_loss=2.5)) for _ in positions]
    search_together(searches, positions, [120, 80, 57])
    for search, n in zip(searches, [120, 80, 57], strict=True):
        tree, root = search.tree, search.root
        edge_n, visits = tree.N[: tree.n_edges], tree.visits[: tree.n_nodes]
        assert np.all(edge_n == np.round(edge_n)) and np.all(visits == np.round(visits))
        assert tree.N[tree.edges(root)].sum() == visits[root] == n
        has_child = np.flatnonzero(tree.child[: tree.n_edges] >= 0)
        # every visit of a node came through its edge, and (expand_threshold 1) all but the
        # one that expanded it went on down one of its own edges
        np.testing.assert_array_equal(visits[tree.child[has_child]], edge_n[has_child])
        for node in range(tree.n_nodes):
            if node != root and tree.count[node] > 0:
                assert visits[node] == tree.N[tree.edges(node)].sum() + 1


def test_split_evaluation_cuts_rows_and_tails_in_order():
    priors = np.arange(12, dtype=np.float32).reshape(6, 2)
    values = np.arange(6, dtype=np.float32)
    tails = [np.array([i], np.int32) for i in range(6)]
    parts = split_evaluation(Evaluation(priors, values, tails), [2, 0, 4])
    assert [len(p.values) for p in parts] == [2, 0, 4]
    assert parts[2].values.tolist() == [2, 3, 4, 5]
    assert parts[2].priors[0].tolist() == [4, 5]
    assert [int(t[0]) for t in parts[2].tails] == [2, 3, 4, 5]
    assert split_evaluation(Evaluation(priors, values), [6])[0].tails is None
    with pytest.raises(ValueError, match="rows"):
        split_evaluation(Evaluation(priors, values), [2, 2])
