"""Monte-Carlo tree search with batched leaf evaluation (PUCT, optional RAVE).

One search round selects `batch_size` leaves (virtual loss keeps them apart), evaluates them
in one call to the Evaluator (a network batch, or compiled rollouts on all cores), expands the
leaves that have been visited `expand_threshold` times, and backs the values up. A round is
two public halves, gather() and finish(), with the evaluator call between them, so that
lockstep.py can evaluate the leaves of several searches in one batch. The tree and the walks
over it live in tree.py; this module owns positions, limits, move choice and reuse.
The value-sign convention is stated once, in tree.py: a value belongs to the player to move.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from agents.alphago.evaluators.protocol import Evaluation, Evaluator, PriorSource, ValueSource
from agents.alphago.search import tree as T
from agents.alphago.search.leafstats import LeafStats
from agents.alphago.search.player import Decision, MoveInfo, SearchLimits
from envs.checks import check_ranges
from envs.go import PASS, RESIGN, Position, winner_of

DECIDED = 0.95  # a best win rate at least this high: playing on after a pass changes nothing


@dataclass(frozen=True)
class MCTSConfig:
    """Search settings. The defaults are the network-free engine's (presets.py names them and
    the alphago player's). AlphaGo used c_puct 5, virtual loss 3 and expansion after 40 visits
    with networks; without networks, RAVE (rave_equivalence > 0) and a small c_puct win."""

    c_puct: float = 1.0
    virtual_loss: float = 1.0
    batch_size: int = 16
    expand_threshold: int = 1
    rave_equivalence: float = 1000.0   # 0 turns RAVE off
    fpu: float = 0.0                   # Q assumed for unvisited edges without AMAF data
    resign_threshold: float = 0.05     # resign when the best win rate falls below this
    resign_min_visits: int = 200
    dirichlet_alpha: float = 0.0       # root noise for self-play (0: off)
    dirichlet_weight: float = 0.25
    temperature: float = 0.0           # 0: play the most visited move
    temperature_moves: int = 0         # moves from the start that use the temperature
    policy_threshold: int = 0          # visits before a PriorSource evaluator's priors()
                                       # replace a node's (0: evaluate()'s priors are final)
    max_nodes: int = 150_000           # the tree starts afresh when half of either is used
    max_edges: int = 6_000_000
    compiled: bool = True              # evaluators with rollout leaves get the compiled
                                       # search (compiled.py); False: this one
    stop_when_decided: bool = True     # a timed search ends once its move cannot change
    value_visits: float = 0.0          # > 0: a judged node's value-net estimate counts as
                                       # this many visits of the edge into it, not mixed by lambda

    def __post_init__(self) -> None:
        check_ranges(self, at_least_1=("batch_size", "expand_threshold", "max_nodes",
                                       "max_edges"),
                     # 0: no exploration term / no virtual loss / RAVE off / no noise / the
                     # most visited move / priors final / the value mixed by lambda
                     at_least_0=("c_puct", "virtual_loss", "rave_equivalence",
                                 "resign_min_visits", "dirichlet_alpha", "temperature",
                                 "temperature_moves", "policy_threshold", "value_visits"),
                     probability=("resign_threshold", "dirichlet_weight"))



def stops_when_decided(config: MCTSConfig, position: Position) -> bool:
    """Whether a timed search of `position` may end early (out_of_reach): not while the move
    is drawn at a temperature, where every visit shapes the distribution."""
    sampled = config.temperature > 0 and position.move_number < config.temperature_moves
    return config.stop_when_decided and not sampled


def out_of_reach(visits: np.ndarray, done: int, elapsed: float, left: float) -> bool:
    """Whether the most visited of the root's edge `visits` is out of reach: at the rate of
    `done` simulations in `elapsed` seconds, the runner-up could not catch it even if every
    simulation of the `left` seconds went to it (Leela Zero's time management). Stopping then
    changes no move chosen by visits and gives the time back. The first tenth of a second
    only measures the rate."""
    if elapsed < 0.1 or len(visits) == 0:
        return False
    if len(visits) == 1:
        return True
    second, first = np.partition(visits, len(visits) - 2)[-2:]
    return first - second > done / elapsed * left


def policy_of(evaluator: object, config: MCTSConfig) -> Callable | None:
    """The evaluator's priors(), which a search asks for the nodes visited policy_threshold
    times; None at threshold 0. ValueError when the evaluator has none (not a PriorSource)."""
    if config.policy_threshold <= 0:
        return None
    if not isinstance(evaluator, PriorSource):
        raise ValueError(f"policy_threshold {config.policy_threshold} needs an evaluator with "
                         f"priors() (a PriorSource), not {type(evaluator).__name__}")
    return evaluator.priors


def value_of(evaluator: object, config: MCTSConfig) -> tuple[Callable | None, float]:
    """The evaluator's values() and their weight (1 - lambda), asked with policy_of's priors
    for the same nodes; (None, 0) without a value net or at threshold 0."""
    if (config.policy_threshold <= 0 or not isinstance(evaluator, ValueSource)
            or evaluator.value_weight <= 0):
        return None, 0.0
    # as prior visits (config.value_visits) the estimates are not mixed into the leaves
    return evaluator.values, 0.0 if config.value_visits > 0 else float(evaluator.value_weight)


def tree_megabytes(config: MCTSConfig) -> float:
    """The memory the search's trees may take at most: two Trees of the config's size (the
    compiled search copies a kept subtree into a second one)."""
    return 2 * (config.max_nodes * T.NODE_BYTES + config.max_edges * T.EDGE_BYTES) / 2**20


def with_memory(config: MCTSConfig, megabytes: float) -> MCTSConfig:
    """`config` with max_nodes and max_edges set so that tree_megabytes() is `megabytes`: one
    node for every 40 edges, as a 9x9 tree has about 80 edges a node and a 19x19 one 350."""
    if megabytes <= 0:
        raise ValueError(f"the search's memory must be positive, got {megabytes} MB")
    nodes = int(megabytes * 2**20 / (2 * (T.NODE_BYTES + 40 * T.EDGE_BYTES)))
    return dataclasses.replace(config, max_nodes=max(nodes, 1), max_edges=max(40 * nodes, 1))

class MCTS:
    """A reusable search: call search() for each move of a game; the subtree under the move
    played is kept when the next position continues from the last searched one."""

    def __init__(self, evaluator: Evaluator, config: MCTSConfig | None = None,
                 rng: np.random.Generator | None = None):
        self.evaluator = evaluator
        self.config = config or MCTSConfig()
        self.rng = rng or np.random.default_rng(0)
        self.tree = T.Tree(self.config.max_nodes, self.config.max_edges)
        self.positions: list[Position | None] = []
        self.root = -1
        self.simulations = 0  # in the last search
        self._policy = policy_of(evaluator, self.config)
        self._values, self._value_weight = value_of(evaluator, self.config)
        self._scratch: dict[int, np.ndarray] = {}
        self._root_pending = False  # begin() left the root's evaluation to the first round
        self._pending: _Round | None = None  # gathered and not yet finished
        self._stats = LeafStats()  # the leaves' ownership and scores under this root

    # ---- public -------------------------------------------------------------------------------

    def search(self, position: Position, limits: SearchLimits,
               stop: threading.Event | None = None,
               report: Callable[[list[MoveInfo]], None] | None = None,
               report_every: float = 1.0) -> list[MoveInfo]:
        """Search from `position` until a limit is reached or `stop` is set; returns the root's
        candidates, most visited first."""
        self.begin(position)
        if self._root_pending:  # the root is evaluated whatever the limits, as it always was
            self._evaluate_round(1)
        start = time.perf_counter()
        next_report = start + report_every
        done = 0
        visits_limit = limits.visits
        early = limits.seconds is not None and stops_when_decided(self.config, position)
        while True:
            if stop is not None and stop.is_set():
                break
            if visits_limit is not None and done >= visits_limit:
                break
            elapsed = time.perf_counter() - start
            if limits.seconds is not None and elapsed >= limits.seconds:
                break
            if early and out_of_reach(self.tree.N[self.tree.edges(self.root)], done, elapsed,
                                      limits.seconds - elapsed):
                break
            if self.tree.terminal[self.root]:
                break
            batch = self.config.batch_size
            if visits_limit is not None:
                batch = min(batch, visits_limit - done)
            done += self._evaluate_round(batch)
            if report is not None and time.perf_counter() >= next_report:
                report(self.candidates())
                next_report = time.perf_counter() + report_every
        self.simulations = done
        return self.candidates()

    def candidates(self) -> list[MoveInfo]:
        """The root's moves as analysis shows them, most visited first."""
        return root_candidates(self.tree, self.root, self._stats.score_lead)

    def clear(self) -> None:
        """Forget the tree (a new game)."""
        self.root = -1
        self.tree.reset()
        self.positions.clear()

    def ownership(self) -> np.ndarray | None:
        """float32 [size*size]: the average ownership of the leaves evaluated under the current
        root (+1 Black owns a point, -1 White); None when the evaluator gives none."""
        return self._stats.ownership()

    def ownership_stdev(self) -> np.ndarray | None:
        """float32 [size*size]: the leaves' spread around ownership(); None as it."""
        return self._stats.ownership_stdev()

    def choose(self, position: Position, candidates: list[MoveInfo]) -> Decision:
        """Turn the root statistics into a move (choose_move)."""
        return choose_move(self.config, self.rng, position, candidates)

    # ---- one round, in two halves ------------------------------------------------------------

    def begin(self, position: Position) -> None:
        """Make `position` the root (keeping the subtree when it continues the last search)
        without calling the evaluator: an unexpanded root is the first gather()'s one leaf."""
        if self._pending is not None:
            # a round was gathered and never finished (its evaluator raised): its virtual
            # losses are still in the tree, so the tree cannot be trusted any more
            self._pending = None
            self.tree.reset()
            self.positions.clear()
            self.root = -1
        self._set_root(position)

    def gather(self, batch: int) -> list[Position]:
        """Select up to `batch` leaves under virtual loss and return the positions the
        evaluator must score (B <= batch; terminal leaves are backed up at once and not
        returned, so B may be 0). While the root awaits its evaluation after begin(), returns
        just the root. The selected paths wait in the search for finish()."""
        if self._pending is not None:
            raise RuntimeError("gather() again before finish() of the last round")
        if self._root_pending:
            root_position = self.positions[self.root]
            self._pending = _Round(0, [], [root_position], [self.root])
            return [root_position]
        cfg, tree = self.config, self.tree
        depth_cap = 4 * len(self.positions[self.root].board) + 64
        paths, leaves, nodes = [], [], []
        for _ in range(batch):
            path_nodes = np.empty(depth_cap, np.int32)
            path_edges = np.empty(depth_cap, np.int64)
            depth, node = T.select(tree.first, tree.count, tree.child, tree.P, tree.N, tree.W,
                                   tree.rN, tree.rW, tree.visits, self.root, cfg.c_puct,
                                   cfg.rave_equivalence, cfg.virtual_loss, cfg.fpu,
                                   path_nodes, path_edges)
            if node < 0:  # a new child: make its position and (room permitting) its node
                parent, edge = int(path_nodes[depth - 1]), int(path_edges[depth - 1])
                position = self.positions[parent].play(int(tree.move[edge]))
                node = self._new_node(position)
                if node >= 0:
                    tree.child[edge] = node
            else:
                position = self.positions[node]
            if node >= 0 and tree.terminal[node] or position.is_game_over():
                value = _terminal_value(position)
                T.backup(path_nodes, path_edges, depth, node, value, cfg.virtual_loss,
                         tree.N, tree.W, tree.visits)
                continue
            paths.append((path_nodes, path_edges, depth))
            leaves.append(position)
            nodes.append(node)
        self._pending = _Round(batch, paths, leaves, nodes)
        return list(leaves)

    def finish(self, evaluation: Evaluation | None) -> int:
        """Expand and back up the leaves of the last gather() with `evaluation` (its rows in
        the order gather() returned the positions); None only when gather() returned none.
        Returns the simulations the round counts: its whole batch, terminal leaves included,
        and 0 for the root's own evaluation (which is no simulation)."""
        pending = self._pending
        if pending is None:
            raise RuntimeError("finish() without a gather()")
        rows = 0 if evaluation is None else len(evaluation.values)
        if rows != len(pending.leaves):
            raise ValueError(f"the evaluation has {rows} rows for {len(pending.leaves)} "
                             f"gathered positions")
        self._pending = None
        cfg, tree = self.config, self.tree
        if self._root_pending:
            self._root_pending = False
            self._expand(self.root, pending.leaves[0], evaluation.priors[0])
            self._refine_root()
            self._stats.add(evaluation.ownership, None, [pending.leaves[0].to_play],
                            pending.leaves[0].to_play, None)
            return 0
        for i, (path_nodes, path_edges, depth) in enumerate(pending.paths):
            node, leaf = pending.nodes[i], pending.leaves[i]
            if (node >= 0 and tree.count[node] == 0
                    and tree.visits[node] + 1 >= cfg.expand_threshold):
                self._expand(node, leaf, evaluation.priors[i])
            value = T.mixed_value(float(evaluation.values[i]), leaf.to_play, path_nodes, depth,
                                  node, tree.V, tree.color, self._value_weight)
            if evaluation.tails is not None and cfg.rave_equivalence > 0:
                tail = evaluation.tails[i]
                T.backup_amaf(path_nodes, path_edges, depth, leaf.to_play, value, tail,
                              len(tail), tree.first, tree.count, tree.move, tree.color,
                              tree.rN, tree.rW, self._played_by(leaf))
            T.backup(path_nodes, path_edges, depth, node, value, cfg.virtual_loss,
                     tree.N, tree.W, tree.visits)
        if pending.paths and self._policy is not None:
            self._refine_due(pending.paths)
        if pending.paths and (evaluation.ownership is not None or evaluation.score is not None):
            self._stats.add(evaluation.ownership, evaluation.score,
                            [leaf.to_play for leaf in pending.leaves],
                            self.positions[self.root].to_play,
                            [int(edges[0]) for _, edges, _ in pending.paths])
        return pending.batch

    def _evaluate_round(self, batch: int) -> int:
        """One round of this search alone: gather, one evaluator call, finish."""
        leaves = self.gather(batch)
        return self.finish(self.evaluator.evaluate(leaves) if leaves else None)

    # ---- tree upkeep --------------------------------------------------------------------------

    def _new_node(self, position: Position) -> int:
        if self.tree.full():
            return -1
        node = self.tree.add_node(position.to_play, position.is_game_over())
        if node == len(self.positions):
            self.positions.append(position)
        else:
            self.positions[node] = position
        return node

    def _refine_due(self, paths: list[tuple[np.ndarray, np.ndarray, int]]) -> None:
        """Ask the evaluator's priors() for the nodes on these paths that have reached the
        policy threshold, in one batch (AlphaGo's expansion threshold for the policy net:
        the network's cost is paid only where the search keeps coming back)."""
        tree, due = self.tree, {}
        for path_nodes, path_edges, depth in paths:
            for d in range(depth):  # path_nodes[d] is reached by path_edges[d - 1]
                node = int(path_nodes[d])
                if tree.visits[node] >= self.config.policy_threshold and not tree.refined[node]:
                    due[node] = int(path_edges[d - 1]) if d > 0 else -1
        if due:
            nodes = sorted(due)
            self._refine(nodes, [due[n] for n in nodes])

    def _refine(self, nodes: list[int], into: list[int]) -> None:
        """The policy net's priors (and the value net's estimates) for `nodes`, reached by
        the edges `into` (-1: the root)."""
        positions = [self.positions[n] for n in nodes]
        priors = self._policy(positions)
        if self._values is not None:
            self.tree.judge(nodes, into, self._values(positions), self.config.value_visits)
        for node, p in zip(nodes, priors, strict=True):
            self.tree.set_priors(node, p)
            if node == self.root and self.config.dirichlet_alpha > 0:
                self._add_noise(node)

    def _expand(self, node: int, position: Position, priors: np.ndarray) -> None:
        self.tree.expand(node, position.legal_moves(), np.asarray(priors, np.float32))
        if node == self.root and self.config.dirichlet_alpha > 0:
            self._add_noise(node)

    def _add_noise(self, node: int) -> None:
        """Mix Dirichlet noise into a node's priors (self-play exploration at the root)."""
        edges = self.tree.edges(node)
        noise = self.rng.dirichlet([self.config.dirichlet_alpha] * (edges.stop - edges.start))
        w = self.config.dirichlet_weight
        self.tree.P[edges] = ((1 - w) * self.tree.P[edges] + w * noise).astype(np.float32)

    def _set_root(self, position: Position) -> None:
        """Reuse the subtree for `position` if it continues the last search, else start anew."""
        node = self._find(position)
        if (node < 0 or self.tree.n_nodes > self.config.max_nodes // 2
                or self.tree.n_edges > self.config.max_edges // 2):
            self.tree.reset()
            self.positions.clear()
            node, self.root = self._new_node(position), -1
        if node != self.root:
            self._stats.reset()
        self.root = node
        self.positions[node] = position  # the caller's object carries the true game history
        self._root_pending = self.tree.count[node] == 0 and not self.tree.terminal[node]
        if self._root_pending:
            return  # gather() offers it to the evaluator; finish() expands it
        if self.config.dirichlet_alpha > 0:
            self._add_noise(node)
        self._refine_root()

    def _refine_root(self) -> None:
        """Give an expanded root the PriorSource's priors at once: the move is chosen there."""
        root = self.root
        if (self._policy is not None and self.tree.count[root] > 0
                and not self.tree.refined[root]):
            self._refine([root], [-1])

    def _find(self, position: Position) -> int:
        if self.root < 0:
            return -1
        return find_node(self.tree, self.root, self.positions[self.root], position)

    def _played_by(self, position: Position) -> np.ndarray:
        n = position.board.size
        if n not in self._scratch:
            self._scratch[n] = np.zeros(n, np.int8)
        return self._scratch[n]


def root_candidates(tree: T.Tree, root: int,
                    score_lead: Callable[[int], float | None]) -> list[MoveInfo]:
    """The moves of `root` as analysis shows them, most visited first; score_lead(edge) gives
    an edge's average score (or None)."""
    if root < 0 or tree.count[root] == 0:
        return []
    edges = tree.edges(root)
    order = np.argsort(-tree.N[edges], kind="stable")
    infos = []
    for i in order:
        e = edges.start + int(i)
        n = float(tree.N[e])
        if n <= 0:
            break
        winrate = (tree.W[e] / n + 1.0) / 2.0
        spread = 1.96 * math.sqrt(max(winrate * (1 - winrate), 1e-4) / n)
        infos.append(MoveInfo(move=int(tree.move[e]), visits=int(n), winrate=winrate,
                              prior=float(tree.P[e]), lcb=max(0.0, winrate - spread),
                              pv=tuple(principal_variation(tree, e)), score_lead=score_lead(e)))
    return infos


def principal_variation(tree: T.Tree, edge: int, length: int = 10) -> list[int]:
    """The moves from `edge` on, following the most visited edge at each node."""
    line = []
    while edge >= 0 and len(line) < length:
        line.append(int(tree.move[edge]))
        node = int(tree.child[edge])
        if node < 0 or tree.count[node] == 0:
            break
        edges = tree.edges(node)
        best = int(np.argmax(tree.N[edges]))
        edge = edges.start + best if tree.N[edges.start + best] > 0 else -1
    return line


def choose_move(config: MCTSConfig, rng: np.random.Generator, position: Position,
                candidates: list[MoveInfo]) -> Decision:
    """Turn the root statistics into a move: temperature or most visits, sensible passing
    and resignation. Never pass into a loss. After the opponent's pass, pass back (ending
    the game) when we win as the board stands, unless a real move is the search's best and
    the game is still open (its win rate under DECIDED): an early pass is not a game to
    snatch on komi (GNU Go, and KataGo's conservative passing, play on too)."""
    if not candidates:
        return Decision(PASS)
    best = candidates[0]
    open_game = best.move != PASS and best.winrate < DECIDED
    if position.last_move == PASS and not open_game and _wins_as_it_stands(position):
        return Decision(PASS, best.winrate, tuple(candidates))
    if (best.winrate < config.resign_threshold and best.visits >= config.resign_min_visits
            and config.resign_threshold > 0):
        return Decision(RESIGN, best.winrate, tuple(candidates))
    move = best.move
    if config.temperature > 0 and position.move_number < config.temperature_moves:
        visits = np.array([c.visits for c in candidates], np.float64)
        weights = visits ** (1.0 / config.temperature)
        move = candidates[int(rng.choice(len(candidates), p=weights / weights.sum()))].move
    if move == PASS and not _wins_as_it_stands(position):
        others = [c for c in candidates if c.move != PASS]
        if others:  # passing would end or risk the game in a loss: play on
            move = others[0].move
    return Decision(move, best.winrate, tuple(candidates))


def find_node(tree: T.Tree, root: int, root_position: Position, position: Position) -> int:
    """The node of `position` under `root` (whose position is root_position) when `position`
    continues it by moves the tree holds, under the same rules, each by the player whose turn it
    was (a controller may replay setup stones as moves of one colour: the tree's boards would
    not be the game's); -1 otherwise."""
    if position.rules != root_position.rules:
        return -1
    moves = []
    for pos in position.ancestors():
        if (pos.move_number == root_position.move_number and pos.hash == root_position.hash
                and pos.to_play == root_position.to_play):
            break
        if pos.last_move is None or pos.last_color != pos.parent.to_play:
            return -1
        moves.append(pos.last_move)
    else:
        return -1
    node = root
    for move in reversed(moves):
        edges = tree.edges(node)
        hit = np.flatnonzero(tree.move[edges] == move)
        if len(hit) == 0 or tree.child[edges.start + hit[0]] < 0:
            return -1
        node = int(tree.child[edges.start + hit[0]])
    return node


@dataclass
class _Round:
    """A gathered round awaiting finish(): the simulations it counts, and per leaf to evaluate
    its path (nodes, edges, depth), position and node (-1: no room left for a node)."""

    batch: int
    paths: list[tuple[np.ndarray, np.ndarray, int]]
    leaves: list[Position]
    nodes: list[int]


def _terminal_value(position: Position) -> float:
    """Exact value of a finished game for its player to move: +1 win, -1 loss, 0 draw."""
    winner = winner_of(position)
    if winner is None:
        return 0.0
    return 1.0 if winner == position.to_play else -1.0


def _wins_as_it_stands(position: Position) -> bool:
    """Whether the player to move wins if the game ends now, scored by area as the board is."""
    return winner_of(position) == position.to_play
