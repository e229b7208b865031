"""MoGo-style playouts and heuristic priors: cheap Go knowledge for the network-free engine.

The playout policy follows MoGo (Gelly et al., 2006): answer the opponent's last move first —
save our groups it put in atari, capture its stones left in atari, or play a 3x3 shape
(hane, cut, edge patterns) next to it — and otherwise play a random move, never filling our own
eye and never putting a group of two or more stones into atari. The same knowledge, softened,
gives the search its move priors. Everything here is compiled; boards are flat (see envs.go).
"""

from __future__ import annotations

import itertools
from functools import cache

import numba as nb
import numpy as np

from envs.go import kernels
from envs.go import playout as P
from envs.go.unmanaged import unmanaged

# 3x3 shapes for a move at the centre, for either colour (the table adds the colour swap).
# X, O: stones; '.': empty; '?': anything; x: not X (empty or O); o: not O; '#': off the board.
SHAPES = (
    ("XOX", "...", "???"),  # hane that encloses
    ("XO.", "...", "?.?"),  # hane, not cutting
    ("XO?", "X..", "x.?"),  # magari (turn)
    (".O.", "X..", "..."),  # diagonal attachment
    ("XO?", "O.o", "?o?"),  # unprotected cut
    ("XO?", "O.X", "???"),  # peeped cut
    ("?X?", "O.O", "ooo"),  # cut through
    ("OX?", "o.O", "???"),  # cut a knight's move
    ("X.?", "O.?", "##?"),  # edge: chase
    ("OX?", "X.O", "###"),  # edge: block the cut
    ("?X?", "x.O", "###"),  # edge: block the connection
    ("?XO", "x.x", "###"),  # edge: descend (sagari)
    ("?OX", "X.O", "###"),  # edge: cut
)
# Neighbourhood cells in code order: (row offset, column offset), 2 bits each in the code.
CELLS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
_STATES = {".": (0,), "X": (1,), "O": (2,), "#": (3,), "?": (0, 1, 2, 3), "x": (0, 2),
           "o": (0, 1)}


@cache
def pattern_table() -> np.ndarray:
    """bool [65536]: which 3x3 neighbourhood codes match one of SHAPES (any symmetry, either
    colour to play)."""
    table = np.zeros(4 ** 8, np.bool_)
    for shape in SHAPES:
        grid = [list(row) for row in shape]
        for swap in (False, True):
            for k in range(8):
                choices = []
                for dr, dc in CELLS:
                    r, c = _transform(dr, dc, k)
                    ch = grid[r + 1][c + 1]
                    if swap:
                        ch = {"X": "O", "O": "X", "x": "o", "o": "x"}.get(ch, ch)
                    choices.append(_STATES[ch])
                for states in itertools.product(*choices):
                    table[sum(s << (2 * i) for i, s in enumerate(states))] = True
    table.flags.writeable = False
    return table


def _transform(dr: int, dc: int, k: int) -> tuple[int, int]:
    """The k-th of the 8 symmetries of the square applied to an offset."""
    for _ in range(k % 4):
        dr, dc = dc, -dr
    return (dr, -dc) if k >= 4 else (dr, dc)


@nb.njit(cache=True, inline="always")
def pattern_code(board, nbr8, p):
    """The 3x3 code of point p (see CELLS): 0 empty, 1 black, 2 white, 3 off the board;
    nbr8 is kernels.neighbour8_table (the cells in CELLS order)."""
    code = 0
    for k in range(8):
        q = nbr8[p, k]
        code |= (3 if q < 0 else board[q]) << (2 * k)
    return code


# ---- the playout policy, on the incremental playout board (envs.go.playout) -------------------

