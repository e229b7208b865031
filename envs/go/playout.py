"""Compiled random playouts: the inner loop of Monte-Carlo tree search.

A playout plays uniformly random legal moves, except that no player fills its own single-point
eye, until both players pass; the final board is then scored by Tromp-Taylor area. The board
here is kept incrementally, in flat arrays that numba compiles well:

    board  int8  [n]   EMPTY / BLACK / WHITE
    head   int32 [n]   the representative stone of the group a stone belongs to
    link   int32 [n]   the next stone of the same group (a circular list, for merging and removal)
    libs   int32 [n, 3] the pseudo-liberties of the group at its head, the (stone, empty
                       neighbour) pairs: their count, the sum of their empty points and the sum
                       of the points' squares. A group is captured exactly when the count
                       reaches 0, and it is in atari exactly when all its pairs name one point:
                       count * squares == sum**2 (that point is sum / count). So every atari
                       test of a playout takes three numbers, never a walk of the group.
    gsize  int32 [n]   stones in the group at its head
    empty  int32 [n]   the empty points (first n_empty entries), with where[p] its index there

Ko in playouts is simple ko (superko cycles are cut by a move cap); suicide is never played.
Randomness is an explicit xorshift64* state (a uint64 array of one element) derived from a seed
passed in, so every playout is reproducible and no global RNG is touched.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from . import kernels
from .position import Position
from .unmanaged import unmanaged

# Playouts that run longer than this many moves per point are stopped and scored as they stand
# (random play can cycle through superko repetitions that simple ko does not forbid).
MAX_MOVES_PER_POINT = 3


def make_rng(seed: int) -> np.ndarray:
    """A playout RNG state from any integer seed (never zero)."""
    mixed = np.random.default_rng(seed).integers(1, 2**63 - 1, dtype=np.int64)
    return np.array([mixed], dtype=np.uint64)


@nb.njit(cache=True, inline="always")
def rand_below(rng, k):
    """Uniform integer in [0, k) from a xorshift64* generator (k < 2**32)."""
    x = rng[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rng[0] = x
    r = (x * np.uint64(2685821657736338717)) >> np.uint64(32)
    return np.int64((r * np.uint64(k)) >> np.uint64(32))


@nb.njit(cache=True)
def setup_board(board0, nbr, board, head, link, libs, gsize, empty, where):
    """Fill the incremental arrays from a plain board. Returns the number of empty points."""
    n = board0.shape[0]
    n_empty = 0
    for p in range(n):
        board[p] = board0[p]
        head[p] = -1
        if board0[p] == 0:
            empty[n_empty] = p
            where[p] = n_empty
            n_empty += 1
    for p in range(n):
        if board[p] == 0 or head[p] >= 0:
            continue
        # breadth-first over the group, chaining stones into a circular list as we go
        head[p] = p
        link[p] = p
        count = 1
        pseudo = 0
        total = 0
        squares = 0
        tail = p
        q = p
        while True:
            for k in range(4):
                r = nbr[q, k]
                if r < 0:
                    break
                if board[r] == 0:
                    pseudo += 1
                    total += r
                    squares += r * r
                elif board[r] == board[p] and head[r] < 0:
                    head[r] = p
                    link[r] = link[tail]
                    link[tail] = r
                    tail = r
                    count += 1
            q = link[q]
            if q == p:
                break
        libs[p, 0] = pseudo
        libs[p, 1] = total
        libs[p, 2] = squares
        gsize[p] = count
    return n_empty


@nb.njit(cache=True, inline="always")
def is_eye(board, nbr, diag, p, color):
    """Whether empty p is a single-point eye of `color`: all neighbours are its stones, and the
    opponent holds fewer than two diagonals (fewer than one on the edge)."""
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if board[q] != color:
            return False
    bad = 0
    on_board = 0
    for k in range(4):
        q = diag[p, k]
        if q < 0:
            break
        on_board += 1
        if board[q] == 3 - color:
            bad += 1
    if on_board < 4:
        bad += 1
    return bad < 2


@nb.njit(cache=True, inline="always")
def is_legal_move(board, nbr, head, libs, p, color, ko):
    """Whether `color` may play at empty p: not the ko point, and not suicide."""
    if p == ko:
        return False
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if board[q] == 0:
            return True
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        g = head[q]
        touching = 0  # stones of g next to p: the pseudo-liberties that p itself accounts for
        for j in range(4):
            r = nbr[p, j]
            if r < 0:
                break
            if board[r] != 0 and head[r] == g:
                touching += 1
        if board[q] == color:
            if libs[g, 0] > touching:
                return True
        elif libs[g, 0] == touching:
            return True  # captures
    return False


@nb.njit(cache=True)
def remove_empty(empty, where, n_empty, p):
    i = where[p]
    last = empty[n_empty - 1]
    empty[i] = last
    where[last] = i
    return n_empty - 1


@nb.njit(cache=True, inline="always")
def _add_pair(libs, g, p, sign):
    """Add (sign 1) or remove (-1) one pseudo-liberty pair of group g at empty point p."""
    libs[g, 0] += sign
    libs[g, 1] += sign * p
    libs[g, 2] += sign * p * p


@nb.njit(cache=True, inline="always")
def play_move(board, nbr, head, link, libs, gsize, empty, where, n_empty, p, color):
    """Play a legal move. Returns (n_empty, ko point or -1)."""
    n_empty = remove_empty(empty, where, n_empty, p)
    board[p] = color
    head[p] = p
    link[p] = p
    gsize[p] = 1
    libs[p, 0] = 0
    libs[p, 1] = 0
    libs[p, 2] = 0
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if board[q] == 0:
            _add_pair(libs, p, q, 1)
        else:
            _add_pair(libs, head[q], p, -1)
    # merge friendly groups into p's group (relabel the smaller one)
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if board[q] != color or head[q] == head[p]:
            continue
        a = head[p]
        b = head[q]
        if gsize[a] < gsize[b]:
            a, b = b, a
        s = b
        while True:
            head[s] = a
            s = link[s]
            if s == b:
                break
        link[a], link[b] = link[b], link[a]
        gsize[a] += gsize[b]
        libs[a, 0] += libs[b, 0]
        libs[a, 1] += libs[b, 1]
        libs[a, 2] += libs[b, 2]
    # capture opponent groups left without liberties
    captured = 0
    last_captured = -1
    opp = 3 - color
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if board[q] != opp or libs[head[q], 0] != 0:
            continue
        g = head[q]
        captured += gsize[g]
        last_captured = q
        s = g
        while True:
            board[s] = 0
            empty[n_empty] = s
            where[s] = n_empty
            n_empty += 1
            s = link[s]
            if s == g:
                break
        s = g
        while True:
            for j in range(4):
                r = nbr[s, j]
                if r < 0:
                    break
                if board[r] != 0:
                    _add_pair(libs, head[r], s, 1)
            nxt = link[s]
            head[s] = -1
            s = nxt
            if s == g:
                break
    ko = -1
    h = head[p]
    if captured == 1 and gsize[h] == 1 and libs[h, 0] == 1:
        ko = last_captured
    return n_empty, ko


@nb.njit(cache=True)
def group_liberties(board, nbr, link, g, limit, out):
    """Distinct liberties of the group whose stone is g, up to `limit`, into out[:count]."""
    count = 0
    s = g
    while True:
        for k in range(4):
            q = nbr[s, k]
            if q < 0:
                break
            if board[q] == 0:
                seen = False
                for j in range(count):
                    if out[j] == q:
                        seen = True
                        break
                if not seen:
                    out[count] = q
                    count += 1
                    if count >= limit:
                        return count
        s = link[s]
        if s == g:
            return count


@nb.njit(cache=True, inline="always")
def lone_liberty(count, total, squares):
    """The one point that `count` pseudo-liberty pairs summing to `total` (and `squares`) all
    name, -1 when they name none or two or more: pairs name one point exactly when their
    points' variance is 0, count * squares == total**2."""
    if count <= 0 or np.int64(count) * squares != np.int64(total) * total:
        return -1
    return total // count


