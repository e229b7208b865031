"""Compiled board kernels behind `Position`: captures, legal-move masks, area scoring.

Boards are flat int8 arrays of length size*size (EMPTY 0, BLACK 1, WHITE 2; row 0 at the top).
Adjacency comes from a neighbour table [size*size, 4] padded with -1, so no kernel needs to know
the board's shape. The kernels flood-fill from scratch on each call: a Position is immutable and
copied per move anyway, and on 19x19 a fill costs microseconds. The incremental structures that
playouts need live in `playout.py`.
"""

from __future__ import annotations

from functools import cache

import numba as nb
import numpy as np

_NO_POINTS = np.zeros(0, np.int32)  # group_info's default: keep no liberties
# Zobrist keys are fixed for all time (the same in every process), so hashes can be stored.
_ZOBRIST_SEED = 0x5EED_601


@cache
def neighbour_table(size: int) -> np.ndarray:
    """int32 [size*size, 4]: the orthogonal neighbours of each point, padded with -1."""
    table = np.full((size * size, 4), -1, dtype=np.int32)
    for p in range(size * size):
        row, col = divmod(p, size)
        k = 0
        for dr, dc in ((-1, 0), (0, -1), (0, 1), (1, 0)):
            r, c = row + dr, col + dc
            if 0 <= r < size and 0 <= c < size:
                table[p, k] = r * size + c
                k += 1
    table.flags.writeable = False
    return table


@cache
def diagonal_table(size: int) -> np.ndarray:
    """int32 [size*size, 4]: the diagonal neighbours of each point, padded with -1."""
    table = np.full((size * size, 4), -1, dtype=np.int32)
    for p in range(size * size):
        row, col = divmod(p, size)
        k = 0
        for dr, dc in ((-1, -1), (-1, 1), (1, -1), (1, 1)):
            r, c = row + dr, col + dc
            if 0 <= r < size and 0 <= c < size:
                table[p, k] = r * size + c
                k += 1
    table.flags.writeable = False
    return table


@cache
def neighbour8_table(size: int) -> np.ndarray:
    """int32 [size*size, 8]: the 8 surrounding points, row by row (up-left, up, up-right, left,
    right, down-left, down, down-right), -1 off the board: a 3x3 pattern's cells in order."""
    table = np.full((size * size, 8), -1, dtype=np.int32)
    for p in range(size * size):
        row, col = divmod(p, size)
        k = 0
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if dr == 0 and dc == 0:
                    continue
                if 0 <= row + dr < size and 0 <= col + dc < size:
                    table[p, k] = (row + dr) * size + col + dc
                k += 1
    table.flags.writeable = False
    return table


@cache
def zobrist_table(size: int) -> np.ndarray:
    """uint64 [3, size*size]: one random key per (colour, point); row EMPTY is all zeros."""
    rng = np.random.default_rng([_ZOBRIST_SEED, size])
    table = rng.integers(1, 2**63 - 1, size=(3, size * size), dtype=np.int64).astype(np.uint64)
    table[0] = 0
    table.flags.writeable = False
    return table


@nb.njit(cache=True)
def group_info(board, nbr, start, stack, mark, stamp, libs_out=_NO_POINTS):
    """Flood-fill the group at `start`; its stones land in stack[:size], and its first
    len(libs_out) liberties in libs_out (by default none are kept).

    Points are marked with `stamp` in `mark` (stones and liberties alike), so callers reuse one
    mark array with increasing stamps instead of clearing it. Returns (size, liberties).
    """
    color = board[start]
    stack[0] = start
    mark[start] = stamp
    size = 1
    libs = 0
    i = 0
    while i < size:
        p = stack[i]
        i += 1
        for k in range(4):
            q = nbr[p, k]
            if q < 0:
                break
            if mark[q] == stamp:
                continue
            c = board[q]
            if c == color:
                mark[q] = stamp
                stack[size] = q
                size += 1
            elif c == 0:
                mark[q] = stamp
                if libs < libs_out.shape[0]:
                    libs_out[libs] = q
                libs += 1
    return size, libs


@nb.njit(cache=True)
def play_stone(board, nbr, zob, move, color, suicide_allowed):
    """Place `color` at `move` on `board` (in place), capturing as the rules say.

    Returns (status, captured, removed_own, ko_point, hash_delta):
      status 0 = played, 1 = occupied, 2 = suicide (board unchanged);
      captured = opponent stones removed; removed_own = own stones removed by allowed suicide;
      ko_point = the point that an immediate recapture would retake (simple ko), else -1;
      hash_delta = the Zobrist change to xor into the position's hash.
    """
    n = board.shape[0]
    if board[move] != 0:
        return 1, 0, 0, -1, np.uint64(0)
    opp = 3 - color
    board[move] = color
    delta = zob[color, move]
    stack = np.empty(n, np.int32)
    mark = np.zeros(n, np.int32)
    stamp = 0
    captured = 0
    last_captured = -1
    for k in range(4):
        q = nbr[move, k]
        if q < 0:
            break
        if board[q] == opp:
            stamp += 1
            size, libs = group_info(board, nbr, q, stack, mark, stamp)
            if libs == 0:
                for i in range(size):
                    board[stack[i]] = 0
                    delta ^= zob[opp, stack[i]]
                captured += size
                last_captured = q
    stamp += 1
    size, libs = group_info(board, nbr, move, stack, mark, stamp)
    if libs == 0:  # only possible when nothing was captured
        if not suicide_allowed:
            board[move] = 0
            return 2, 0, 0, -1, np.uint64(0)
        for i in range(size):
            board[stack[i]] = 0
            delta ^= zob[color, stack[i]]
        return 0, 0, size, -1, delta
    ko = -1
    if captured == 1 and size == 1 and libs == 1:
        ko = last_captured
    return 0, captured, 0, ko, delta


