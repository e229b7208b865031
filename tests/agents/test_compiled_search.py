"""CompiledMCTS: threads on one tree keep exact books, memory stays bounded, reuse survives.

Known answers (capture, save, two eyes, passing, resigning) are in test_mcts.py, run for this
search and for the Python reference alike."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.search import tree as T
from agents.alphago.search.atomics import atomic_add, atomic_cas, atomic_load, atomic_store
from agents.alphago.search.compiled import ASK_BATCH, CompiledMCTS, compiles, make_search
from agents.alphago.search.mcts import MCTS, MCTSConfig
from agents.alphago.search.player import SearchLimits, TreeSearch
from envs.go import PASS, Position, Rules, from_gtp


def _search(threads=2, seed=0, **config) -> CompiledMCTS:
    return CompiledMCTS(RolloutEvaluator(seed=seed, threads=threads), MCTSConfig(**config),
                        np.random.default_rng(seed))


def _used(tree, n_edges):
    return tree.N[:n_edges], tree.W[:n_edges]


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_virtual_loss_is_taken_back_exactly_after_concurrent_searches(threads):
    """A virtual loss of 0.25 is exact in binary: any left in the tree would leave a quarter
    somewhere. Every simulation adds exactly one visit to the root and one to a root edge."""
    search = _search(threads, virtual_loss=0.25)
    pos = Position.new(Rules(size=7, komi=7))
    search.search(pos, SearchLimits(visits=3000))
    tree = search.tree
    assert search.simulations == 3000
    edges = tree.edges(search.root)
    assert tree.N[edges].sum() == 3000 and tree.visits[search.root] == 3000
    n, w = _used(tree, tree.n_edges)
    assert np.all(n == np.round(n)) and np.all(w == np.round(w))
    assert np.all(tree.visits[: tree.n_nodes] == np.round(tree.visits[: tree.n_nodes]))
    assert np.all(np.abs(w[n > 0] / n[n > 0]) <= 1.0)
    # each node was reached at most as often as the edge into it was taken
    for e in range(tree.n_edges):
        child = tree.child[e]
        if child >= 0:
            assert tree.visits[child] <= tree.N[e]
    # and the same books again on top: a second search of the same position reuses the tree
    search.search(pos, SearchLimits(visits=1000))
    assert tree.N[edges].sum() == 4000 and tree.visits[search.root] == 4000


def test_atomics_count_exactly_across_threads():
    import numba as nb

    @nb.njit(nogil=True)
    def work(counts, floats, flags, k):
        for _ in range(k):
            atomic_add(counts, 0, 1)
            atomic_add(floats, 0, 0.5)
            while True:  # an increment by compare-and-swap
                old = atomic_load(counts, 1)
                if atomic_cas(counts, 1, old, old + 1) == old:
                    break
        atomic_store(flags, 0, 1)

    counts, floats, flags = np.zeros(2, np.int64), np.zeros(1), np.zeros(1, np.int32)
    workers = [threading.Thread(target=work, args=(counts, floats, flags, 200_000))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert counts.tolist() == [600_000, 600_000] and floats[0] == 300_000.0 and flags[0] == 1


def test_a_full_pool_stops_growing_and_the_search_goes_on():
    search = _search(2, max_nodes=400, max_edges=400 * 50)
    pos = Position.new(Rules(size=7, komi=7))
    search.search(pos, SearchLimits(visits=5000))
    tree = search.tree
    assert search.simulations == 5000
    assert tree.n_nodes == 400 and tree.n_edges <= 400 * 50
    assert tree.N[tree.edges(search.root)].sum() == 5000
    assert np.all(tree.child[: tree.n_edges] < 400)


def test_reuse_keeps_the_subtree_and_compaction_reclaims_the_rest():
    """The next position keeps its subtree's visits. Over half full, the subtree is copied to
    the front of the other tree: the pool's use falls to the subtree's size."""
    search = _search(2, max_nodes=3000, max_edges=3000 * 50)
    pos = Position.new(Rules(size=7, komi=7))
    search.search(pos, SearchLimits(visits=4000))
    tree = search.tree
    assert tree.n_nodes > 1500  # over half: the next move compacts
    best = search.candidates()[0]
    after_best = tree.child[tree.edges(search.root).start
                            + int(np.flatnonzero(tree.move[tree.edges(search.root)]
                                                 == best.move)[0])]
    reply_edges = tree.edges(after_best)
    reply = int(reply_edges.start + np.argmax(tree.N[reply_edges]))
    kept_node = int(tree.child[reply])
    kept_visits = float(tree.visits[kept_node])
    subtree = _subtree_size(tree, kept_node)
    nxt = pos.play(best.move).play(int(tree.move[reply]))
    search.begin(nxt)
    assert search.root == 0 and search.tree is not tree  # copied to the other tree
    assert search.tree.visits[0] == kept_visits
    assert search.tree.n_nodes == subtree
    search.search(nxt, SearchLimits(visits=500))
    assert search.tree.visits[search.root] == kept_visits + 500


def _subtree_size(tree, node):
    todo, seen = [node], 0
    while todo:
        n = todo.pop()
        seen += 1
        edges = tree.edges(n)
        todo.extend(int(c) for c in tree.child[edges] if c >= 0)
    return seen


def test_limits_and_the_stop_event_end_a_search():
    search = _search(2)
    pos = Position.new(Rules(size=9, komi=7))
    start = time.perf_counter()
    search.search(pos, SearchLimits(seconds=0.3))
    assert time.perf_counter() - start < 5 and search.simulations > 0
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    search.search(pos, SearchLimits(), stop=stop)  # no limit: only the event ends it
    assert stop.is_set() and search.simulations > 0
    reports = []
    search.search(pos, SearchLimits(seconds=0.5), report=reports.append, report_every=0.1)
    assert reports and all(r and r[0].visits > 0 for r in reports)


def test_ownership_and_score_lead_come_from_the_playouts():
    """Black's wall owns the top rows whatever happens: ownership says so, and the score lead
    of each root move is Black's margin under it."""
    pos = Position.from_ascii("""
        . . . . .
        . . . . .
        X X X X X
        O O O O O
        . . . . .
    """, komi=0.5)
    search = _search(2)
    search.search(pos, SearchLimits(visits=600))
    own = search.ownership()
    assert own.shape == (25,) and np.all(own[:15] > 0.7) and np.all(own[15:] < -0.7)
    # values in [-1, 1]: the variance is at most 1 - mean^2, with equality when none is 0
    assert np.all(search.ownership_stdev() <= np.sqrt(1 - own.astype(np.float64) ** 2) + 1e-4)
    # Black's 15 points against White's 10 and komi 0.5 (4.5), less what random play loses;
    # the Python search's playouts say the same (over seeds each search's figure spreads over
    # about 2.9-4.0: two threads make the compiled one's vary from run to run)
    reference = MCTS(RolloutEvaluator(seed=1), MCTSConfig(batch_size=8))
    reference.search(pos, SearchLimits(visits=600))
    expected, lead = _average_lead(reference.candidates()), _average_lead(search.candidates())
    assert 2.5 < expected < 4.6 and 2.5 < lead < 4.6
    assert lead == pytest.approx(expected, abs=1.5)


