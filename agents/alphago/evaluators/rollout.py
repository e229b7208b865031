"""RolloutEvaluator, the network-free evaluator: compiled rollouts on all cores, with priors.

Each leaf of a batch gets one playout (the MoGo-style playouts of playouts.mogo by default;
plain random ones, or the trained linear softmax policy of playouts.linear, as options), and
the leaf's priors are playouts.mogo's heuristic ones (or uniform); the batch is shared out to
threads that run compiled code without the GIL, so a search on two cores
evaluates two leaves at a time. The value of a leaf is the playout's result for its player to
move (+1 win, -1 loss, 0 draw), and the playout's moves come back for RAVE. The final board's
owners and area margin, which the scoring computes anyway, come back too (from the leaf's
mover's view) as the Evaluation's ownership and score: analysis draws territory with them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np

from agents.alphago.evaluators.protocol import Evaluation
from agents.alphago.playouts import linear, mogo
from envs.go import Position, kernels
from envs.go import playout as P


@nb.njit(cache=True, inline="always")
def final_result(board, nbr, komi, owner, own_sum, mover, values_out, owners_out, margins_out,
                 b):
    """Score row b's final board for `mover`: values_out[b] +1/-1/0, owners_out[b] [n] +1 where
    the mover owns a point, -1 where the opponent does, 0 for neutral points, margins_out[b]
    the mover's area margin (komi included)."""
    score = P.area_score(board, nbr, komi, owner, own_sum)
    margin = score if mover == 1 else -score
    margins_out[b] = margin
    values_out[b] = 0.0 if margin == 0.0 else (1.0 if margin > 0.0 else -1.0)
    for p in range(board.shape[0]):
        c = owner[p]
        owners_out[b, p] = 0.0 if c == 0 else (1.0 if c == mover else -1.0)


@nb.njit(cache=True, nogil=True)
def rollouts(boards, to_play, ko, last_move, nbr, diag, nbr8, komi, rng_states, heavy, patterns,
             lo, hi, values_out, moves_out, lengths_out, owners_out, margins_out):
    """One playout for each row b in [lo, hi) of `boards` [B, n]; values_out[b] is the result
    for to_play[b], owners_out[b] [n] and margins_out[b] the final ownership and margin from
    its view (final_result). Releases the GIL, so threads can run disjoint ranges at once."""
    n = boards.shape[1]
    max_moves = moves_out.shape[1]
    board, head, link, libs, gsize, empty, where, owner, own_sum = P.work_arrays(n)
    for b in range(lo, hi):
        rng = rng_states[b: b + 1]
        n_empty = P.setup_board(boards[b], nbr, board, head, link, libs, gsize, empty, where)
        if heavy:
            played = mogo.heavy_playout(board, nbr, diag, nbr8, head, link, libs, gsize, empty,
                                        where, n_empty, to_play[b], ko[b], last_move[b], rng,
                                        max_moves, moves_out[b], patterns)
        else:
            played = P.random_playout(board, nbr, diag, head, link, libs, gsize, empty, where,
                                      n_empty, to_play[b], ko[b], rng, max_moves, moves_out[b])
        lengths_out[b] = min(played, max_moves)
        final_result(board, nbr, komi, owner, own_sum, to_play[b], values_out, owners_out,
                     margins_out, b)


@nb.njit(cache=True, nogil=True)
def linear_rollouts(boards, to_play, ko, last_move, nbr, diag, komi, rng_states, nbr8,
                    pattern_gamma, response_gamma, flag_gamma, lo, hi, values_out, moves_out,
                    lengths_out, owners_out, margins_out):
    """rollouts() with the trained linear softmax policy (a linear.RolloutPolicy's tables).
    A kernel of its own: a linear branch inside rollouts() cost the heavy playouts 7%."""
    n = boards.shape[1]
    max_moves = moves_out.shape[1]
    board, head, link, libs, gsize, empty, where, owner, own_sum = P.work_arrays(n)
    for b in range(lo, hi):
        n_empty = P.setup_board(boards[b], nbr, board, head, link, libs, gsize, empty, where)
        played = linear.linear_playout(board, nbr, diag, nbr8, head, link, libs, gsize, empty,
                                       where, n_empty, to_play[b], ko[b], last_move[b],
                                       rng_states[b: b + 1], max_moves, moves_out[b],
                                       pattern_gamma, response_gamma, flag_gamma)
        lengths_out[b] = min(played, max_moves)
        final_result(board, nbr, komi, owner, own_sum, to_play[b], values_out, owners_out,
                     margins_out, b)


