"""AlphaGo's fast rollout policy: a linear softmax over small local pattern features.

Silver et al. (2016) played rollouts with p(a|s) proportional to exp(w . x(s, a)), x a few
binary pattern features, and reached 24.2% accuracy on expert moves at 2 µs per move. Here the
features of a move at empty point p for the player to move are (all compiled, read straight
off the incremental playout board of envs.go.playout):

    pattern    the 3x3 neighbourhood of p: each of the 8 cells empty / own / opponent / off the
               board (2 bits, mogo.CELLS order), plus for the 4 orthogonal cells whether that
               stone's group is in atari (4 bits): a 20-bit code, tied over the 8 symmetries
    response   p lies in the 12-point diamond around the opponent's last move: one weight per
               ring (orthogonal, diagonal, two away in line) and one per (ring, 3x3 colours)
    save       p is the last liberty of our group and playing it leaves two or more
    self-atari playing p leaves our new group with one liberty (split: a lone stone, which may
               be a throw-in, or a bigger group)
    pass       a weight for passing (used by training and accuracy, never in playouts)

Candidates are the points a playout may play: legal and not the mover's own single-point eye.
Weights live in a RolloutPolicy as gamma tables (gamma = exp(weight)), expanded over the
symmetries at load time so the playout multiplies a handful of table entries per point with
no canonicalisation. A move is drawn with probability gamma(p) / sum of gammas.

Files (.npz): canonical keys and weights of the non-zero entries only, so they stay small.
"""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path

import numba as nb
import numpy as np

from agents.alphago.playouts.mogo import CELLS
from envs.atomic import atomic_file
from envs.checks import archive_problem
from envs.errors import UserError
from envs.go import Position, Rules, kernels
from envs.go import playout as P

FORMAT = "rlgo-rollout-policy-1"
PATTERN_CODES = 1 << 20        # 8 cells x 2 bits + 4 atari bits
COLOUR_CODES = 1 << 16         # the 8 cells' colours only (response patterns)
RINGS = 3                      # response rings: orthogonal, diagonal, two away in line
ORTHOGONAL = (1, 3, 4, 6)      # indices in CELLS of the 4 orthogonal neighbours
SAVE, SELF_ATARI_ONE, SELF_ATARI_GROUP = 1, 2, 4   # flag bits
WEIGHTS_DIR = Path(__file__).parents[1] / "weights"  # the trained weights shipped in the package


class RolloutWeightsError(UserError, ValueError):
    """A rollout weight file that cannot be used; the message is for the user (one line)."""


# ---- codes and their symmetries ---------------------------------------------------------------

def _cell_permutations() -> np.ndarray:
    """int [8 symmetries, 8 cells]: where each cell of CELLS goes under each symmetry."""
    index = {offset: i for i, offset in enumerate(CELLS)}
    perms = np.empty((8, 8), np.int64)
    for k in range(8):
        for i, (dr, dc) in enumerate(CELLS):
            for _ in range(k % 4):
                dr, dc = dc, -dr
            perms[k, i] = index[(dr, -dc) if k >= 4 else (dr, dc)]
    return perms


@cache
def canonical_codes() -> np.ndarray:
    """int32 [2**20]: the smallest code among the 8 symmetric images of each pattern code, so
    one weight serves all images. A colour-only code (atari bits 0) maps to a colour-only code."""
    codes = np.arange(PATTERN_CODES, dtype=np.int64)
    best = codes.copy()
    for perm in _cell_permutations():
        image = np.zeros_like(codes)
        for i in range(8):
            image |= ((codes >> (2 * i)) & 3) << (2 * perm[i])
        for bit, cell in enumerate(ORTHOGONAL):
            image |= ((codes >> (16 + bit)) & 1) << (16 + ORTHOGONAL.index(perm[cell]))
        np.minimum(best, image, out=best)
    best = best.astype(np.int32)
    best.flags.writeable = False
    return best



# ---- features on the playout board -----------------------------------------------------------