def _average_lead(candidates):
    return sum(c.visits * c.score_lead for c in candidates) / sum(c.visits for c in candidates)


def test_the_root_never_offers_a_suicide_even_where_the_rules_allow_one():
    """Under rules that allow suicide (Tromp-Taylor, New Zealand) the root may list one; the
    search below plays on a board that cannot, so the root leaves it out."""
    pos = Position.from_ascii("""
        . X . . .
        X . . . .
        . . . . .
        . . . . .
        . . . . .
    """, rules=Rules(size=5, komi=0.5, suicide=True, ko="simple"), to_play=2)
    corner = from_gtp("A5", 5)
    assert pos.legal_moves()[corner]  # White's suicide is legal under these rules
    search = _search(2)
    search.search(pos, SearchLimits(visits=300))
    edges = search.tree.edges(search.root)
    assert corner not in search.tree.move[edges].tolist()
    assert PASS in search.tree.move[edges].tolist()


def test_a_new_board_size_or_komi_starts_a_new_tree():
    """Two empty boards of different sizes share move number, hash and player: the tree must
    not be reused across them (nor across komi)."""
    search = _search(2)
    search.search(Position.new(Rules(size=9, komi=7)), SearchLimits(visits=500))
    small = Position.new(Rules(size=5, komi=7))
    search.search(small, SearchLimits(visits=200))
    assert search.tree.visits[search.root] == 200
    assert search.tree.move[search.tree.edges(search.root)].max() < 25
    search.search(Position.new(Rules(size=5, komi=0.5)), SearchLimits(visits=100))
    assert search.tree.visits[search.root] == 100


