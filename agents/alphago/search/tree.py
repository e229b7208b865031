"""The search tree as flat arrays, and the compiled steps that walk it.

Nodes and edges live in preallocated arrays so that selection and backup run in numba without
touching Python objects. The names follow the AlphaGo paper: every edge (s, a) holds a prior
P, a visit count N and a total value W, so Q = W / N. RAVE/AMAF statistics (rN, rW) sit beside
them for evaluators that report the moves of their rollouts.

Value-sign convention, used everywhere in this package: a value is from the point of view of
the player to move at the position it belongs to, in [-1, 1]. An edge's W is from the point of
view of the player who chooses that edge (the player to move at the edge's parent node), so
selection maximises Q + U at every node, and backup negates the value at each step up.

Virtual loss: selection adds `vl` visits that each lost (N += vl, W -= vl) to every edge and
node on its path, steering the other selections of a batch elsewhere; backup removes exactly
what selection added, then adds the real visit.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from agents.alphago.search.atomics import atomic_add


class Tree:
    """Preallocated node and edge arrays (see the module docstring for the fields)."""

    def __init__(self, max_nodes: int, max_edges: int):
        self.max_nodes = max_nodes
        self.max_edges = max_edges
        # nodes
        self.first = np.zeros(max_nodes, np.int64)   # first edge of the node's block
        self.count = np.zeros(max_nodes, np.int32)   # edges in the block (0: not expanded)
        self.visits = np.zeros(max_nodes, np.float64)  # times the node was reached (with vl)
        self.color = np.zeros(max_nodes, np.int8)    # player to move at the node
        self.terminal = np.zeros(max_nodes, np.bool_)
        self.refined = np.zeros(max_nodes, np.bool_)  # priors replaced by the policy net's
        self.claim = np.zeros(max_nodes, np.int32)  # 1: a thread expands it (simulation.py)
        self.asked = np.zeros(max_nodes, np.int32)  # 1: queued for the policy's priors, 2: done
        self.parent = np.full(max_nodes, -1, np.int64)  # the node above (-1: a root)
        self.V = np.full(max_nodes, np.nan, np.float32)  # the value net's estimate (NaN: none)
        # edges
        self.move = np.zeros(max_edges, np.int32)
        self.child = np.full(max_edges, -1, np.int32)
        self.P = np.zeros(max_edges, np.float32)
        self.N = np.zeros(max_edges, np.float64)
        self.W = np.zeros(max_edges, np.float64)
        self.rN = np.zeros(max_edges, np.float64)
        self.rW = np.zeros(max_edges, np.float64)
        self.n_nodes = 0
        self.n_edges = 0

    def reset(self) -> None:
        self.n_nodes = 0
        self.n_edges = 0

    def full(self) -> bool:
        """No room for another node (edges are checked when a node is expanded)."""
        return self.n_nodes >= self.max_nodes

    def add_node(self, color: int, terminal: bool) -> int:
        node = self.n_nodes
        self.n_nodes += 1
        self.first[node] = 0
        self.count[node] = 0
        self.visits[node] = 0.0
        self.color[node] = color
        self.terminal[node] = terminal
        self.refined[node] = False
        self.claim[node] = 0
        self.asked[node] = 0
        self.parent[node] = -1
        self.V[node] = np.nan
        return node

    def expand(self, node: int, legal: np.ndarray, priors: np.ndarray) -> int:
        """Give `node` one edge per legal move (legal: bool [n+1], pass last) that `priors`
        [n+1] do not rule out (a prior of 0), with the priors renormalised over them.
        Returns the number of edges: 0 (the node stays a leaf) when the edge arrays have no
        room left."""
        if self.n_edges + int(np.count_nonzero(legal)) > self.max_edges:
            return 0
        k = write_edges(self.first, self.move, self.child, self.P, self.N, self.W, self.rN,
                        self.rW, node, self.n_edges, legal, priors)
        self.count[node] = k
        self.n_edges += k
        return k

    def set_priors(self, node: int, priors: np.ndarray) -> None:
        """Replace the priors of an expanded node's edges by `priors` [n+1] (pass last),
        renormalised over the node's moves."""
        edges = self.edges(node)
        moves = self.move[edges]
        p = np.maximum(priors[np.where(moves < 0, len(priors) - 1, moves)], 0.0)
        total = float(p.sum())
        self.P[edges] = p / total if total > 0 else 1.0 / len(p)
        self.refined[node] = True

    def judge(self, nodes: list[int], into: list[int], values: np.ndarray,
              prior_visits: float) -> None:
        """Record the value net's estimates of `nodes` (V, for the player to move at each).
        With prior_visits > 0 each estimate also counts as that many visits of the edge into
        its node (`into`, -1 for a root): MoGo's prior knowledge, which weighs most where the
        node's own visits are few and fades as the search's playouts accumulate."""
        self.V[nodes] = values
        rows = [i for i, e in enumerate(into) if e >= 0]
        if prior_visits > 0 and rows:
            add_prior_visits(np.array([into[i] for i in rows], np.int64),
                             np.asarray(values, np.float64)[rows], float(prior_visits),
                             self.N, self.W)

    def edges(self, node: int) -> slice:
        start = int(self.first[node])
        return slice(start, start + int(self.count[node]))