@nb.njit(cache=True, inline="always")
def in_atari(libs, g, scratch):
    """Whether group g has exactly one liberty (left in scratch[0])."""
    lib = lone_liberty(libs[g, 0], libs[g, 1], np.int64(libs[g, 2]))
    scratch[0] = lib
    return lib >= 0


@nb.njit(cache=True, inline="always")
def liberties_after(board, nbr, head, libs, p, color, scratch):
    """Liberties (0, 1, or 2 meaning two or more) of the group `color` would form at empty p;
    a move that captures counts as 2. Uses scratch[:8]."""
    # p's empty neighbours are distinct liberties: two settle it before any group is looked at
    count = 0
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if board[q] == 0:
            scratch[count] = q
            count += 1
    if count >= 2:
        return 2
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        c = board[q]
        if c != 0 and c != color and in_atari(libs, head[q], scratch[4:]):
            return 2  # captures
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if board[q] != color:
            continue
        g = head[q]
        # the group's pairs less those at p (one per stone of g next to p): its liberties
        # besides p, which the new group keeps
        touching = 0
        for j in range(4):
            r = nbr[p, j]
            if r < 0:
                break
            if board[r] == color and head[r] == g:
                touching += 1
        rest = libs[g, 0] - touching
        if rest <= 0:
            continue
        lib = lone_liberty(rest, libs[g, 1] - touching * p,
                           np.int64(libs[g, 2]) - touching * np.int64(p) * p)
        if lib < 0:
            return 2  # two or more liberties besides p
        seen = False
        for j in range(count):
            if scratch[j] == lib:
                seen = True
        if not seen:
            scratch[count] = lib
            count += 1
            if count >= 2:
                return 2
    return count