def test_moves_out_of_turn_start_a_new_tree():
    """A controller replaying setup stones plays one colour twice: the same moves in the tree
    alternate colours, so the tree's boards are not the game's and it must not be reused."""
    search = _search(2)
    pos = Position.new(Rules(size=7, komi=7))
    search.search(pos, SearchLimits(visits=2000))
    tree = search.tree
    first = search.candidates()[0].move
    edges = tree.edges(tree.child[tree.edges(search.root).start
                                  + int(np.flatnonzero(tree.move[tree.edges(search.root)]
                                                       == first)[0])])
    second = int(tree.move[edges][np.argmax(tree.N[edges])])
    setup = pos.play(first, color=1).play(second, color=1)  # Black twice
    search.search(setup, SearchLimits(visits=100))
    assert search.tree.visits[search.root] == 100  # a fresh tree: nothing kept


def test_make_search_compiles_what_it_can():
    rollouts = RolloutEvaluator(seed=0, threads=1)
    assert compiles(rollouts)
    assert isinstance(make_search(rollouts), CompiledMCTS)
    assert type(make_search(rollouts, MCTSConfig(compiled=False))) is MCTS
    for search in (make_search(rollouts), MCTS(rollouts)):
        assert isinstance(search, TreeSearch)
    with pytest.raises(ValueError, match="rollout leaves"):
        CompiledMCTS(object())


def test_a_finished_game_is_not_searched():
    pos = Position.new(Rules(size=5, komi=0.5)).play(PASS).play(PASS)
    search = _search(1)
    assert search.search(pos, SearchLimits(visits=50)) == [] and search.simulations == 0


class PolicyOnD4:
    """Rollout leaves (RolloutLeaves) and a policy that puts its weight on D4 where legal: the
    stand-in for the alphago player's deferred policy net. Records what it was asked."""

    def __init__(self):
        self.leaf_rollouts = RolloutEvaluator(seed=0, threads=2)
        self.asked: list[Position] = []

    def evaluate(self, positions):
        return self.leaf_rollouts.evaluate(positions)

    def priors(self, positions):
        self.asked += positions
        out = np.full((len(positions), 50), 1e-3, np.float32)
        out[:, from_gtp("D4", 7)] = 1.0
        return out


def test_the_policy_gives_its_priors_to_the_nodes_visited_that_often():
    evaluator = PolicyOnD4()
    search = CompiledMCTS(evaluator, MCTSConfig(policy_threshold=10))
    pos = Position.new(Rules(size=7, komi=7))
    search.search(pos, SearchLimits(visits=1500))
    tree, n = search.tree, search.tree.n_nodes
    refined = np.flatnonzero(tree.asked[:n] == 2)
    assert tree.asked[search.root] == 2 and len(refined) == len(evaluator.asked) > 5
    assert np.all(tree.visits[refined] >= 10)
    assert np.all(tree.asked[:n] != 1)  # nothing left queued after the search
    d4 = from_gtp("D4", 7)
    for node in refined:
        edges = tree.edges(node)
        if d4 in tree.move[edges]:
            assert tree.P[edges][tree.move[edges] == d4][0] > 0.9
    # the positions the policy saw are the nodes' own: their legal points are the node's moves
    by_hash = {}
    for node in refined:
        moves = set(tree.move[tree.edges(node)].tolist()) - {PASS}
        by_hash.setdefault(len(moves), []).append(moves)
    for position in evaluator.asked:
        legal = set(np.flatnonzero(position.legal_moves()[:-1]).tolist())
        assert legal in by_hash[len(legal)]
    # a policy threshold needs a PriorSource
    with pytest.raises(ValueError, match="PriorSource"):
        CompiledMCTS(RolloutEvaluator(seed=0), MCTSConfig(policy_threshold=10))