def _array_bytes() -> tuple[int, int]:
    probe = Tree(1, 2)  # node arrays have 1 entry, edge arrays 2
    arrays = [a for a in vars(probe).values() if isinstance(a, np.ndarray)]
    return (sum(a.itemsize for a in arrays if a.shape == (1,)),
            sum(a.itemsize for a in arrays if a.shape == (2,)))


NODE_BYTES, EDGE_BYTES = _array_bytes()  # the memory of one node and of one edge

@nb.njit(cache=True)
def select(first, count, child, P, N, W, rN, rW, visits, root, c_puct, rave_k, vl, fpu,
           path_nodes, path_edges):
    """Walk from `root` by max Q + U, applying virtual loss; stop at an edge without a child
    node or at a node without edges. Returns the number of edges taken (path_edges[:depth],
    their parent nodes in path_nodes[:depth]) and the node reached (-1 for a missing child)."""
    node = root
    depth = 0
    while count[node] > 0:
        best_e = best_edge(first[node], count[node], P, N, W, rN, rW, visits[node], c_puct,
                           rave_k, fpu)
        N[best_e] += vl
        W[best_e] -= vl
        visits[node] += vl
        path_nodes[depth] = node
        path_edges[depth] = best_e
        depth += 1
        node = child[best_e]
        if node < 0:
            return depth, -1
    return depth, node


@nb.njit(cache=True, inline="always")
def best_edge(start, k, P, N, W, rN, rW, node_visits, c_puct, rave_k, fpu):
    """The edge of [start, start + k) with the largest Q + U: PUCT's U = c_puct P sqrt(n) /
    (1 + N), with Q blended with the AMAF value by RAVE's beta where rave_k > 0, and `fpu` for
    an edge with neither."""
    sqrt_n = math.sqrt(max(node_visits, 1.0))
    best = -1e30
    best_e = start
    for e in range(start, start + k):
        n = N[e]
        if rave_k > 0.0 and rN[e] > 0.0:
            rq = rW[e] / rN[e]
            if n > 0.0:
                beta = rN[e] / (rN[e] + n + rN[e] * n / rave_k)
                q = (1.0 - beta) * W[e] / n + beta * rq
            else:
                q = rq
        elif n > 0.0:
            q = W[e] / n
        else:
            q = fpu
        score = q + c_puct * P[e] * sqrt_n / (1.0 + n)
        if score > best:
            best = score
            best_e = e
    return best_e