class RolloutEvaluator:
    """Evaluator for MCTS without networks (see the module docstring).

    heavy:  playouts with Go knowledge (atari and capture responses, 3x3 patterns, no big
            self-atari) instead of uniformly random ones.
    priors: heuristic move priors (captures, escapes, patterns; pass and the first line low)
            instead of uniform ones.
    linear_policy: play the playouts with this trained linear softmax policy instead (heavy
            is then ignored).
    """

    def __init__(self, seed: int = 0, heavy: bool = True, priors: bool = True,
                 threads: int | None = None,
                 linear_policy: linear.RolloutPolicy | None = None):
        self.heavy = heavy
        self.linear_policy = linear_policy
        self.use_priors = priors
        self.threads = max(1, threads or os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        self._seed_rng = np.random.default_rng(seed)
        self._rngs = np.zeros(0, np.uint64)

    @property
    def leaf_rollouts(self) -> RolloutEvaluator:
        """Itself (evaluators.protocol.RolloutLeaves)."""
        return self

    def evaluate(self, positions: Sequence[Position]) -> Evaluation:
        batch = len(positions)
        size = positions[0].rules.size
        n = size * size
        if self._rngs.size < batch:
            seeds = self._seed_rng.integers(1, 2**63 - 1, size=batch, dtype=np.int64)
            self._rngs = np.concatenate([self._rngs, seeds.astype(np.uint64)])
        boards = np.stack([p.board for p in positions])
        to_play = np.array([p.to_play for p in positions], np.int8)
        ko = np.array([p.ko for p in positions], np.int32)
        last = np.array([_last_point(p) for p in positions], np.int32)
        nbr, diag = kernels.neighbour_table(size), kernels.diagonal_table(size)
        nbr8 = kernels.neighbour8_table(size)
        max_moves = P.MAX_MOVES_PER_POINT * n + 10
        values = np.empty(batch, np.float32)
        moves = np.empty((batch, max_moves), np.int32)
        lengths = np.empty(batch, np.int64)
        owners = np.empty((batch, n), np.float32)
        margins = np.empty(batch, np.float32)
        kernel = rollouts
        args = (boards, to_play, ko, last, nbr, diag, nbr8, positions[0].rules.komi,
                self._rngs[:batch], self.heavy, mogo.pattern_table())
        if self.linear_policy is not None:
            weights = self.linear_policy
            kernel = linear_rollouts
            args = (*args[:6], *args[7:9], nbr8, weights.pattern_gamma,
                    weights.response_gamma, weights.flag_gamma)
        outs = (values, moves, lengths, owners, margins)
        if self._pool is None or batch == 1:
            kernel(*args, 0, batch, *outs)
        else:
            # small chunks handed out on demand: if another process holds one core, the other
            # thread keeps working instead of the whole batch waiting for the slow one
            chunk = max(1, batch // (4 * self.threads))
            jobs = [self._pool.submit(kernel, *args, lo, min(batch, lo + chunk), *outs)
                    for lo in range(0, batch, chunk)]
            for job in jobs:
                job.result()
        priors = np.ones((batch, n + 1), np.float32)
        if self.use_priors:
            for i, p in enumerate(positions):
                mogo.heuristic_priors(p.board, nbr, diag, nbr8, p.to_play, int(last[i]),
                                      p.legal_moves()[:n], mogo.pattern_table(), priors[i])
        else:
            priors[:, n] = 0.1
        tails = [moves[i, : lengths[i]] for i in range(batch)]
        return Evaluation(priors, values, tails, owners, margins)


def _last_point(position: Position) -> int:
    move = position.last_move
    return move if move is not None and move >= 0 else -1
