"""MCTS on tiny positions with known answers, and the tree's bookkeeping.

The known answers hold for both searches: the players' compiled one (CompiledMCTS, threads on
one tree) and the Python MCTS it replaced for the network-free evaluator (compiled=False)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from agents.alphago.evaluators.protocol import Evaluation
from agents.alphago.evaluators.rollout import RolloutEvaluator
from agents.alphago.search import tree as T
from agents.alphago.search.mcts import MCTS, MCTSConfig, out_of_reach
from agents.alphago.search.mcts_player import MCTSPlayer
from agents.alphago.search.player import MoveInfo, SearchLimits
from envs.go import PASS, RESIGN, Position, Rules, from_gtp, to_gtp


def _player(seed=0, compiled=True, **config):
    return MCTSPlayer(RolloutEvaluator(seed=seed), MCTSConfig(compiled=compiled, **config),
                      seed=seed)


BOTH = pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])


def _liberties(pos: Position, point: int) -> set[int]:
    size, color = pos.rules.size, pos.board[point]
    group, libs, todo = {point}, set(), [point]
    while todo:
        p = todo.pop()
        r, c = divmod(p, size)
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= rr < size and 0 <= cc < size:
                q = rr * size + cc
                if pos.board[q] == 0:
                    libs.add(q)
                elif pos.board[q] == color and q not in group:
                    group.add(q)
                    todo.append(q)
    return libs


WALL = """
    . . . . . . .
    . . . . . . .
    . {a} {a} {a} {a} . .
    {a} {b} {b} {b} {b} . .
    . {a} {a} {a} {a} . .
    . . . . . . .
    . . . . . . .