class SlowPolicy(PolicyOnD4):
    """A policy that takes 10 ms a position, as a 19x19 net does late in a game."""

    def __init__(self):
        super().__init__()
        self.batches: list[int] = []

    def priors(self, positions):
        self.batches.append(len(positions))
        time.sleep(0.01 * len(positions))
        return super().priors(positions)


def test_a_slow_policy_gets_small_batches_so_a_timed_search_keeps_its_time():
    # Nodes reach the threshold faster than the policy answers them: the backlog is answered
    # ASK_BATCH at a time, and the clock is looked at between two batches.
    evaluator = SlowPolicy()
    search = CompiledMCTS(evaluator, MCTSConfig(policy_threshold=2), threads=2)
    pos = Position.new(Rules(size=7, komi=7))
    start = time.perf_counter()
    search.search(pos, SearchLimits(seconds=1.0))
    elapsed = time.perf_counter() - start
    assert max(evaluator.batches) <= ASK_BATCH and sum(evaluator.batches) > 2 * ASK_BATCH
    assert elapsed < 1.0 + 0.01 * ASK_BATCH + 0.3, elapsed
    assert np.all(search.tree.asked[:search.tree.n_nodes] != 1)  # the backlog is re-queueable


def test_max_memory_bounds_the_trees_and_a_full_tree_is_told_once():
    from agents.alphago.search.mcts import tree_megabytes, with_memory
    from agents.alphago.search.mcts_player import MCTSPlayer

    config = with_memory(MCTSConfig(), 64)
    assert tree_megabytes(config) == pytest.approx(64, rel=0.01)
    assert config.max_edges == 40 * config.max_nodes
    with pytest.raises(ValueError, match="positive"):
        with_memory(MCTSConfig(), 0)
    lines = []
    player = MCTSPlayer(RolloutEvaluator(seed=0, threads=2), with_memory(MCTSConfig(), 0.5),
                        log=lines.append)
    pos = Position.new(Rules(size=9, komi=7))
    for _ in range(2):
        decision = player.genmove(pos, SearchLimits(visits=4000))
        pos = pos.play(decision.move)
    assert player.mcts.tree.n_nodes <= player.mcts.config.max_nodes
    assert len(lines) == 1 and "the search tree is full (0.5 MB)" in lines[0]


def test_a_reused_root_drops_moves_the_full_rules_forbid():
    """Below the root the search plays simple ko, so a reused root may hold a superko
    repetition; begin() drops it and keeps the other edges' statistics."""
    from types import SimpleNamespace

    search = _search(2)
    pos = Position.new(Rules(size=5, komi=0.5))
    search.search(pos, SearchLimits(visits=500))
    tree = search.tree
    edges = tree.edges(search.root)
    before = {int(m): (float(n), float(w), int(c)) for m, n, w, c in
              zip(tree.move[edges], tree.N[edges], tree.W[edges], tree.child[edges],
                  strict=True)}
    banned = int(search.candidates()[0].move)
    legal = pos.legal_moves().copy()
    legal[banned] = False  # as if it repeated an earlier board
    search._keep_legal_root_edges(SimpleNamespace(board=pos.board, legal_moves=lambda: legal))
    edges = tree.edges(search.root)
    after = {int(m): (float(n), float(w), int(c)) for m, n, w, c in
             zip(tree.move[edges], tree.N[edges], tree.W[edges], tree.child[edges],
                 strict=True)}
    assert banned not in after and len(after) == len(before) - 1
    assert all(after[m] == before[m] for m in after)
    assert tree.P[edges].sum() == pytest.approx(1.0, abs=1e-5)


class Judge(PolicyOnD4):
    """A value source (evaluators.protocol.ValueSource) that knows one thing: whoever has
    just played `move` has lost (uniform priors)."""

    def __init__(self, move: int, weight: float):
        super().__init__()
        self.move, self.value_weight = move, weight

    def priors(self, positions):
        return np.ones((len(positions), 50), np.float32)

    def values(self, positions):  # for the player to move: won after the opponent's move
        return np.array([1.0 if p.last_move == self.move else 0.0 for p in positions],
                        np.float32)