@nb.njit(cache=True, inline="always")
def mixed_value(z, mover, path_nodes, depth, leaf, V, color, weight):
    """AlphaGo's leaf value (1 - lambda) v + lambda z, `weight` = 1 - lambda, for the player
    to move at the leaf (`mover`): z a rollout's outcome, v the value net's estimate of the
    deepest node of the path that has one (the leaf itself, or an ancestor), sign-turned to
    the mover. The value net judges only the nodes the search keeps visiting (a policy
    threshold), so a leaf shares its nearest judged ancestor's v: its siblings' statistics
    differ by their rollouts until they are judged themselves. z alone where no node on the
    path is judged or weight is 0."""
    if weight <= 0.0:
        return z
    x = leaf
    if x < 0 or math.isnan(V[x]):
        x = -1
        for d in range(depth - 1, -1, -1):
            if not math.isnan(V[path_nodes[d]]):
                x = path_nodes[d]
                break
    if x < 0:
        return z
    v = V[x] if color[x] == mover else -V[x]
    return weight * v + (1.0 - weight) * z


@nb.njit(cache=True)
def add_prior_visits(edges, values, visits, N, W):
    """MoGo's prior knowledge from the value net: each edge in `edges` gains `visits` visits
    worth `values` (for the player to move at the edge's child, so negated for its chooser).
    Atomic: the search's workers back up into the same edges meanwhile."""
    for i in range(len(edges)):
        e = edges[i]
        atomic_add(N, e, visits)
        atomic_add(W, e, -visits * values[i])


@nb.njit(cache=True)
def backup(path_nodes, path_edges, depth, leaf, value, vl, N, W, visits):
    """Add one visit of value `value` (for the player to move at the leaf) along the path,
    taking back the virtual loss that select() applied. `leaf` may be -1 (not stored)."""
    if leaf >= 0:
        visits[leaf] += 1.0
    v = value
    for d in range(depth - 1, -1, -1):
        v = -v  # the edge's chooser is the opponent of the player to move below it
        e = path_edges[d]
        N[e] += 1.0 - vl
        W[e] += v + vl
        visits[path_nodes[d]] += 1.0 - vl


@nb.njit(cache=True)
def backup_amaf(path_nodes, path_edges, depth, leaf_color, value, tail_moves, n_tail,
                first, count, move, color, rN, rW, played_by):
    """RAVE: at every node on the path, credit each edge whose move the node's player went on
    to play first (later in the tree path or in the rollout `tail_moves`, which alternate
    colours starting with `leaf_color`; -1 is a pass). `played_by` is scratch of board size."""
    played_by[:] = 0
    # the rollout, scanned backwards so that the earliest play of each point wins
    c = leaf_color if n_tail % 2 == 1 else 3 - leaf_color
    for i in range(n_tail - 1, -1, -1):
        m = tail_moves[i]
        if m >= 0:
            played_by[m] = c
        c = 3 - c
    v = value
    for d in range(depth - 1, -1, -1):
        v = -v
        node = path_nodes[d]
        m = move[path_edges[d]]
        me = color[node]
        if m >= 0:
            played_by[m] = me
        for e in range(first[node], first[node] + count[node]):
            p = move[e]
            if p >= 0 and played_by[p] == me:  # atomic: compiled.py's threads share the tree
                atomic_add(rN, e, 1.0)
                atomic_add(rW, e, v)


@nb.njit(cache=True)
def write_edges(first, move, child, P, N, W, rN, rW, node, start, legal, priors):
    """The compiled body of Tree.expand: the edges of `node` from `start` on, one per legal
    move (pass, the last entry, becomes move -1) that the priors do not rule out with a prior
    of 0 (all legal moves when they rule out every one), and first[node]; the caller then sets
    count[node], which makes them visible (simulation.py publishes it atomically)."""
    n = legal.shape[0] - 1
    total = 0.0
    k = 0
    for a in range(n + 1):
        if legal[a]:
            total += max(priors[a], 0.0)
            k += 1
    e = start
    for a in range(n + 1):
        if not legal[a] or (total > 0.0 and priors[a] <= 0.0):
            continue
        move[e] = a if a < n else -1
        child[e] = -1
        P[e] = max(priors[a], 0.0) / total if total > 0.0 else 1.0 / k
        N[e] = 0.0
        W[e] = 0.0
        rN[e] = 0.0
        rW[e] = 0.0
        e += 1
    first[node] = start
    return e - start