@nb.njit(cache=True, inline="always")
def playable(board, nbr, diag, head, libs, p, color, ko, avoid_self_atari, scratch):
    """Whether a playout may play p: legal, not the mover's own eye and, with
    avoid_self_atari, not a self-atari of a group of two or more stones (a lone stone may
    still throw in)."""
    if board[p] != 0 or is_eye(board, nbr, diag, p, color):
        return False
    if not is_legal_move(board, nbr, head, libs, p, color, ko):
        return False
    if not avoid_self_atari or liberties_after(board, nbr, head, libs, p, color,
                                               scratch) >= 2:
        return True
    for k in range(4):
        q = nbr[p, k]
        if q < 0:
            break
        if board[q] == color:
            return False
    return True


@nb.njit(cache=True, inline="always")
def random_move(board, nbr, diag, head, libs, empty, where, n_empty, color, ko, rng,
                avoid_self_atari, scratch):
    """A uniformly random playable point (see playable), or -1 when there is none.

    Candidates are drawn without replacement by shrinking a window over the empty list, so
    each refused point costs one swap and the list stays a permutation of the empty points."""
    window = n_empty
    while window > 0:
        i = rand_below(rng, window)
        p = empty[i]
        if playable(board, nbr, diag, head, libs, p, color, ko, avoid_self_atari,
                    scratch):
            return p
        window -= 1
        empty[i] = empty[window]
        empty[window] = p
        where[empty[i]] = i
        where[p] = window
    return -1


@nb.njit(cache=True)
def random_playout(board, nbr, diag, head, link, libs, gsize, empty, where, n_empty, color, ko,
                   rng, max_moves, moves_out):
    """Play random moves from the prepared arrays until two passes. Moves land in moves_out
    (points, or -1 for a pass). Returns the number of moves played."""
    # views without reference counts (unmanaged.py): play_move's call would pay atomic adds
    board, nbr, diag, head, link, libs, gsize, empty, where, rng, moves_out = unmanaged(
        (board, nbr, diag, head, link, libs, gsize, empty, where, rng, moves_out))
    passes = 0
    played = 0
    while passes < 2 and played < max_moves:
        # random_move() without the self-atari test, written out: this loop is the engine's
        # hottest, and the plain version runs about 1.4x faster
        window = n_empty
        move = -1
        while window > 0:
            i = rand_below(rng, window)
            p = empty[i]
            if not is_eye(board, nbr, diag, p, color) and is_legal_move(board, nbr, head, libs,
                                                                      p, color, ko):
                move = p
                break
            window -= 1
            empty[i] = empty[window]
            empty[window] = p
            where[empty[i]] = i
            where[p] = window
        if move < 0:
            passes += 1
            ko = -1
        else:
            passes = 0
            n_empty, ko = play_move(board, nbr, head, link, libs, gsize, empty, where, n_empty,
                                    move, color)
        if played < moves_out.shape[0]:
            moves_out[played] = move
        played += 1
        color = 3 - color
    return played


