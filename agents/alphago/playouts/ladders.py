"""Ladder reading for AlphaGo's "ladder capture" and "ladder escape" input planes.

A ladder is read on board copies by a small compiled search (numba). The defender's group is in
atari and its owner moves: if one of the attacking groups next to it is itself in atari, the
defender captures it and counts as escaped (the usual way out of a ladder); otherwise it
extends at its last liberty, and then has
  0-1 liberties: it is lost (the attacker takes it next),
  3+ liberties: it has escaped,
  2 liberties:  the attacker tries an atari on each of the two liberties, and so on.
So a ladder breaker (a defender stone on the ladder's path) shows up as an extension that
reaches three liberties. Only the first move of an escape is played out in full: capturing an
attacker there is a candidate move like the extension, and is read on. (Counting every later
capture as an escape misjudges a rare snapback; it keeps the search to two choices per rung.)

The search stops at `max_depth` plies (80 by default: a ladder across a 19x19 board is about
36 defender moves) and after `max_nodes` positions per read; a read cut short counts as "not
captured", the cautious answer for both planes. Ko and superko are ignored inside a read (moves
are tried with simple capture rules); the first move is checked against the real legal mask.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from envs.go import kernels

MAX_DEPTH = 80
MAX_NODES = 1000
_MAX_OPTIONS = 16  # first moves of an escape: the extension plus up to 15 captures


@nb.njit(cache=True)
def _defender_options(board, nbr, stone, work, mark, ctr, opts):
    """The defender's ways out of atari for the group at `stone` (which has one liberty):
    opts[0] = that liberty, then the liberties of adjacent attacking groups in atari.
    Returns the number of options (0 if the group is not in atari)."""
    color = board[stone]
    ctr[0] += 1
    size, nlibs = kernels.group_info(board, nbr, stone, work[0], mark[0], ctr[0], opts[:1])
    if nlibs != 1:
        return 0
    k = 1
    base = ctr[0]
    for i in range(size):
        s = work[0, i]
        for j in range(4):
            q = nbr[s, j]
            if q < 0:
                break
            if board[q] != 3 - color or mark[1, q] > base or k >= opts.shape[0]:
                continue
            ctr[0] += 1
            _, qlibs = kernels.group_info(board, nbr, q, work[1], mark[1], ctr[0], opts[k:k + 1])
            if qlibs != 1:
                continue
            dup = False
            for m in range(k):
                if opts[m] == opts[k]:
                    dup = True
            if not dup:
                k += 1
    return k


@nb.njit(cache=True)
def _expand(boards, d, nbr, stone, defender, work, mark, ctr, cand, ncand, idx):
    """Open the node boards[d]: 1 if the group at `stone` is already lost, 0 if it is safe (or
    the read is out of depth or nodes), -1 with its moves in cand[d, :ncand[d]] otherwise."""
    board = boards[d]
    if board[stone] == 0:
        return 1
    ctr[1] += 1
    if d + 1 >= boards.shape[0] or ctr[1] > ctr[2]:
        return 0
    idx[d] = 0
    if defender:
        k = _defender_options(board, nbr, stone, work, mark, ctr, cand[d])
        if k != 1:
            return 0  # out of atari, or an attacking group in atari to capture: escaped
        ncand[d] = 1
        return -1
    ctr[0] += 1
    _, nlibs = kernels.group_info(board, nbr, stone, work[0], mark[0], ctr[0], cand[d, :2])
    if nlibs != 2:
        return 1 if nlibs < 2 else 0
    ncand[d] = 2
    return -1


@nb.njit(cache=True)
def _captured(boards, nbr, zob, stone, defender_first, work, mark, ctr, cand, ncand, idx):
    """Whether the group at `stone` on boards[0] is captured by a ladder.

    defender_first: the group is in atari and its owner moves next; otherwise the attacker
    moves next. A depth-first AND/OR search, iterative because numba's cached code for a
    recursive function crashed when reloaded: boards[d] is the position at ply d,
    cand[d, :ncand[d]] its moves, idx[d] the next to try; ctr = [stamp counter, nodes used,
    node limit]. The group survives a defender node if one of its moves survives, and an
    attacker node if every atari fails.
    """
    color = boards[0, stone]
    r = _expand(boards, 0, nbr, stone, defender_first, work, mark, ctr, cand, ncand, idx)
    if r >= 0:
        return r == 1
    d = 0
    while True:
        defender = (d % 2 == 0) == defender_first
        if r >= 0:  # a child of node d was decided
            if r == (0 if defender else 1):  # ... and that decides node d
                if d == 0:
                    return r == 1
                d -= 1
                continue
            r = -1
        if idx[d] >= ncand[d]:  # every move tried: the defender lost, or the attacker failed
            r = 1 if defender else 0
            if d == 0:
                return r == 1
            d -= 1
            continue
        move = cand[d, idx[d]]
        idx[d] += 1
        boards[d + 1, :] = boards[d]
        status, _, _, _, _ = kernels.play_stone(boards[d + 1], nbr, zob, move,
                                                color if defender else 3 - color, False)
        if status != 0:
            continue
        r = _expand(boards, d + 1, nbr, stone, not defender, work, mark, ctr, cand, ncand, idx)
        if r < 0:
            d += 1


@nb.njit(cache=True)
def ladder_planes(board, nbr, zob, color, legal, capture_out, escape_out, max_depth, max_nodes):
    """Mark the ladder moves for `color` (to move) on flat `board` [n].

    capture_out[p] = 1 where a move at p puts an opponent group in atari (it had two
    liberties) and the ladder that follows captures it; escape_out[p] = 1 where one of our
    groups is in atari and a move at p (extending, or capturing an attacker in atari) leaves it
    alive against the ladder. Only points with legal[p] are marked. Both outputs uint8 [n],
    written with ones only (the caller zeroes them).
    """
    n = board.shape[0]
    boards = np.empty((max_depth + 1, n), np.int8)
    work = np.empty((2, n), np.int32)
    mark = np.zeros((2, n), np.int32)
    cand = np.empty((max_depth + 1, _MAX_OPTIONS), np.int32)
    ncand = np.zeros(max_depth + 1, np.int32)
    idx = np.zeros(max_depth + 1, np.int32)
    ctr = np.zeros(3, np.int64)
    ctr[2] = max_nodes
    label = np.empty(n, np.int32)
    libs = np.empty(n, np.int32)
    gsize = np.empty(n, np.int32)
    ngroups = kernels.label_groups(board, nbr, label, libs, gsize)
    done = np.zeros(ngroups, np.bool_)
    moves = np.empty(_MAX_OPTIONS, np.int32)
    for p in range(n):
        if board[p] == 0 or done[label[p]]:
            continue
        g = label[p]
        done[g] = True
        if board[p] != color and libs[g] == 2:  # an opponent group we can atari
            ctr[0] += 1
            kernels.group_info(board, nbr, p, work[0], mark[0], ctr[0], moves[:2])
            for i in range(2):
                a = moves[i]
                if not legal[a] or capture_out[a]:
                    continue
                boards[0, :] = board
                status, _, _, _, _ = kernels.play_stone(boards[0], nbr, zob, a, color, False)
                ctr[1] = 0
                if status == 0 and _captured(boards, nbr, zob, p, True, work, mark, ctr, cand,
                                             ncand, idx):
                    capture_out[a] = 1
        elif board[p] == color and libs[g] == 1:  # our group in atari
            k = _defender_options(board, nbr, p, work, mark, ctr, moves)
            for i in range(k):
                m = moves[i]
                if not legal[m] or escape_out[m]:
                    continue
                boards[0, :] = board
                status, _, _, _, _ = kernels.play_stone(boards[0], nbr, zob, m, color, False)
                ctr[1] = 0
                if status == 0 and not _captured(boards, nbr, zob, p, False, work, mark, ctr,
                                                 cand, ncand, idx):
                    escape_out[m] = 1



def ladder_moves(position, max_depth: int = MAX_DEPTH,
                 max_nodes: int = MAX_NODES) -> tuple[np.ndarray, np.ndarray]:
    """(capture, escape): bool [size*size] ladder moves for the player to move in `position`
    (an envs.go Position); see ladder_planes."""
    size = position.size
    n = size * size
    capture = np.zeros(n, np.uint8)
    escape = np.zeros(n, np.uint8)
    ladder_planes(position.board, kernels.neighbour_table(size), kernels.zobrist_table(size),
                  position.to_play, position.legal_moves()[:n], capture, escape, max_depth,
                  max_nodes)
    return capture.astype(bool), escape.astype(bool)
