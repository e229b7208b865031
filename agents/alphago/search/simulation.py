"""The network-free search's whole simulation, compiled: several threads on one tree.

Each thread runs simulate() without the GIL until the shared budget of simulations is spent or
the driver raises the stop flag (tree parallelism, as the C engines do). A simulation copies
the root's incremental board (envs.go.playout's arrays), walks down by PUCT + RAVE under
virtual loss, playing each move on the board; makes the node it reaches (or the one it steps
into) and expands it with playouts.mogo's heuristic priors; plays a heavy playout from there;
scores it; and backs the result up, with AMAF credit for RAVE. The tree is tree.Tree's arrays
with the same fields and value-sign convention as the Python search (tree.py).

Threads meet only through atomic operations (atomics.py), so every count is exact:
  - statistics: virtual loss and backup add to N, W, visits, rN, rW atomically;
  - a new node: the thread that turns child[e] from -1 to -2 allocates it (an atomic counter)
    and publishes its number in child[e]; a thread meeting -2 evaluates there without a node;
  - expansion: the thread that turns claim[node] from 0 to 1 writes the edges (room taken
    from an atomic counter) and then publishes count[node]; the others treat the node as a
    leaf meanwhile. When the arrays are full, nodes simply stop growing (bounded memory).
Below the root, ko is simple ko (the root's moves come from the full rules); two passes in a
row end the game, which is then scored exactly by area.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from agents.alphago.playouts import mogo
from agents.alphago.search import tree as T
from agents.alphago.search.atomics import atomic_add, atomic_cas, atomic_load, atomic_store
from envs.go import playout as P
from envs.go.unmanaged import unmanaged

# the shared counters in `alloc`, and in `budget`
NODES, EDGES = 0, 1
LIMIT, CLAIMED, DONE, BROKEN = 0, 1, 2, 3
CREATING = -2  # child[e] while a thread makes the node


@nb.njit(cache=True, nogil=True)
def simulate(tree, alloc, root, root_state, rules, params, budget, stop, asks, rng, stats):
    """Run simulations until budget[CLAIMED] reaches budget[LIMIT] or stop[0] is set;
    budget[BROKEN] set means a tree move was illegal on the board (the tree is not the root's).

    tree        (first, count, visits, color, claim, asked, parent, V, move, child, P, N, W,
                rN, rW): tree.Tree's arrays; alloc int64 [2] the nodes and edges in use (may run
                past the capacity)
    root_state  (board, head, link, libs, gsize, empty, where) of the root (playout.setup_board)
                and ints (n_empty, to_play, ko, passes, last point or -1) in root_ints
    rules       (nbr, diag, nbr8, komi, patterns): kernels' tables, mogo.pattern_table()
    params      float64 [c_puct, rave_k, virtual_loss, fpu, expand_threshold, heavy, priors,
                policy_threshold, value_weight]: value_weight = 1 - lambda mixes the value
                net's estimates, written into V by the driver, with the playouts
                (tree.mixed_value); 0 without a value net
    asks        (queue int64 [k], count int64 [1]): nodes reaching policy_threshold visits are
                appended (each once: asked[node] 0 -> 1) for the driver to give them a policy's
                priors; -1 marks a slot claimed and not yet written
    stats       this thread's (own_sum [n], own_sq [n], score [edges at the root, 2], count [1])
    """
    n = root_state[0].shape[0]
    cap = 4 * n + 64
    work = (P.work_arrays(n), np.empty(cap, np.int64), np.empty(cap, np.int64),
            np.empty(P.MAX_MOVES_PER_POINT * n + 10, np.int32),
            np.zeros(n + 1, np.bool_), np.empty(n + 1, np.float32),  # legal, priors: pass last
            np.zeros(n, np.int8), np.empty((mogo.PRIORS_SCRATCH, n), np.int32))
    _simulate(tree, alloc, root, root_state, rules, params, budget, stop, asks, rng, stats, work)


@nb.njit(cache=True, nogil=True)
def _simulate(tree, alloc, root, root_state, rules, params, budget, stop, asks, rng, stats,
              work):
    # views without reference counts: each call would pay atomic adds on counters that the
    # threads share (see envs.go.unmanaged); simulate() keeps `work` alive
    tree, alloc, root_state, rules, params, budget, stop, asks, rng, stats, work = unmanaged(
        (tree, alloc, root_state, rules, params, budget, stop, asks, rng, stats, work))
    first, count, visits, color, claim, asked, parent, V, move, child, Pr, N, W, rN, rW = tree
    queue, queued = asks
    r_board, r_head, r_link, r_libs, r_gsize, r_empty, r_where, root_ints = root_state
    nbr, diag, nbr8, komi, patterns = rules
    own_sum, own_sq, score, leaves = stats
    c_puct, rave_k, vl, fpu = params[0], params[1], params[2], params[3]
    expand_threshold, heavy, use_priors = params[4], params[5] > 0.0, params[6] > 0.0
    policy_threshold, value_weight = params[7], params[8]
    max_nodes, max_edges = first.shape[0], move.shape[0]
    arrays, path_nodes, path_edges, tail, legal, priors, played_by, prior_scratch = work
    board, head, link, libs, gsize, empty, where, owner, own_scratch = arrays
    cap = path_nodes.shape[0]
    max_moves = tail.shape[0]
    while stop[0] == 0 and atomic_add(budget, CLAIMED, 1) < budget[LIMIT]:
        board[:] = r_board
        head[:] = r_head
        link[:] = r_link
        libs[:] = r_libs
        gsize[:] = r_gsize
        empty[:] = r_empty
        where[:] = r_where
        n_empty, c, ko, passes, last = (root_ints[0], root_ints[1], root_ints[2],
                                        root_ints[3], root_ints[4])
        # ---- selection: down the tree, playing the moves
        node = root
        depth = 0
        while passes < 2 and depth < cap and atomic_load(count, node) > 0:
            if (policy_threshold > 0.0 and visits[node] >= policy_threshold
                    and asked[node] == 0 and atomic_cas(asked, node, 0, 1) == 0):
                slot = atomic_add(queued, 0, 1)
                if slot < queue.shape[0]:
                    atomic_store(queue, slot, node)
            e = T.best_edge(first[node], count[node], Pr, N, W, rN, rW, visits[node], c_puct,
                            rave_k, fpu)
            atomic_add(N, e, vl)
            atomic_add(W, e, -vl)
            atomic_add(visits, node, vl)
            path_nodes[depth] = node
            path_edges[depth] = e
            depth += 1
            m = move[e]
            if m < 0:
                passes += 1
                ko = -1
            else:
                if board[m] != 0 or not P.is_legal_move(board, nbr, head, libs, m, c, ko):
                    # the tree is not this position's: stop everyone, the driver raises
                    budget[BROKEN] = 1
                    stop[0] = 1
                    return
                passes = 0
                n_empty, ko = P.play_move(board, nbr, head, link, libs, gsize, empty, where,
                                          n_empty, m, c)
            last = m
            c = 3 - c
            node = atomic_load(child, e)
            if node == -1:
                node = _make_node(child, e, path_nodes[depth - 1], alloc, max_nodes, first,
                                  count, visits, color, claim, asked, parent, V, c)
                break
            if node < 0:  # another thread is making it
                break
        # ---- evaluation: the exact result of a finished game, or expansion and a playout
        n_tail = 0
        if passes >= 2:
            margin = P.area_score(board, nbr, komi, owner, own_scratch)
        else:
            if (node >= 0 and atomic_load(count, node) == 0
                    and visits[node] + 1.0 >= expand_threshold
                    and atomic_cas(claim, node, 0, 1) == 0):
                _expand(board, nbr, diag, nbr8, head, libs, empty, n_empty, c, ko, last, patterns,
                        use_priors, legal, priors, prior_scratch, alloc, max_edges, node, tree)
            if heavy:
                n_tail = mogo.heavy_playout(board, nbr, diag, nbr8, head, link, libs, gsize, empty,
                                            where, n_empty, c, ko, last, rng, max_moves, tail,
                                            patterns)
            else:
                n_tail = P.random_playout(board, nbr, diag, head, link, libs, gsize, empty,
                                          where, n_empty, c, ko, rng, max_moves, tail)
            n_tail = min(n_tail, max_moves)
            margin = P.area_score(board, nbr, komi, owner, own_scratch)
            _add_stats(owner, margin, c, root_ints[1], path_edges[0] - first[root], depth,
                       own_sum, own_sq, score, leaves)
        value = 0.0 if margin == 0.0 else (1.0 if (margin > 0.0) == (c == 1) else -1.0)
        if passes < 2:  # a finished game's result is exact
            value = T.mixed_value(value, c, path_nodes, depth, node, V, color, value_weight)
        # ---- backup
        if rave_k > 0.0:
            T.backup_amaf(path_nodes, path_edges, depth, c, value, tail, n_tail, first, count,
                          move, color, rN, rW, played_by)
        if node >= 0:
            atomic_add(visits, node, 1.0)
        v = value
        for d in range(depth - 1, -1, -1):
            v = -v  # the edge's chooser is the opponent of the player to move below it
            e = path_edges[d]
            atomic_add(N, e, 1.0 - vl)
            atomic_add(W, e, v + vl)
            atomic_add(visits, path_nodes[d], 1.0 - vl)
        atomic_add(budget, DONE, 1)


@nb.njit(cache=True)
def playable_moves(legal, board, nbr, head, libs, color, ko):
    """legal [n+1] (the rules' legal moves, pass last) less the suicides that a rule set may
    allow: the incremental board, and so the search below the root, never plays one."""
    out = legal.copy()
    for p in range(board.shape[0]):
        if out[p] and not P.is_legal_move(board, nbr, head, libs, p, color, ko):
            out[p] = False
    return out


@nb.njit(cache=True, inline="always")
def _make_node(child, e, above, alloc, max_nodes, first, count, visits, color, claim, asked,
               parent, V, to_play):
    """The node under edge e, made by this thread if it wins the race for it; -1 when another
    thread makes it or the node arrays are full (the walk then ends at the edge)."""
    if atomic_cas(child, e, -1, CREATING) != -1:
        return -1
    node = atomic_add(alloc, NODES, 1)
    if node >= max_nodes:
        atomic_store(child, e, -1)
        return -1
    first[node] = 0
    count[node] = 0
    visits[node] = 0.0
    color[node] = to_play
    claim[node] = 0
    asked[node] = 0
    parent[node] = above
    V[node] = np.nan
    atomic_store(child, e, node)
    return node


@nb.njit(cache=True)
def _expand(board, nbr, diag, nbr8, head, libs, empty, n_empty, c, ko, last, patterns, use_priors,
            legal, priors, prior_scratch, alloc, max_edges, node, tree):
    """Give `node` an edge per legal move (and pass) with heuristic or uniform priors (none
    for a move they rule out), then publish it; with no room left for its edges it stays a leaf."""
    # the caller's arrays are views already; viewing them again here tells the compiler that
    # they carry no counter, so the inlined legality tests below take no reference at all
    (board, nbr, diag, nbr8, head, libs, empty, patterns, legal, priors, prior_scratch, alloc,
     tree) = unmanaged((board, nbr, diag, nbr8, head, libs, empty, patterns, legal, priors,
                        prior_scratch, alloc, tree))
    first, count, _, _, _, _, _, _, move, child, Pr, N, W, rN, rW = tree
    n = board.shape[0]
    legal[:] = False
    legal[n] = True  # pass
    for i in range(n_empty):
        p = empty[i]
        if P.is_legal_move(board, nbr, head, libs, p, c, ko):
            legal[p] = True
    if use_priors:
        mogo.fill_priors(board, nbr, diag, nbr8, c, last, legal[:n], patterns, priors,
                         prior_scratch)
    else:
        priors[:n] = 1.0
        priors[n] = 0.1
    k = 0
    for a in range(n + 1):
        if legal[a] and priors[a] > 0.0:  # write_edges' rule (priors never rule out all)
            k += 1
    start = atomic_add(alloc, EDGES, k)
    if start + k > max_edges:
        return
    T.write_edges(first, move, child, Pr, N, W, rN, rW, node, start, legal, priors)
    atomic_store(count, node, k)


@nb.njit(cache=True, inline="always")
def _add_stats(owner, margin, mover, root_player, root_edge, depth, own_sum, own_sq, score,
               leaves):
    """A leaf's final board into this thread's sums: ownership in Black's view, and the margin
    for the root's player under the root edge the walk took (LeafStats' averages)."""
    for p in range(owner.shape[0]):
        o = 1.0 if owner[p] == 1 else (-1.0 if owner[p] == 2 else 0.0)
        own_sum[p] += o
        own_sq[p] += o * o
    leaves[0] += 1
    if depth > 0 and 0 <= root_edge < score.shape[0]:
        score[root_edge, 0] += margin if root_player == 1 else -margin
        score[root_edge, 1] += 1.0