@nb.njit(cache=True, inline="always")
def _local_move(board, nbr, diag, nbr8, head, link, libs, last, color, ko, rng, patterns, cand,
                scratch):
    """MoGo's answers to the last move, or -1: save, capture, then a 3x3 shape."""
    n_cand = 0
    opp = 3 - color
    # 1. our groups next to the last move that are now in atari: capture an attacker or extend
    for k in range(4):
        q = nbr[last, k]
        if q < 0:
            break
        if board[q] != color:
            continue
        if n_cand >= cand.shape[0] - 8 or not P.in_atari(libs, head[q],
                                                       scratch[8:]):
            continue
        cand[n_cand] = scratch[8]
        n_cand += 1
        g = head[q]
        s = g
        while True:  # opponent stones touching our group that are themselves in atari
            for j in range(4):
                r = nbr[s, j]
                if r >= 0 and board[r] == opp and n_cand < cand.shape[0] - 8:
                    if P.in_atari(libs, head[r], scratch[8:]):
                        cand[n_cand] = scratch[8]
                        n_cand += 1
            s = link[s]
            if s == g:
                break
    # 2. the last move's own group, or its neighbours', left in atari: take them
    if board[last] == opp and P.in_atari(libs, head[last], scratch[8:]):
        cand[n_cand] = scratch[8]
        n_cand += 1
    move = _pick(board, nbr, diag, head, libs, color, ko, rng, cand, n_cand, scratch)
    if move >= 0:
        return move
    # 3. 3x3 shapes around the last move
    n_cand = 0
    for k in range(8):
        p = nbr8[last, k]
        if p >= 0 and board[p] == 0 and patterns[pattern_code(board, nbr8, p)]:
            cand[n_cand] = p
            n_cand += 1
    return _pick(board, nbr, diag, head, libs, color, ko, rng, cand, n_cand, scratch)


@nb.njit(cache=True, inline="always")
def _pick(board, nbr, diag, head, libs, color, ko, rng, cand, n_cand, scratch):
    """A random acceptable move among cand[:n_cand], or -1."""
    while n_cand > 0:
        i = P.rand_below(rng, n_cand)
        p = cand[i]
        if P.playable(board, nbr, diag, head, libs, p, color, ko, True, scratch):
            return p
        n_cand -= 1
        cand[i] = cand[n_cand]
    return -1


@nb.njit(cache=True)
def heavy_playout(board, nbr, diag, nbr8, head, link, libs, gsize, empty, where, n_empty,
                  color, ko, last, rng, max_moves, moves_out, patterns):
    """A playout with the MoGo policy from a prepared board (see playout.setup_board).
    Returns the number of moves played; moves_out holds them (-1 = pass)."""
    return _heavy_playout(board, nbr, diag, nbr8, head, link, libs, gsize, empty, where,
                          n_empty, color, ko, last, rng, max_moves, moves_out, patterns,
                          np.empty(64, np.int32), np.empty(16, np.int32))


@nb.njit(cache=True)
def _heavy_playout(board, nbr, diag, nbr8, head, link, libs, gsize, empty, where, n_empty,
                   color, ko, last, rng, max_moves, moves_out, patterns, cand, scratch):
    # views without reference counts: the moves' calls and slices would pay atomic adds
    (board, nbr, diag, nbr8, head, link, libs, gsize, empty, where, rng, moves_out, patterns,
     cand, scratch) = unmanaged((board, nbr, diag, nbr8, head, link, libs, gsize, empty, where,
                                 rng, moves_out, patterns, cand, scratch))
    passes = 0
    played = 0
    while passes < 2 and played < max_moves:
        move = -1
        if last >= 0:
            move = _local_move(board, nbr, diag, nbr8, head, link, libs, last, color, ko, rng,
                               patterns, cand, scratch)
        if move < 0:
            move = P.random_move(board, nbr, diag, head, libs, empty, where, n_empty,
                                 color, ko, rng, True, scratch)
        if move < 0:
            passes += 1
            ko = -1
        else:
            passes = 0
            n_empty, ko = P.play_move(board, nbr, head, link, libs, gsize, empty, where,
                                      n_empty, move, color)
        if played < moves_out.shape[0]:
            moves_out[played] = move
        played += 1
        last = move
        color = 3 - color
    return played


# ---- priors for the tree, on a plain board ----------------------------------------------------

OPENING_SENSE_SIZE = 11  # 9x9 is all fighting; from 11x11 up the opening is about the lines
# weight of a move in an empty area by its line: first, second, third, fourth, fifth and above
OPENING_LINES = np.array([0.0, 0.0, 2.0, 2.0, 1.0])
PRIORS_SCRATCH = 6  # rows of fill_priors' scratch