"""


@pytest.mark.parametrize("seed", [0, 1])
@BOTH
def test_captures_the_group_in_atari(seed, compiled):
    pos = Position.from_ascii(WALL.format(a="X", b="O"), komi=0.5)
    target = from_gtp("F4", 7)
    assert _liberties(pos, from_gtp("B4", 7)) == {target}
    decision = _player(seed, compiled).genmove(pos, SearchLimits(visits=1500))
    assert to_gtp(decision.move, 7) == "F4"


def test_a_move_is_out_of_reach_when_the_runner_up_cannot_catch_it_in_time():
    visits = np.array([30, 900, 0, 200])  # 1,130 simulations in 0.5 s: 2,260 a second
    assert not out_of_reach(visits, 1130, 0.5, 0.31)  # 700 behind, 700.6 more to come
    assert out_of_reach(visits, 1130, 0.5, 0.30)  # 678 more
    assert not out_of_reach(visits, 1130, 0.05, 0.0)  # the first tenth only measures the rate
    assert out_of_reach(np.array([7]), 7, 0.2, 5.0)  # one move: nothing to wait for
    assert not out_of_reach(np.array([], np.int64), 0, 1.0, 1.0)
    assert not out_of_reach(np.array([400, 400]), 800, 1.0, 0.01)  # a tie is not decided


@BOTH
def test_a_timed_search_stops_once_its_move_cannot_change(compiled):
    # The capture takes nearly every visit, so it is out of reach a little after half the
    # time; with a temperature (self-play's opening moves) every visit counts and it runs on.
    pos = Position.from_ascii(WALL.format(a="X", b="O"), komi=0.5)
    for config, finished_early in (({}, True), ({"temperature": 1.0, "temperature_moves": 99},
                                                False)):
        player = _player(0, compiled, **config)
        player.genmove(pos, SearchLimits(visits=16))  # kernels loaded, rate steady
        player.clear()
        start = time.perf_counter()
        decision = player.genmove(pos, SearchLimits(seconds=2.0))
        elapsed = time.perf_counter() - start
        assert (elapsed < 1.7) == finished_early, (config, elapsed)
        if finished_early:
            assert to_gtp(decision.move, 7) == "F4"
    never = _player(0, compiled, stop_when_decided=False)
    start = time.perf_counter()
    never.genmove(pos, SearchLimits(seconds=1.0))
    assert time.perf_counter() - start >= 1.0


@pytest.mark.parametrize("seed", [0, 1])
@BOTH
def test_saves_its_own_group_in_atari(seed, compiled):
    # Black's four stones have one liberty, F4, which also connects them to Black's wall.
    pos = Position.from_ascii("""
        . . . . . . .
        . . . . . X .
        . O O O O X .
        O X X X X . X
        . O O O O X .
        . . . . . . .
        . . . . . . .
    """, komi=0.5)
    assert _liberties(pos, from_gtp("B4", 7)) == {from_gtp("F4", 7)}
    # Black is behind either way (about 16% after F4), so F4 leads the other moves by little:
    # at 1,500 visits threads on a loaded machine chose E2 in 2 of 40 searches, at 4,000 in none
    decision = _player(seed, compiled).genmove(pos, SearchLimits(visits=4000))
    assert to_gtp(decision.move, 7) == "F4"


@BOTH
def test_makes_two_eyes_in_the_corner(compiled):
    # Black's corner lives only by playing B7 (straight three: the middle point); the game
    # turns on it (alive: B+8.5, dead: W+7.5).
    pos = Position.from_ascii("""
        . . . X O . .
        X X X X O . .
        O O O O O . .
        O O O O O O O
        X X X X X X X
        . . . . . . .
        . . . . . . .
    """, komi=0.5)
    decision = _player(3, compiled).genmove(pos, SearchLimits(visits=3000))
    assert to_gtp(decision.move, 7) == "B7"
    assert decision.winrate > 0.5


def test_virtual_loss_is_applied_and_reverted_exactly():
    pos = Position.new(Rules(size=5, komi=0.5))
    search = MCTS(RolloutEvaluator(seed=0), MCTSConfig(virtual_loss=3.0, batch_size=4))
    search.search(pos, SearchLimits(visits=200))
    tree = search.tree
    before = (tree.N.copy(), tree.W.copy(), tree.visits.copy())
    nodes = np.empty(64, np.int32)
    edges = np.empty(64, np.int64)
    depth, _ = T.select(tree.first, tree.count, tree.child, tree.P, tree.N, tree.W, tree.rN,
                        tree.rW, tree.visits, search.root, 1.0, 0.0, 3.0, 0.0, nodes, edges)
    assert depth >= 1
    for d in range(depth):
        assert tree.N[edges[d]] == before[0][edges[d]] + 3
        assert tree.W[edges[d]] == before[1][edges[d]] - 3
    T.backup(nodes, edges, depth, -1, 0.5, 3.0, tree.N, tree.W, tree.visits)
    for d in range(depth):  # one real visit; the value's sign alternates going up
        sign = 1.0 if (depth - 1 - d) % 2 == 0 else -1.0
        assert tree.N[edges[d]] == before[0][edges[d]] + 1
        assert tree.W[edges[d]] == pytest.approx(before[1][edges[d]] - sign * 0.5)
    assert np.all(tree.N[: tree.n_edges] == np.round(tree.N[: tree.n_edges]))


def test_root_visits_add_up_and_values_stay_in_range():
    pos = Position.new(Rules(size=7, komi=7))
    search = MCTS(RolloutEvaluator(seed=2), MCTSConfig(batch_size=8, virtual_loss=2.0))
    search.search(pos, SearchLimits(visits=800))
    edges = search.tree.edges(search.root)
    assert search.tree.N[edges].sum() == 800
    n = search.tree.N[: search.tree.n_edges]
    w = search.tree.W[: search.tree.n_edges]
    assert np.all(np.abs(w[n > 0] / n[n > 0]) <= 1.0 + 1e-9)


def test_amaf_credits_moves_played_later_by_the_same_player():
    tree = T.Tree(8, 64)
    root = tree.add_node(1, False)
    legal = np.zeros(10, bool)
    legal[[0, 1, 2, 9]] = True  # a 3x3 board: points 0, 1, 2 and pass
    tree.expand(root, legal, np.ones(10, np.float32))
    nodes = np.array([root], np.int32)
    edges = np.array([tree.first[root]], np.int64)  # the path took point 0
    tail = np.array([5, 2, 1], np.int32)  # White 5, Black 2, White 1 after the leaf
    played = np.zeros(9, np.int8)
    T.backup_amaf(nodes, edges, 1, 2, 1.0, tail, 3, tree.first, tree.count, tree.move,
                  tree.color, tree.rN, tree.rW, played)
    by_move = {int(tree.move[e]): (tree.rN[e], tree.rW[e]) for e in range(tree.n_edges)}
    assert by_move[0] == (1.0, -1.0)  # Black's own move; the value was White's (+1)
    assert by_move[2] == (1.0, -1.0)  # Black played 2 later
    assert by_move[1] == (0.0, 0.0)  # only White played 1
    assert by_move[PASS] == (0.0, 0.0)


@BOTH
def test_tree_is_reused_for_the_next_move(compiled):
    player = _player(0, compiled)
    pos = Position.new(Rules(size=7, komi=7))
    first = player.genmove(pos, SearchLimits(visits=600))
    reply = player.mcts.candidates()[0].pv[1] if len(player.mcts.candidates()[0].pv) > 1 else 0
    nxt = pos.play(first.move).play(reply)
    player.genmove(nxt, SearchLimits(visits=50))
    assert player.mcts.tree.visits[player.mcts.root] > 50  # kept the earlier visits


ENDGAME = """
    X X O . .
    X X O . .
    X X O O O
    X X O . X
    X X O . .