@nb.njit(cache=True)
def label_groups(board, nbr, label_out, libs_out, size_out):
    """Number the groups: label_out[p] = group of the stone at p (-1 for empty points), and per
    group its liberties and stones in libs_out[g], size_out[g]. Returns the number of groups."""
    n = board.shape[0]
    return label_groups_with(board, nbr, label_out, libs_out, size_out, np.empty(n, np.int32),
                             np.empty(n, np.int32))


@nb.njit(cache=True)
def label_groups_with(board, nbr, label_out, libs_out, size_out, stack, mark):
    """label_groups with the caller's scratch, `stack` and `mark` (int32 [n]): no allocation."""
    n = board.shape[0]
    mark[:] = 0
    label_out[:] = -1
    ngroups = 0
    for p in range(n):
        if board[p] == 0 or label_out[p] >= 0:
            continue
        size, libs = group_info(board, nbr, p, stack, mark, ngroups + 1)
        for i in range(size):
            label_out[stack[i]] = ngroups
        libs_out[ngroups] = libs
        size_out[ngroups] = size
        ngroups += 1
    return ngroups


@nb.njit(cache=True)
def legal_points(board, nbr, zob, color, ko, suicide_allowed, base_hash, seen_sorted,
                 seen_recent, legal_out, hash_out):
    """Mark in legal_out[p] whether `color` may play at p, and put in hash_out[p] the Zobrist
    hash of the board that the move would leave. Moves that would recreate a board whose hash
    is in seen_sorted (sorted) or seen_recent are illegal (positional superko; pass two empty
    arrays for simple ko)."""
    n = board.shape[0]
    label = np.empty(n, np.int32)
    libs = np.empty(n, np.int32)
    gsize = np.empty(n, np.int32)
    ngroups = label_groups(board, nbr, label, libs, gsize)
    ghash = np.zeros(ngroups, np.uint64)
    for p in range(n):
        if board[p] != 0:
            ghash[label[p]] ^= zob[board[p], p]
    seen = np.empty(4, np.int32)
    for p in range(n):
        legal_out[p] = False
        hash_out[p] = 0
        if board[p] != 0 or p == ko:
            continue
        h = base_hash ^ zob[color, p]
        own = base_hash
        alive = False
        nseen = 0
        for k in range(4):
            q = nbr[p, k]
            if q < 0:
                break
            c = board[q]
            if c == 0:
                alive = True
                continue
            g = label[q]
            dup = False
            for j in range(nseen):
                if seen[j] == g:
                    dup = True
            if dup:
                continue
            seen[nseen] = g
            nseen += 1
            if c == color:
                own ^= ghash[g]
                if libs[g] >= 2:
                    alive = True
            elif libs[g] == 1:
                alive = True
                h ^= ghash[g]
        if not alive:
            if not suicide_allowed:
                continue
            h = own
        hash_out[p] = h
        legal_out[p] = not _seen(h, seen_sorted, seen_recent)


@nb.njit(cache=True)
def _seen(h, seen_sorted, seen_recent):
    for i in range(seen_recent.shape[0]):
        if seen_recent[i] == h:
            return True
    if seen_sorted.shape[0] == 0:
        return False
    i = np.searchsorted(seen_sorted, h)
    return i < seen_sorted.shape[0] and seen_sorted[i] == h


@nb.njit(cache=True)
def area_owner(board, nbr, owner_out):
    """Tromp-Taylor area: owner_out[p] = colour of a stone, or of an empty region that reaches
    only that colour; 0 for empty points that reach both (dame, seki liberties) or neither.
    Returns (black_area, white_area)."""
    n = board.shape[0]
    stack = np.empty(n, np.int32)
    mark = np.zeros(n, np.int32)
    black = 0
    white = 0
    for p in range(n):
        owner_out[p] = board[p]
    for p in range(n):
        if board[p] != 0 or mark[p] != 0:
            continue
        mark[p] = 1
        stack[0] = p
        size = 1
        i = 0
        reach = 0
        while i < size:
            q = stack[i]
            i += 1
            for k in range(4):
                r = nbr[q, k]
                if r < 0:
                    break
                c = board[r]
                if c == 0:
                    if mark[r] == 0:
                        mark[r] = 1
                        stack[size] = r
                        size += 1
                else:
                    reach |= c
        owner = reach if reach == 1 or reach == 2 else 0
        for j in range(size):
            owner_out[stack[j]] = owner
    for p in range(n):
        if owner_out[p] == 1:
            black += 1
        elif owner_out[p] == 2:
            white += 1
    return black, white