@nb.njit(cache=True, inline="always")
def _near_stones(board, size, radius, rows, near):
    """near[p] = 1 where a stone lies within `radius` points (rows and columns apart), else 0;
    rows is scratch. Both int32 [n]. Sliding windows: a stone count per window, O(n)."""
    for r in range(size):  # rows[p]: stones in p's row within radius columns
        inside = 0
        for c in range(min(radius, size - 1) + 1):
            inside += board[r * size + c] != 0
        for c in range(size):
            rows[r * size + c] = inside
            if c + radius + 1 < size:
                inside += board[r * size + c + radius + 1] != 0
            if c - radius >= 0:
                inside -= board[r * size + c - radius] != 0
    for c in range(size):  # near[p]: such rows within radius rows
        inside = 0
        for r in range(min(radius, size - 1) + 1):
            inside += rows[r * size + c]
        for r in range(size):
            near[r * size + c] = 1 if inside > 0 else 0
            if r + radius + 1 < size:
                inside += rows[(r + radius + 1) * size + c]
            if r - radius >= 0:
                inside -= rows[(r - radius) * size + c]


@nb.njit(cache=True)
def heuristic_priors(board, nbr, diag, nbr8, color, last, legal, patterns, out):
    """Move weights for `color` into out[:n+1] (pass last): 1 for an ordinary legal move,
    more for captures, escapes from atari, ataris and shapes next to the last move, much less
    for self-ataris, our own eyes and (early on) the first line; 0 for illegal moves. On boards
    of OPENING_SENSE_SIZE and more, a move in an empty area (no stone within two points) is
    weighted by its line (OPENING_LINES), as every strong player opens a big board: the third
    and fourth lines first, the first two never (0: the search gives them no edge, so no
    playout noise can make the engine choose one)."""
    fill_priors(board, nbr, diag, nbr8, color, last, legal, patterns, out,
                np.empty((PRIORS_SCRATCH, board.shape[0]), np.int32))


@nb.njit(cache=True)
def fill_priors(board, nbr, diag, nbr8, color, last, legal, patterns, out, scratch):
    """heuristic_priors with the caller's scratch, int32 [PRIORS_SCRATCH, n]: no allocation,
    and no reference counting (the compiled search calls it at every node it expands)."""
    board, nbr, diag, nbr8, legal, patterns, out, scratch = unmanaged(
        (board, nbr, diag, nbr8, legal, patterns, out, scratch))
    n = board.shape[0]
    size = int(np.sqrt(n) + 0.5)
    label, libs, gsize = scratch[0], scratch[1], scratch[2]
    kernels.label_groups_with(board, nbr, label, libs, gsize, scratch[3], scratch[4])
    sense = size >= OPENING_SENSE_SIZE  # weigh the moves of empty areas by their line
    crowded = scratch[5]
    if sense:
        _near_stones(board, size, 2, scratch[3], crowded)
    stones = 0
    for p in range(n):
        if board[p] != 0:
            stones += 1
    opening = stones < n // 4
    total = 0.0
    count = 0
    lr = last // size if last >= 0 else -9  # the last move's row and column (-9: none)
    lc = last - lr * size if last >= 0 else -9
    for row in range(size):  # rows and columns by loops, not a division at every point
        for col in range(size):
            p = row * size + col
            out[p] = 0.0
            if not legal[p]:
                continue
            w = 1.0
            edge = min(min(row, col), min(size - 1 - row, size - 1 - col))
            own_libs = 0
            friends = 0
            captures = 0
            empties = 0
            for k in range(4):
                q = nbr[p, k]
                if q < 0:
                    break
                c = board[q]
                if c == 0:
                    empties += 1
                    continue
                g = label[q]
                if c == color:
                    friends += gsize[g]
                    if libs[g] == 1 and gsize[g] >= 1:
                        w += 4.0 + gsize[g]  # escape (scored again below if it stays in atari)
                    own_libs = max(own_libs, libs[g] - 1)
                elif libs[g] == 1:
                    captures += gsize[g]
                elif libs[g] == 2:
                    w += 1.0  # atari
            if captures > 0:
                w += 6.0 + 2.0 * captures
            elif empties + own_libs <= 1:
                # self-atari (roughly): terrible for a group, a possible throw-in for one stone
                w *= 0.05 if friends >= 1 else 0.5
            if empties == 0 and friends > 0 and captures == 0 and P.is_eye(board, nbr, diag, p,
                                                                           color):
                w = 0.001
            if abs(lr - row) <= 1 and abs(lc - col) <= 1:
                w += 1.0
                if patterns[pattern_code(board, nbr8, p)]:
                    w += 2.0
            if opening and edge == 0:
                w *= 0.3
            if sense and not crowded[p]:
                w *= OPENING_LINES[min(edge, OPENING_LINES.size - 1)]
            out[p] = w
            total += w
            count += 1
    out[n] = 0.1 * total / max(1, count) if count > 0 else 1.0  # pass: a tenth of the average
