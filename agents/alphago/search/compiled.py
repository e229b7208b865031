"""CompiledMCTS: the network-free search with its whole simulation in compiled code.

The Python MCTS (mcts.py) walks the tree in numba but makes a Position, a batch and an
evaluator call per leaf in Python; this search hands whole simulations to simulation.py's
kernel, run by `threads` threads on one tree without the GIL, and returns to Python only to
report, to stop, to give a policy's priors and at the end. It serves the evaluators whose
leaves are rollouts (evaluators.protocol.RolloutLeaves): RolloutEvaluator, the engine without
networks, and the alphago player's DeferredPolicyEvaluator, whose policy net (a PriorSource)
gives the priors of the nodes visited policy_threshold times, and its value net (a
ValueSource) their values. The workers queue those nodes; this thread rebuilds their
positions, runs the nets on them in one batch and writes the priors and values (Tree.judge:
prior visits of the edge into each node, or Tree.V mixed into the playouts' results below
them by tree.mixed_value) while the workers search on. Nets
at every leaf stay with MCTS, whose leaves go to the evaluator in batches. Settings,
statistics, candidates and move choice are MCTS's: the same
MCTSConfig (batch_size has no use here), the same Tree arrays and value-sign convention.

Memory is bounded by the config's max_nodes and max_edges: a full tree stops growing and the
search goes on at its frontier. When the next move continues the game and the tree is over
half full, the subtree under the new root is copied to the front of a second tree (tree reuse
survives a long game) instead of starting afresh.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import numba as nb
import numpy as np

from agents.alphago.evaluators.protocol import RolloutLeaves
from agents.alphago.playouts import mogo
from agents.alphago.search import mcts as M
from agents.alphago.search import simulation as S
from agents.alphago.search.player import Decision, MoveInfo, SearchLimits
from agents.alphago.search.tree import Tree
from envs.go import Position, kernels
from envs.go import playout as P

_POLL = 0.002  # seconds between the driver's looks at the clock, the stop event and reports
# Queued nodes the driver gives priors to at once, between two looks at the clock: the 19x19
# net takes 3-6 ms a position (features and forward), and late in a game nodes queue faster
# than that, so an unbounded batch grew to 1,000+ nodes and ran a 4 s move to 8.7 s (moves of
# 6-21 s at `--time 5` against GNU Go); 32 keeps a move within about 0.2 s of its time.
ASK_BATCH = 32
_NO_LIMIT = 2**62


def compiles(evaluator: object) -> bool:
    """Whether CompiledMCTS can run this evaluator's leaf evaluation itself: MoGo or uniform
    playouts (a trained linear rollout policy runs only in batches, with MCTS)."""
    return (isinstance(evaluator, RolloutLeaves)
            and evaluator.leaf_rollouts.linear_policy is None)


class CompiledMCTS:
    """A reusable search with MCTS's interface: search(), candidates(), choose(), ownership()."""

    def __init__(self, evaluator: RolloutLeaves, config: M.MCTSConfig | None = None,
                 rng: np.random.Generator | None = None, threads: int | None = None):
        if not compiles(evaluator):
            raise ValueError(f"CompiledMCTS runs rollout leaves (MoGo or uniform playouts), "
                             f"not {type(evaluator).__name__}'s")
        self.evaluator = evaluator
        self.rollouts = evaluator.leaf_rollouts
        self.config = config or M.MCTSConfig()
        self._policy = M.policy_of(evaluator, self.config)  # asked at policy_threshold
        self._values, self._value_weight = M.value_of(evaluator, self.config)  # with it
        self.rng = rng or np.random.default_rng(0)
        self.threads = max(1, threads or self.rollouts.threads or os.cpu_count() or 1)
        self.tree = _new_tree(self.config)
        self._spare: Tree | None = None  # the other half of the copying collector
        self.alloc = np.zeros(2, np.int64)  # nodes and edges in use (simulation.NODES/EDGES)
        self.root = -1
        self.root_position: Position | None = None
        self.simulations = 0  # in the last search
        # one playout RNG per thread, each on its own cache line: threads writing to one line
        # at every random draw cost the search a tenth of its rate
        self._rngs = np.zeros((self.threads, 8), np.uint64)
        self._rngs[:, 0] = [P.make_rng(int(s))[0]
                            for s in self.rng.integers(1, 2**62, size=self.threads)]
        self._stats: list[tuple[np.ndarray, ...]] = []
        self._state: tuple = ()  # the root's incremental board (_root_state)
        self._asks = (np.full(self.config.max_nodes, -1, np.int64), np.zeros(1, np.int64))
        self._answered = 0  # queue entries given their priors in this search
        self._positions: dict[int, Position] = {}  # nodes' positions rebuilt for the policy

    # ---- public -------------------------------------------------------------------------------

    def search(self, position: Position, limits: SearchLimits,
               stop: threading.Event | None = None,
               report: Callable[[list[MoveInfo]], None] | None = None,
               report_every: float = 1.0) -> list[MoveInfo]:
        """Search from `position` until a limit is reached or `stop` is set; returns the root's
        candidates, most visited first."""
        self.begin(position)
        self.simulations = 0
        if position.is_game_over() or self.tree.count[self.root] == 0:
            return self.candidates()
        budget = np.array([_NO_LIMIT if limits.visits is None else limits.visits, 0, 0, 0],
                          np.int64)
        halt = np.zeros(1, np.int32)
        queue, queued = self._asks
        queue[: min(int(queued[0]), len(queue))] = -1
        queued[0], self._answered = 0, 0
        shared = (self._tree_arrays(), self.alloc, self.root, self._state,
                  self._rules(position), self._params(), budget, halt, self._asks)
        errors: list[BaseException] = []
        workers = [threading.Thread(target=_run_worker, daemon=True,
                                    args=(errors, *shared, self._rngs[t, :1], self._stats[t]))
                   for t in range(self.threads)]
        start = time.perf_counter()
        deadline = None if limits.seconds is None else start + limits.seconds
        early = deadline is not None and M.stops_when_decided(self.config, position)
        next_report = start + report_every
        for worker in workers:
            worker.start()
        try:
            while any(worker.is_alive() for worker in workers):
                now = time.perf_counter()
                if ((stop is not None and stop.is_set())
                        or (deadline is not None and now >= deadline)
                        or (early and M.out_of_reach(self.tree.N[self.tree.edges(self.root)],
                                                     int(budget[S.DONE]), now - start,
                                                     deadline - now))):
                    halt[0] = 1
                if report is not None and now >= next_report:
                    self._sync_counts()
                    report(self.candidates())
                    next_report = time.perf_counter() + report_every
                if not self._answer_asks():
                    workers[0].join(_POLL)
        finally:
            halt[0] = 1
            for worker in workers:
                worker.join()
            self._sync_counts()
            self._drop_asks()
        if errors or budget[S.BROKEN]:
            self.clear()  # a worker stopped mid-simulation: its virtual loss is in the tree
            if errors:
                raise errors[0]
            raise RuntimeError("the search tree did not match the position; it was cleared")
        self.simulations = int(budget[S.DONE])
        return self.candidates()

    def candidates(self) -> list[MoveInfo]:
        """The root's moves as analysis shows them, most visited first."""
        return M.root_candidates(self.tree, self.root, self._score_lead)

    def choose(self, position: Position, candidates: list[MoveInfo]) -> Decision:
        """MCTS.choose's rules (temperature, passing, resignation)."""
        return M.choose_move(self.config, self.rng, position, candidates)

    def ownership(self) -> np.ndarray | None:
        """float32 [n]: the average final owner of the playouts under the current root (+1
        Black); None before any."""
        count = self._leaves()
        if not count:
            return None
        return (sum(s[0] for s in self._stats) / count).astype(np.float32)

    def ownership_stdev(self) -> np.ndarray | None:
        """float32 [n]: the playouts' spread around ownership(); None as it."""
        count = self._leaves()
        if not count:
            return None
        mean = sum(s[0] for s in self._stats) / count
        variance = np.maximum(sum(s[1] for s in self._stats) / count - mean * mean, 0.0)
        return np.sqrt(variance).astype(np.float32)

    def clear(self) -> None:
        """Forget the tree (a new game)."""
        self.root = -1
        self.root_position = None

    # ---- the root -----------------------------------------------------------------------------

    def begin(self, position: Position) -> None:
        """Make `position` the root, keeping the subtree when it continues the last search;
        an unexpanded root is expanded here with the full rules' legal moves."""
        node = -1
        if self.root_position is not None:
            node = M.find_node(self.tree, self.root, self.root_position, position)
        if node < 0 or node != self.root or not self._stats:  # a new root: no leaves yet
            self._reset_stats(position)
            self._positions = {}
        if node < 0:
            self.tree.reset()
            node = self.tree.add_node(position.to_play, position.is_game_over())
            self._sync_alloc()
        elif node != self.root and self._over_half():
            node = self._compact(node)
        self.root, self.root_position = node, position
        self._state = self._root_state(position)
        tree = self.tree
        if tree.count[node] == 0 and not position.is_game_over():
            n = position.board.size
            board, head, _, libs, _, _, _, ints = self._state
            nbr, diag, nbr8, _, patterns = self._rules(position)
            legal = S.playable_moves(position.legal_moves(), board, nbr, head, libs,
                                     position.to_play, position.ko)
            priors = np.ones(n + 1, np.float32)
            if self.rollouts.use_priors:
                mogo.heuristic_priors(board, nbr, diag, nbr8, position.to_play, int(ints[4]),
                                      legal[:n], patterns, priors)
            else:
                priors[n] = 0.1
            self._sync_counts()
            if tree.expand(node, legal, priors) == 0:
                raise RuntimeError("the search tree has no room for the root's moves: raise "
                                   "max_edges")
            tree.claim[node] = 1
            self._sync_alloc()
        elif tree.count[node] > 0:
            self._keep_legal_root_edges(position)
        if self._policy is not None and tree.count[node] > 0 and tree.asked[node] != 2:
            self._give_priors([node], [position])  # the move is chosen here: at once
        if tree.count[node] > 0 and self.config.dirichlet_alpha > 0:
            edges = tree.edges(node)
            noise = self.rng.dirichlet([self.config.dirichlet_alpha] * (edges.stop - edges.start))
            w = self.config.dirichlet_weight
            tree.P[edges] = ((1 - w) * tree.P[edges] + w * noise).astype(np.float32)

    def _keep_legal_root_edges(self, position: Position) -> None:
        """A reused root's edges came from the search's simple-ko board: drop a move that the
        game's full rules forbid (a superko repetition), keeping the others' statistics."""
        tree, root = self.tree, self.root
        edges = tree.edges(root)
        moves = tree.move[edges]
        n = position.board.size
        keep = position.legal_moves()[np.where(moves < 0, n, moves)]
        if keep.all():
            return
        kept = edges.start + np.flatnonzero(keep)
        for array in (tree.move, tree.child, tree.P, tree.N, tree.W, tree.rN, tree.rW):
            array[edges.start: edges.start + len(kept)] = array[kept]
        tree.count[root] = len(kept)
        priors = tree.P[tree.edges(root)]
        priors /= max(float(priors.sum()), 1e-12)

    def _over_half(self) -> bool:
        return (self.alloc[S.NODES] > self.config.max_nodes // 2
                or self.alloc[S.EDGES] > self.config.max_edges // 2)

    def _compact(self, node: int) -> int:
        """Copy the subtree under `node` to the front of the spare tree and swap the two;
        returns the node's number there (0)."""
        spare = self._spare or _new_tree(self.config)
        self._sync_counts()
        nodes, edges = compact(self._tree_arrays(self.tree), self._tree_arrays(spare), node)
        self._spare, self.tree = self.tree, spare
        self.tree.n_nodes, self.tree.n_edges = int(nodes), int(edges)
        self._sync_alloc()
        return 0

    # ---- plumbing between the Tree object and the kernel --------------------------------------

    def _tree_arrays(self, tree: Tree | None = None) -> tuple[np.ndarray, ...]:
        t = tree or self.tree
        return (t.first, t.count, t.visits, t.color, t.claim, t.asked, t.parent, t.V, t.move,
                t.child, t.P, t.N, t.W, t.rN, t.rW)

    def _sync_alloc(self) -> None:
        self.alloc[S.NODES], self.alloc[S.EDGES] = self.tree.n_nodes, self.tree.n_edges

    def _sync_counts(self) -> None:
        self.tree.n_nodes = int(min(self.alloc[S.NODES], self.config.max_nodes))
        self.tree.n_edges = int(min(self.alloc[S.EDGES], self.config.max_edges))

    def _root_state(self, position: Position) -> tuple:
        size = position.size
        n = size * size
        arrays = P.work_arrays(n)[:7]
        n_empty = P.setup_board(position.board, kernels.neighbour_table(size), *arrays)
        last = position.last_move if position.last_move is not None else -1
        ints = np.array([n_empty, position.to_play, position.ko, position.passes, max(last, -1)],
                        np.int64)
        return (*arrays, ints)

    def _rules(self, position: Position) -> tuple:
        size = position.size
        return (kernels.neighbour_table(size), kernels.diagonal_table(size),
                kernels.neighbour8_table(size), float(position.rules.komi), mogo.pattern_table())

    def _params(self) -> np.ndarray:
        cfg, ev = self.config, self.rollouts
        threshold = cfg.policy_threshold if self._policy is not None else 0
        return np.array([cfg.c_puct, cfg.rave_equivalence, cfg.virtual_loss, cfg.fpu,
                         cfg.expand_threshold, float(ev.heavy), float(ev.use_priors),
                         threshold, self._value_weight], np.float64)

    # ---- the policy's priors for the nodes the workers queue ----------------------------------

    def _answer_asks(self) -> bool:
        """Give the priors to the oldest nodes queued and not yet answered, up to ASK_BATCH in
        one batch; False when there were none."""
        queue, queued = self._asks
        end = min(int(queued[0]), len(queue), self._answered + ASK_BATCH)
        nodes = []
        for i in range(self._answered, end):
            if queue[i] < 0:  # claimed, not yet written: the next call takes it
                break
            nodes.append(int(queue[i]))
        if not nodes:
            return False
        self._answered += len(nodes)
        self._give_priors(nodes, [self._position_of(node) for node in nodes])
        return True

    def _give_priors(self, nodes: list[int], positions: list[Position]) -> None:
        tree = self.tree
        if self._values is not None:  # before the priors: a node asked is a node judged
            into = self._edges_into(nodes) if self.config.value_visits > 0 else []
            tree.judge(nodes, into, self._values(positions), self.config.value_visits)
        for node, priors in zip(nodes, self._policy(positions), strict=True):
            tree.set_priors(node, priors)
            tree.asked[node] = 2

    def _edges_into(self, nodes: list[int]) -> list[int]:
        """The edge from each node's parent to it (-1 for the root)."""
        tree, into = self.tree, []
        for node in nodes:
            above = int(tree.parent[node])
            found = np.flatnonzero(tree.child[tree.edges(above)] == node) if above >= 0 else []
            into.append(int(tree.first[above]) + int(found[0]) if len(found) else -1)
        return into

    def _drop_asks(self) -> None:
        """Queued nodes left unanswered at the end of a search may be queued again."""
        queue, queued = self._asks
        end = min(int(queued[0]), len(queue))
        waiting = queue[self._answered: end]
        self.tree.asked[waiting[waiting >= 0]] = 0

    def _position_of(self, node: int) -> Position:
        """The node's position, replayed from the root's (the tree's moves obey simple ko; a
        superko repetition below the root is let through, as the search plays it)."""
        known = self._positions.get(node)
        if known is not None:
            return known
        tree = self.tree
        if node == self.root:
            position = self.root_position
        else:
            above = int(tree.parent[node])
            edges = tree.edges(above)
            move = int(tree.move[edges][np.flatnonzero(tree.child[edges] == node)[0]])
            position = self._position_of(above).play(move, superko=False)
        self._positions[node] = position
        return position

    # ---- leaf statistics (per thread, summed when asked) --------------------------------------

    def _reset_stats(self, position: Position) -> None:
        n = position.board.size
        leaves = np.zeros((self.threads, 8), np.int64)  # a cache line per thread, as _rngs
        self._stats = [(np.zeros(n), np.zeros(n), np.zeros((n + 1, 2)), leaves[t, :1])
                       for t in range(self.threads)]

    def _leaves(self) -> int:
        return int(sum(s[3][0] for s in self._stats))

    def _score_lead(self, edge: int) -> float | None:
        index = edge - int(self.tree.first[self.root])
        total = sum(s[2][index] for s in self._stats) if self._stats else None
        return None if total is None or not total[1] else float(total[0] / total[1])


def _run_worker(errors: list[BaseException], *args) -> None:
    try:
        S.simulate(*args)
    except BaseException as error:  # handed to the driver, which raises it
        errors.append(error)


def _new_tree(config: M.MCTSConfig) -> Tree:
    return Tree(config.max_nodes, config.max_edges)


@nb.njit(cache=True)
def compact(old, new, node):
    """Copy the subtree of `old` under `node` into `new` (tree arrays as simulation.simulate
    takes them), breadth first from the front; returns (nodes, edges) used in `new`."""
    first, count, visits, color, claim, asked, parent, V, move, child, Pr, N, W, rN, rW = old
    (nfirst, ncount, nvisits, ncolor, nclaim, nasked, nparent, nV, nmove, nchild, nP, nN, nW,
     nrN, nrW) = new
    queue = np.empty(first.shape[0], np.int64)  # old node numbers, in their new order
    queue[0] = node
    nparent[0] = -1
    n_nodes, n_edges, head = 1, 0, 0
    while head < n_nodes:
        old_node = queue[head]
        ncount[head] = count[old_node]
        nvisits[head] = visits[old_node]
        ncolor[head] = color[old_node]
        nclaim[head] = claim[old_node]
        nasked[head] = asked[old_node]
        nV[head] = V[old_node]
        nfirst[head] = n_edges
        for e in range(first[old_node], first[old_node] + count[old_node]):
            nmove[n_edges] = move[e]
            nP[n_edges] = Pr[e]
            nN[n_edges] = N[e]
            nW[n_edges] = W[e]
            nrN[n_edges] = rN[e]
            nrW[n_edges] = rW[e]
            nchild[n_edges] = -1
            if child[e] >= 0:
                queue[n_nodes] = child[e]
                nchild[n_edges] = n_nodes
                nparent[n_nodes] = head
                n_nodes += 1
            n_edges += 1
        head += 1
    return n_nodes, n_edges


def make_search(evaluator: object, config: M.MCTSConfig | None = None,
                rng: np.random.Generator | None = None) -> CompiledMCTS | M.MCTS:
    """The search for `evaluator`: CompiledMCTS where it compiles the evaluation (and
    config.compiled is on), else the Python MCTS."""
    config = config or M.MCTSConfig()
    if config.compiled and compiles(evaluator):
        return CompiledMCTS(evaluator, config, rng)
    return M.MCTS(evaluator, config, rng)