@nb.njit(cache=True, nogil=True)
def scan_features(board, nbr, diag, nbr8, head, link, libs, empty, n_empty, color, ko, last,
                  stamp, cached, now, scratch, codes, rings, flags):
    """Features of `color` playing each empty point empty[i], for i < n_empty: codes[i] the
    pattern code (-1: not a candidate, i.e. illegal or our own eye), rings[i] the response ring
    (0 none, 1 orthogonal, 2 diagonal, 3 two away in line from `last`), flags[i] the flag bits.

    Group liberty counts (capped at 3) are computed once per call for each group met
    (stamp[g] == now marks cached[g] as fresh; `now` must change whenever the board does).
    Liberties after the move are estimated from them: a liberty shared by two of our groups
    counts twice, so a few self-ataris that join groups go unmarked; training and playouts use
    this same function, so they agree. Everything is written out in one loop: numba's calls
    to helpers taking many arrays cost more than the work itself here."""
    n = board.shape[0]
    size = int(np.sqrt(n) + 0.5)
    for i in range(n_empty):
        p = empty[i]
        codes[i] = -1
        if p == ko:
            continue
        code = 0
        own_atari = False
        captures = False
        alone = True
        safe = False       # our group would keep a liberty besides p
        after = 0          # estimated liberties of our group after the move
        opp_diagonal = 0   # for the eye test: opponent stones on the diagonals
        edge = False
        for k in range(8):
            q = nbr8[p, k]
            if q < 0:
                s = 3
                edge = True
            else:
                s = board[q]
                if s != 0:
                    s = 1 if s == color else 2
            code |= s << (2 * k)
            if not (k == 1 or k == 3 or k == 4 or k == 6):
                if s == 2:
                    opp_diagonal += 1
                continue
            if s == 3:
                continue
            if s == 0:  # orthogonal neighbours from here on
                after += 1
                continue
            g = head[q]
            if stamp[g] != now:
                stamp[g] = now
                if libs[g, 0] > 8:  # a liberty touches a group at most 4 times
                    cached[g] = 3
                elif libs[g, 0] == 1:
                    cached[g] = 1
                else:
                    cached[g] = P.group_liberties(board, nbr, link, g, 3, scratch)
            count = cached[g]
            if count == 1:  # atari bits 16..19 for cells 1, 3, 4, 6
                code |= 1 << (16 if k == 1 else (17 if k == 3 else (18 if k == 4 else 19)))
                if s == 1:
                    own_atari = True
                else:
                    captures = True
            if s == 1:
                alone = False
                safe = safe or count >= 2
                after += count - 1
        orth = (code >> 2) & 3, (code >> 6) & 3, (code >> 8) & 3, (code >> 12) & 3
        if after == 0 and not safe and not captures:
            continue  # suicide (no empty neighbour, nothing captured, no liberty kept)
        if (orth[0] & 1) and (orth[1] & 1) and (orth[2] & 1) and (orth[3] & 1) \
                and opp_diagonal + edge < 2:
            continue  # our own single-point eye: every orthogonal cell ours or off the board
        ring = 0
        if last >= 0:
            dr = abs(p // size - last // size)
            dc = abs(p % size - last % size)
            if dr + dc == 1:
                ring = 1
            elif dr == 1 and dc == 1:
                ring = 2
            elif dr + dc == 2:
                ring = 3
        f = 0
        if captures:
            after = 2
        if own_atari and after >= 2:
            f |= SAVE
        if after == 1:
            f |= SELF_ATARI_ONE if alone else SELF_ATARI_GROUP
        codes[i] = code
        rings[i] = ring
        flags[i] = f


@nb.njit(cache=True, nogil=True)
def linear_playout(board, nbr, diag, nbr8, head, link, libs, gsize, empty, where, n_empty, color,
                   ko, last, rng, max_moves, moves_out, pattern_gamma, response_gamma,
                   flag_gamma):
    """A playout with the linear softmax policy from a prepared board (playout.setup_board).
    Returns the number of moves played; moves_out holds them (-1 = pass)."""
    n = board.shape[0]
    stamp = np.zeros(n, np.int32)
    cached = np.zeros(n, np.int8)
    scratch = np.empty(16, np.int32)
    codes = np.empty(n, np.int32)
    rings = np.empty(n, np.int8)
    flags = np.empty(n, np.int8)
    gamma = np.empty(n, np.float32)
    passes = 0
    played = 0
    while passes < 2 and played < max_moves:
        scan_features(board, nbr, diag, nbr8, head, link, libs, empty, n_empty, color, ko, last,
                      stamp, cached, played + 1, scratch, codes, rings, flags)
        total = np.float32(0.0)
        for i in range(n_empty):
            g = np.float32(0.0)
            code = codes[i]
            if code >= 0:
                g = pattern_gamma[code] * flag_gamma[flags[i]]
                if rings[i] > 0:
                    g *= response_gamma[rings[i] - 1, code & 0xFFFF]
            gamma[i] = g
            total += g
        move = -1
        if total > 0.0:
            threshold = total * (P.rand_below(rng, 1 << 30) + 0.5) / (1 << 30)
            i = 0
            acc = gamma[0]
            while acc < threshold and i < n_empty - 1:
                i += 1
                acc += gamma[i]
            while gamma[i] == 0.0:  # rounding at the end of the list: the last candidate
                i -= 1
            move = empty[i]
        if move < 0:
            passes += 1
            ko = -1
        else:
            passes = 0
            n_empty, ko = P.play_move(board, nbr, head, link, libs, gsize, empty, where, n_empty,
                                      move, color)
        if played < moves_out.shape[0]:
            moves_out[played] = move
        played += 1
        last = move
        color = 3 - color
    return played


@nb.njit(cache=True)
def extract_features(boards, to_play, ko, last_move, nbr, diag, nbr8, canon, index_out,
                     codes_out, colours_out, rings_out, flags_out, moves_out):
    """Candidates of dataset positions, for training. Position b's candidates are
    index_out[b] .. index_out[b+1]-1 (index_out [B+1]), in point order and then the pass
    candidate; each has canonical codes of its pattern and of the pattern's colours alone
    (-1 for pass), a response ring, flag bits and its point (moves_out; -1 for pass). The
    outputs must hold B * (n + 1) entries."""
    n = boards.shape[1]
    board, head, link, libs, gsize, empty, where, _, _ = P.work_arrays(n)
    stamp = np.zeros(n, np.int32)
    cached = np.zeros(n, np.int8)
    scratch = np.empty(16, np.int32)
    codes = np.empty(n, np.int32)
    rings = np.empty(n, np.int8)
    flags = np.empty(n, np.int8)
    m = 0
    for b in range(boards.shape[0]):
        index_out[b] = m
        n_empty = P.setup_board(boards[b], nbr, board, head, link, libs, gsize, empty, where)
        scan_features(board, nbr, diag, nbr8, head, link, libs, empty, n_empty, to_play[b], ko[b],
                      last_move[b], stamp, cached, b + 1, scratch, codes, rings, flags)
        for i in range(n_empty):  # setup_board lists the empty points in increasing order
            if codes[i] >= 0:
                codes_out[m] = canon[codes[i]]
                colours_out[m] = canon[codes[i] & 0xFFFF]
                rings_out[m] = rings[i]
                flags_out[m] = flags[i]
                moves_out[m] = empty[i]
                m += 1
        codes_out[m] = -1
        colours_out[m] = -1
        rings_out[m] = 0
        flags_out[m] = 0
        moves_out[m] = -1
        m += 1
    index_out[boards.shape[0]] = m
    return m


# ---- the policy object -----------------------------------------------------------------------

class RolloutPolicy:
    """The trained weights, as gamma tables ready for the compiled playout.

    pattern_gamma  float32 [2**20]  exp(weight) per 3x3 code (all symmetric images filled)
    response_gamma float32 [3, 2**16] exp(ring weight + ring-pattern weight) per ring, colours
    flag_gamma     float32 [8]      exp(sum of the flag weights) per combination of flag bits
    pass_weight    float            the pass logit (accuracy and training only)
    """

    def __init__(self, pattern: dict[int, float], response: dict[int, float],
                 rings: np.ndarray, flags: np.ndarray, pass_weight: float,
                 meta: dict | None = None):
        self.pattern, self.response = pattern, response
        self.rings = np.asarray(rings, np.float64).reshape(RINGS)
        self.flags = np.asarray(flags, np.float64).reshape(3)
        self.pass_weight = float(pass_weight)
        self.meta = dict(meta or {})
        canon = canonical_codes()
        w = np.zeros(PATTERN_CODES, np.float64)
        if pattern:
            keys = np.fromiter(pattern, np.int64)
            w[keys] = np.fromiter(pattern.values(), np.float64)
        self.pattern_gamma = np.exp(w[canon]).astype(np.float32)
        colour = canon[:COLOUR_CODES]
        r = np.zeros((RINGS, COLOUR_CODES), np.float64)
        for key, value in response.items():
            r[key // COLOUR_CODES, key % COLOUR_CODES] = value
        self.response_gamma = np.exp(r[:, colour] + self.rings[:, None]).astype(np.float32)
        bits = np.arange(8)
        on = (bits[:, None] >> np.arange(3)) & 1
        self.flag_gamma = np.exp(on @ self.flags).astype(np.float32)

    @classmethod
    def zeros(cls) -> RolloutPolicy:
        """All weights zero: uniform over the candidates (a baseline, and for tests)."""
        return cls({}, {}, np.zeros(RINGS), np.zeros(3), 0.0)

    def save(self, path: str | Path) -> Path:
        """Write the non-zero weights atomically to an .npz file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pk = np.array(sorted(self.pattern), np.int32)
        rk = np.array(sorted(self.response), np.int32)
        arrays = dict(format=np.array(FORMAT), pattern_keys=pk,
                      pattern_values=np.array([self.pattern[k] for k in pk], np.float32),
                      response_keys=rk,
                      response_values=np.array([self.response[k] for k in rk], np.float32),
                      rings=self.rings.astype(np.float32), flags=self.flags.astype(np.float32),
                      pass_weight=np.float32(self.pass_weight),
                      meta=np.array(json.dumps(self.meta)))
        with atomic_file(path) as f:
            np.savez_compressed(f, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> RolloutPolicy:
        """The policy saved at `path`; RolloutWeightsError (one line) if it is not one."""
        path = Path(path)
        if not path.is_file():
            raise RolloutWeightsError(f"{path}: no such rollout weight file")
        if problem := archive_problem(path):  # checks every member's CRC, as torch.load won't
            raise RolloutWeightsError(f"{path}: not a readable rollout weight file: {problem}")
        try:
            with np.load(path, allow_pickle=False) as f:
                if "format" not in f or str(f["format"]) != FORMAT:
                    raise RolloutWeightsError(f"{path}: not an rlgo rollout policy file "
                                              f"(expected format {FORMAT})")
                pk, pv = f["pattern_keys"], f["pattern_values"]
                rk, rv = f["response_keys"], f["response_values"]
                rings, flags = f["rings"], f["flags"]
                pass_weight, meta = float(f["pass_weight"]), json.loads(str(f["meta"]))
        except RolloutWeightsError:
            raise
        except Exception as err:  # zip, npz and key errors all mean "not a weight file"
            raise RolloutWeightsError(f"{path}: not a readable rollout weight file "
                                      f"({type(err).__name__}: {str(err)[:120]!r})") from None
        if (pk.shape != pv.shape or rk.shape != rv.shape or rings.size != RINGS
                or flags.size != 3 or (pk.size and not 0 <= pk.min() <= pk.max() < PATTERN_CODES)
                or (rk.size and not 0 <= rk.min() <= rk.max() < RINGS * COLOUR_CODES)):
            raise RolloutWeightsError(f"{path}: rollout weights have the wrong shape")
        return cls(dict(zip(pk.tolist(), pv.tolist(), strict=True)),
                   dict(zip(rk.tolist(), rv.tolist(), strict=True)), rings, flags, pass_weight,
                   meta)

    # ---- Python helpers (tests, accuracy) -----------------------------------------------------

    def probabilities(self, position: Position) -> np.ndarray:
        """float64 [n+1]: the policy's move distribution in `position`, pass included (pass
        gets exp(pass_weight)); what a playout draws from, except that playouts never pass
        while they have a candidate."""
        n = position.board.size
        cand = candidates(position)
        out = np.zeros(n + 1)
        for p, code, ring, flags in cand:
            g = self.pattern_gamma[code] * self.flag_gamma[flags]
            if ring:
                g *= self.response_gamma[ring - 1, code & 0xFFFF]
            out[p] = g
        out[n] = np.exp(self.pass_weight)
        return out / out.sum()


def candidates(position: Position) -> list[tuple[int, int, int, int]]:
    """(point, raw pattern code, response ring, flags) for each candidate move of `position`,
    in point order."""
    size = position.rules.size
    n = size * size
    nbr, diag = kernels.neighbour_table(size), kernels.diagonal_table(size)
    board, head, link, libs, gsize, empty, where, _, _ = P.work_arrays(n)
    n_empty = P.setup_board(position.board, nbr, board, head, link, libs, gsize, empty, where)
    last = position.last_move
    last = last if last is not None and 0 <= last < n else -1
    codes, rings, flags = np.empty(n, np.int32), np.empty(n, np.int8), np.empty(n, np.int8)
    scan_features(board, nbr, diag, kernels.neighbour8_table(size), head, link, libs, empty,
                  n_empty, position.to_play, position.ko, last, np.zeros(n, np.int32),
                  np.zeros(n, np.int8), 1, np.empty(16, np.int32), codes, rings, flags)
    return [(int(empty[i]), int(codes[i]), int(rings[i]), int(flags[i]))
            for i in range(n_empty) if codes[i] >= 0]


def playout(policy: RolloutPolicy, position: Position, rng: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """One playout with `policy` from `position`: (final board int8 [n], moves int32 [k],
    -1 for a pass), drawing from the playout RNG state `rng` (playout.make_rng)."""
    size = position.rules.size
    n = size * size
    nbr, diag = kernels.neighbour_table(size), kernels.diagonal_table(size)
    board, head, link, libs, gsize, empty, where, _, _ = P.work_arrays(n)
    n_empty = P.setup_board(position.board, nbr, board, head, link, libs, gsize, empty, where)
    moves = np.empty(P.MAX_MOVES_PER_POINT * n + 10, np.int32)
    last = position.last_move
    last = last if last is not None and 0 <= last < n else -1
    played = linear_playout(board, nbr, diag, kernels.neighbour8_table(size), head, link, libs,
                            gsize, empty, where, n_empty, position.to_play, position.ko, last, rng,
                            moves.shape[0], moves, policy.pattern_gamma, policy.response_gamma,
                            policy.flag_gamma)
    return board, moves[:played]


def selection_speed(policy: RolloutPolicy, size: int = 9, playouts: int = 300,
                    seed: int = 0) -> float:
    """CPU microseconds per move of linear playouts from the empty board (feature scan,
    sampling and playing the move; the thread's CPU time, so other load does not count)."""
    rng = P.make_rng(seed)
    start = Position.new(Rules(size=size))
    playout(policy, start, rng)  # compile / load
    moves = 0
    t0 = time.thread_time()
    for _ in range(playouts):
        moves += len(playout(policy, start, rng)[1])
    return (time.thread_time() - t0) / max(1, moves) * 1e6


def default_rollout_weights(size: int) -> Path | None:
    """The shipped rollout weights for `size`x`size`, or None."""
    path = WEIGHTS_DIR / f"rollout_{size}x{size}.npz"
    return path if path.is_file() else None