@pytest.mark.parametrize("compiled", [True, False])
def test_judged_values_are_mixed_into_the_leaves_below_them(compiled):
    config = MCTSConfig(policy_threshold=4, compiled=compiled)
    pos = Position.new(Rules(size=7, komi=7))
    runs = {}
    for weight in (0.0, 0.9):
        # the move the search prefers unjudged, then judged as a loss for its player
        move = runs[0.0][0].move if runs else PASS
        search = make_search(Judge(move, weight), config, np.random.default_rng(0))
        assert isinstance(search, CompiledMCTS) == compiled
        runs[weight] = search.search(pos, SearchLimits(visits=2000))
        judged = ~np.isnan(search.tree.V[: search.tree.n_nodes])
        assert judged.any() == (weight > 0)
    favourite = runs[0.0][0].move
    assert runs[0.9][0].move != favourite
    tree, root = search.tree, search.root
    edges = tree.edges(root)
    below = tree.child[edges.start + int(np.flatnonzero(tree.move[edges] == favourite)[0])]
    assert tree.V[below] == 1.0  # judged: won for White, who moves there
    # its visits since are worth 0.9 * -1 + 0.1 * (a playout) to Black; those before the
    # answer (the threshold's, and in the compiled search the driver's lag: up to 16 of 25
    # visits) are the playouts' alone
    judged = next(c for c in runs[0.9] if c.move == favourite)
    assert judged.winrate < runs[0.0][0].winrate


def test_mixed_value_takes_the_deepest_judged_node_in_the_movers_view():
    V = np.array([0.5, np.nan, -0.25, np.nan], np.float32)
    color = np.array([1, 2, 1, 2], np.int8)  # the player to move at each node
    path = np.array([0, 1, 2, 3], np.int32)
    # leaf 3 (White to move) unjudged: node 2's -0.25 for Black is +0.25 for White
    assert T.mixed_value(-1.0, 2, path, 3, 3, V, color, 0.5) == pytest.approx(
        0.5 * 0.25 + 0.5 * -1.0)
    assert T.mixed_value(1.0, 1, path, 2, 2, V, color, 0.5) == pytest.approx(
        0.5 * -0.25 + 0.5)  # the leaf itself judged
    assert T.mixed_value(1.0, 2, path, 2, 1, V, color, 0.75) == pytest.approx(
        0.75 * -0.5 + 0.25)  # the root's, turned to White
    assert T.mixed_value(1.0, 2, path, 0, -1, V, color, 0.5) == 1.0  # nothing judged above
    assert T.mixed_value(-1.0, 2, path, 3, 3, V, color, 0.0) == -1.0  # no value net


@pytest.mark.parametrize("compiled", [True, False])
def test_judged_values_count_as_prior_visits_of_the_edge_into_their_node(compiled):
    pos = Position.new(Rules(size=7, komi=7))
    first = make_search(Judge(PASS, 0.5), MCTSConfig(policy_threshold=4, compiled=compiled),
                        np.random.default_rng(0)).search(pos, SearchLimits(visits=2000))
    favourite = first[0].move  # judged below as a loss for whoever plays it
    config = MCTSConfig(policy_threshold=4, value_visits=50.0, compiled=compiled)
    search = make_search(Judge(favourite, 0.5), config, np.random.default_rng(0))
    found = search.search(pos, SearchLimits(visits=2000))
    tree, root = search.tree, search.root
    edges = tree.edges(root)
    judged = [e for e in range(edges.start, edges.stop)
              if tree.child[e] >= 0 and not np.isnan(tree.V[tree.child[e]])]
    assert len(judged) >= 2
    for e in judged:
        # the playouts' visits are backed up into the node too, the 50 prior ones are not
        # (a leaf two threads reach at once may count on the edge alone)
        assert 50.0 <= tree.N[e] - tree.visits[tree.child[e]] <= 53.0
        won = tree.V[tree.child[e]] == 1.0  # for White, after the favourite
        assert won == (tree.move[e] == favourite)
    # the prior's 50 losses for Black, the chooser, turn the search to other moves
    assert found[0].move != favourite


def test_add_prior_visits_adds_visits_worth_the_value_for_the_edges_chooser():
    N, W = np.array([3.0, 0.0]), np.array([1.0, 0.0])
    T.add_prior_visits(np.array([0, 1], np.int64), np.array([0.5, -1.0]), 10.0, N, W)
    assert N.tolist() == [13.0, 10.0]
    assert W.tolist() == [1.0 - 5.0, 10.0]  # values for the player to move below: negated