@nb.njit(cache=True)
def work_arrays(n):
    """Scratch for one playout on n points: board, head, link, libs, gsize, empty, where,
    owner, ownership_sum (see the module docstring)."""
    return (np.empty(n, np.int8), np.empty(n, np.int32), np.empty(n, np.int32),
            np.empty((n, 3), np.int32), np.empty(n, np.int32), np.empty(n, np.int32),
            np.empty(n, np.int32), np.empty(n, np.int8), np.zeros(n, np.float64))


@nb.njit(cache=True)
def area_score(board, nbr, komi, owner, ownership_sum):
    """Area margin of a final board; adds +1 (Black) / -1 (White) per owned point to the sum.

    A finished playout leaves almost only single-point eyes, so a point-by-point pass scores
    it; only a larger empty region (seki, dame) needs the general flood fill."""
    black = 0
    white = 0
    for p in range(board.shape[0]):
        c = board[p]
        if c == 0:
            reach = 0
            for k in range(4):
                q = nbr[p, k]
                if q < 0:
                    break
                reach |= 4 if board[q] == 0 else board[q]
            if reach != 1 and reach != 2:  # an empty neighbour or both colours: flood fill
                black, white = kernels.area_owner(board, nbr, owner)
                break
            c = reach
        owner[p] = c
        if c == 1:
            black += 1
        else:
            white += 1
    for p in range(board.shape[0]):
        if owner[p] == 1:
            ownership_sum[p] += 1.0
        elif owner[p] == 2:
            ownership_sum[p] -= 1.0
    return black - white - komi


@nb.njit(cache=True)
def run_playouts(board0, to_play, ko, nbr, diag, komi, count, rng, scores_out, ownership_sum):
    """Run `count` playouts from one position; scores_out[i] = Black's area margin minus komi,
    and ownership_sum[p] gains +1/-1 per playout that ends with p Black's/White's.
    Returns the total number of moves played."""
    n = board0.shape[0]
    board, head, link, libs, gsize, empty, where, owner, _ = work_arrays(n)
    max_moves = 3 * n + 10
    moves = np.empty(max_moves, np.int32)
    total = 0
    for i in range(count):
        n_empty = setup_board(board0, nbr, board, head, link, libs, gsize, empty, where)
        total += random_playout(board, nbr, diag, head, link, libs, gsize, empty, where, n_empty,
                          to_play, ko, rng, max_moves, moves)
        scores_out[i] = area_score(board, nbr, komi, owner, ownership_sum)
    return total


def playout_scores(position: Position, count: int, rng: np.ndarray) -> np.ndarray:
    """float64 [count]: final area margins (Black minus White minus komi) of `count` random
    playouts from `position`, drawing from the playout RNG state `rng` (see make_rng)."""
    return _run(position, count, rng)[0]


def ownership(position: Position, count: int, rng: np.ndarray) -> np.ndarray:
    """float64 [size*size] in [-1, 1]: how often each point ends up Black's (+1) or White's
    (-1) over `count` random playouts. Stones that are mostly the opponent's are dead
    (board.dead_stones)."""
    return _run(position, count, rng)[1] / count


def _run(position: Position, count: int, rng: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size = position.rules.size
    scores = np.empty(count, np.float64)
    owned = np.zeros(size * size, np.float64)
    run_playouts(position.board, position.to_play, position.ko, kernels.neighbour_table(size),
                 kernels.diagonal_table(size), position.rules.komi, count, rng, scores, owned)
    return scores, owned


def playout_final_board(position: Position, rng: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One playout: (final board int8 [n], moves played int32 [k], -1 for a pass)."""
    size = position.rules.size
    n = size * size
    nbr, diag = kernels.neighbour_table(size), kernels.diagonal_table(size)
    board, head, link, libs, gsize, empty, where, _, _ = work_arrays(n)
    n_empty = setup_board(position.board, nbr, board, head, link, libs, gsize, empty, where)
    moves = np.empty(MAX_MOVES_PER_POINT * n + 10, np.int32)
    played = random_playout(board, nbr, diag, head, link, libs, gsize, empty, where, n_empty,
                      position.to_play, position.ko, rng, moves.shape[0], moves)
    return board, moves[:played]