"""


@BOTH
def test_passes_back_when_the_board_already_wins(compiled):
    # Black passed; White wins as the board stands (B 11, W 11 + 7.5): pass and end the game
    pos = Position.from_ascii(ENDGAME, komi=7.5, to_play=1).play(PASS)
    assert pos.to_play == 2 and pos.score() < 0
    assert _player(0, compiled).genmove(pos, SearchLimits(visits=300)).move == PASS


@BOTH
def test_never_passes_into_a_loss(compiled):
    # Black passed; as the board stands White loses (B 11, W 11 - 1.5), but the black stone
    # at E2 is dead: White must play on and take it rather than pass.
    pos = Position.from_ascii(ENDGAME, komi=-1.5, to_play=1).play(PASS)
    assert pos.to_play == 2 and pos.score() > 0
    decision = _player(0, compiled).genmove(pos, SearchLimits(visits=1500))
    assert decision.move != PASS
    assert decision.winrate > 0.5


@BOTH
def test_resigns_a_hopeless_game_and_evaluator_contract(compiled):
    hopeless = Position.from_ascii("""
        X X X X X
        X . X . X
        X X X X X
        . X . X .
        X X X X X
    """, komi=0.5, to_play=2)
    decision = _player(0, compiled, resign_min_visits=100).genmove(hopeless,
                                                                SearchLimits(visits=300))
    assert decision.move in (RESIGN, PASS)
    result = RolloutEvaluator(seed=0).evaluate([hopeless, hopeless.play(PASS)])
    assert isinstance(result, Evaluation)
    assert result.priors.shape == (2, 26) and result.values.shape == (2,)
    assert set(result.values.tolist()) <= {-1.0, 0.0, 1.0}


def test_expansion_threshold_delays_expansion():
    pos = Position.new(Rules(size=7, komi=7))
    search = MCTS(RolloutEvaluator(seed=4, threads=1), MCTSConfig(expand_threshold=4))
    search.search(pos, SearchLimits(visits=600))
    tree = search.tree
    nodes = np.arange(tree.n_nodes)
    expanded = nodes[tree.count[: tree.n_nodes] > 0]
    leaves = nodes[(tree.count[: tree.n_nodes] == 0) & ~tree.terminal[: tree.n_nodes]]
    assert len(expanded) > 1 and len(leaves) > 0
    assert np.all(tree.visits[expanded] >= 3)  # expanded on (at least) its 4th evaluation
    assert np.all(tree.visits[leaves] <= 3)


def test_dirichlet_noise_changes_root_priors_reproducibly():
    pos = Position.new(Rules(size=7, komi=7))

    def root_priors(alpha, seed):
        search = MCTS(RolloutEvaluator(seed=0, threads=1), MCTSConfig(dirichlet_alpha=alpha),
                      np.random.default_rng(seed))
        search.search(pos, SearchLimits(visits=8))
        return search.tree.P[search.tree.edges(search.root)].copy()

    plain, noisy, again = root_priors(0.0, 1), root_priors(0.3, 1), root_priors(0.3, 1)
    assert not np.allclose(plain, noisy)
    assert np.allclose(noisy, again)
    assert noisy.sum() == pytest.approx(1.0, abs=1e-5) and np.all(noisy > 0)


def test_temperature_samples_moves_in_proportion_to_visits():
    pos = Position.new(Rules(size=7, komi=7))
    greedy, sampled = set(), set()
    for seed in range(6):
        for temperature, found in ((0.0, greedy), (1.0, sampled)):
            search = MCTS(RolloutEvaluator(seed=0, threads=1),
                          MCTSConfig(temperature=temperature, temperature_moves=10,
                                     batch_size=1), np.random.default_rng(seed))
            candidates = search.search(pos, SearchLimits(visits=200))
            found.add(search.choose(pos, candidates).move)
    assert len(greedy) == 1  # the same search, always its most visited move
    assert len(sampled) > 1


def test_a_full_tree_keeps_searching_without_overflowing():
    pos = Position.new(Rules(size=9, komi=7))
    config = MCTSConfig(max_nodes=60, max_edges=2000, batch_size=16)
    search = MCTS(RolloutEvaluator(seed=5, threads=2), config)
    candidates = search.search(pos, SearchLimits(visits=1500))
    tree = search.tree
    assert tree.n_nodes <= 60 and tree.n_edges <= 2000
    assert sum(c.visits for c in candidates) == 1500
    again = search.search(pos.play(candidates[0].move), SearchLimits(visits=300))
    assert again  # the next search resets the full tree and goes on


class PolicyOnTop:
    """Rollouts for values and their heuristic priors, plus a `priors` method that puts all its
    weight on one point (where it is legal): the stand-in for a policy net."""

    def __init__(self, point: int):
        self.rollouts = RolloutEvaluator(seed=0, threads=1)
        self.point = point
        self.asked = 0

    def evaluate(self, positions):
        return self.rollouts.evaluate(positions)

    def priors(self, positions):
        self.asked += len(positions)
        n = positions[0].board.size
        out = np.full((len(positions), n + 1), 1e-3, np.float32)
        out[:, self.point] = 1.0
        return out


def test_policy_threshold_replaces_the_priors_of_nodes_visited_that_often():
    pos = Position.new(Rules(size=7, komi=7))
    centre = from_gtp("D4", 7)
    evaluator = PolicyOnTop(centre)
    search = MCTS(evaluator, MCTSConfig(policy_threshold=10))
    search.search(pos, SearchLimits(visits=800))
    tree, n = search.tree, search.tree.n_nodes
    expanded = np.flatnonzero(tree.count[:n] > 0)
    refined = np.flatnonzero(tree.refined[:n])
    assert search.root in refined  # the root at once
    assert evaluator.asked == len(refined) > 1
    assert set(refined) <= set(expanded) and len(refined) < len(expanded)
    assert np.all(tree.visits[refined] >= 10)
    waiting = expanded[~tree.refined[expanded] & ~tree.terminal[:n][expanded]]
    assert np.all(tree.visits[waiting] < 10 + search.config.batch_size)
    for node in refined:
        edges = tree.edges(node)
        assert tree.P[edges].sum() == pytest.approx(1.0, abs=1e-5)
        if centre in tree.move[edges]:  # the "policy" put nearly all its weight there
            assert tree.P[edges][tree.move[edges] == centre][0] > 0.9
    # without the threshold the priors are evaluate()'s and priors() is never called
    plain = PolicyOnTop(centre)
    MCTS(plain, MCTSConfig()).search(pos, SearchLimits(visits=200))
    assert plain.asked == 0
    # a threshold needs an evaluator that declares priors() (a PriorSource): never ignored
    with pytest.raises(ValueError, match="PriorSource"):
        MCTS(RolloutEvaluator(seed=0, threads=1), MCTSConfig(policy_threshold=10))


def test_an_early_pass_is_not_answered_by_a_pass_while_a_real_move_is_best():
    """Black passes at move 5 and White would win on komi: White still plays its top
    candidate (F6, the game still open) instead of ending the game; it passes back when pass
    is on top or F6 is a sure win anyway."""
    pos = Position.new(Rules(size=9, komi=7.5))
    for vertex in ("E5", "D4", "E3", "F4"):
        pos = pos.play(from_gtp(vertex, 9))
    pos = pos.play(PASS)
    assert pos.to_play == 2 and pos.score() < 0  # White wins as the board stands
    search = MCTS(RolloutEvaluator(seed=0, threads=1), MCTSConfig())
    f6, pass_ = (MoveInfo(m, v, 0.6, 0.1, 0.5) for m, v in ((from_gtp("F6", 9), 90), (PASS, 10)))
    assert search.choose(pos, [f6, pass_]).move == f6.move
    assert search.choose(pos, [pass_, f6]).move == PASS
    sure = MoveInfo(f6.move, 90, 0.99, 0.1, 0.98)
    assert search.choose(pos, [sure, pass_]).move == PASS
