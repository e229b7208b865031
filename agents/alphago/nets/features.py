"""Network input planes for a Go position, from the player to move's point of view.

`features(position)` returns uint8 [C, size, size]: every plane is 0/1, so uint8 stores them in
a quarter of float32's memory (replay buffers and datasets hold millions); convert to float at
the network. Two plane sets:

"alphago" (48 planes, Silver et al. 2016, Extended Data Table 2); planes  group:
   0-2   stone colour     player's stones, opponent's stones, empty points
   3     ones             a constant plane (marks the board inside zero padding)
   4-11  turns since      one-hot, for stones: played 1, 2, ..., 7, >=8 moves ago (the last
                          move is 1; passes count; setup stones and stones older than the
                          Position's parent chain count as >=8)
  12-19  liberties        one-hot, for stones: liberties of their group, 1..7, >=8
  20-27  capture size     one-hot, for legal moves: opponent stones a move here captures, 0..6, >=7
  28-35  self-atari size  one-hot, for legal moves that leave our group in atari: its size
                          (stones it would lose), 1..7, >=8
  36-43  liberties after  one-hot, for legal moves: liberties of our group after it, 1..7, >=8
  44     ladder capture   a move here ataris an opponent group that then dies in a ladder
  45     ladder escape    a move here saves our group in atari from the ladder (ladders.py)
  46     sensibleness     legal and does not fill one of our own single-point eyes
  47     zeros            a constant plane of zeros

"simple" (16 planes): stone colour 3, ones 1, turns since 8, liberties 1, 2, 3, >=4 (4) — the
same definitions as the first planes above; cheap, and all the history a small net needs.

player_colour=True appends one plane of ones if Black is to move, else zeros (the value net's
49th plane). "Legal" is Position.legal_moves() (ko and superko included).

Symmetries: `symmetries(planes)` gives all 8 images [8, C, S, S]; image k is k quarter turns
(np.rot90) followed, for k >= 4, by a left-right mirror. `transform_policy` moves a [.., n+1]
move distribution the same way (pass stays last) and `inverse_transform_policy` undoes it, so
a net evaluated on image k answers for the original board after the inverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numba as nb
import numpy as np

from agents.alphago.playouts.ladders import MAX_DEPTH, MAX_NODES, ladder_planes
from envs.go import BLACK, Position, kernels
from envs.go.playout import is_eye

PLANE_SETS = {"alphago": 48, "simple": 16}
# Where each group of the "alphago" set starts (the "simple" set shares the first four).
STONES, ONES, TURNS_SINCE, LIBERTIES = 0, 3, 4, 12
CAPTURE_SIZE, SELF_ATARI, LIBERTIES_AFTER = 20, 28, 36
LADDER_CAPTURE, LADDER_ESCAPE, SENSIBLE, ZEROS = 44, 45, 46, 47


def num_planes(planes: str = "alphago", player_colour: bool = False) -> int:
    """How many planes features() returns for this set."""
    if planes not in PLANE_SETS:
        raise ValueError(f"unknown plane set {planes!r}; expected one of {sorted(PLANE_SETS)}")
    return PLANE_SETS[planes] + int(player_colour)


def features(position: Position, planes: str = "alphago",
             player_colour: bool = False) -> np.ndarray:
    """uint8 [C, size, size]: the input planes of `position` for its player to move."""
    out = np.zeros((num_planes(planes, player_colour), position.size, position.size), np.uint8)
    _fill_planes(position, planes, player_colour, out)
    return out


def features_batch(positions: Sequence[Position], planes: str = "alphago",
                   player_colour: bool = False) -> np.ndarray:
    """uint8 [B, C, size, size] for positions of one board size."""
    if not positions:
        raise ValueError("features_batch needs at least one position")
    size = positions[0].size
    if any(p.size != size for p in positions):
        raise ValueError("features_batch needs positions of one board size")
    out = np.zeros((len(positions), num_planes(planes, player_colour), size, size), np.uint8)
    for pos, dest in zip(positions, out, strict=True):
        _fill_planes(pos, planes, player_colour, dest)
    return out


def _fill_planes(position: Position, planes: str, player_colour: bool, out: np.ndarray) -> None:
    """Write the planes into the zeroed out [C, size, size]."""
    size = position.size
    n = size * size
    flat = out.reshape(out.shape[0], n)
    nbr = kernels.neighbour_table(size)
    color = position.to_play
    ages = turns_since(position)
    if planes == "simple":
        _stone_planes(position.board, nbr, color, ages, 4, flat)
    else:
        legal = position.legal_moves()[:n]
        _stone_planes(position.board, nbr, color, ages, 8, flat)
        _move_planes(position.board, nbr, kernels.diagonal_table(size), color, legal, flat)
        ladder_planes(position.board, nbr, kernels.zobrist_table(size), color, legal,
                      flat[LADDER_CAPTURE], flat[LADDER_ESCAPE], MAX_DEPTH, MAX_NODES)
    if player_colour and color == BLACK:
        flat[-1] = 1


def turns_since(position: Position) -> np.ndarray:
    """int8 [n]: for each point, how many moves ago its stone was played (1 = the last move),
    from the 7 most recent moves; 0 where no move among them put the current stone there."""
    ages = np.zeros(position.size * position.size, np.int8)
    pos = position
    for age in range(1, 8):
        if pos.last_move is None:
            break
        move = pos.last_move
        if move >= 0 and ages[move] == 0 and position.board[move] != 0:
            ages[move] = age
        pos = pos.parent
    return ages


def sensible_moves(position: Position) -> np.ndarray:
    """bool [n+1]: the legal points that do not fill one of the mover's own single-point eyes
    (the sensibleness plane), and pass only when no such point is left. Policy-only games
    use it as the move set: a net that may pass at any time, or fill its own eyes, plays games
    that say little about its Go (see selfplay/go/batched_games.py)."""
    n = position.size * position.size
    legal = position.legal_moves()
    out = np.zeros(n + 1, np.bool_)
    _sensible(position.board, kernels.neighbour_table(position.size),
              kernels.diagonal_table(position.size), position.to_play, legal[:n], out)
    out[n] = not out[:n].any()
    return out


@nb.njit(cache=True)
def _sensible(board, nbr, diag, color, legal, out):
    for p in range(board.shape[0]):
        out[p] = legal[p] and not is_eye(board, nbr, diag, p, color)


@nb.njit(cache=True)
def _stone_planes(board, nbr, color, ages, lib_planes, out):
    """Stone colour, ones, turns since (8) and liberties (lib_planes, the last meaning "or more")
    into out [C, n] from plane 0."""
    n = board.shape[0]
    label = np.empty(n, np.int32)
    libs = np.empty(n, np.int32)
    gsize = np.empty(n, np.int32)
    kernels.label_groups(board, nbr, label, libs, gsize)
    for p in range(n):
        c = board[p]
        out[ONES, p] = 1
        if c == 0:
            out[STONES + 2, p] = 1
            continue
        out[STONES if c == color else STONES + 1, p] = 1
        age = ages[p]
        out[TURNS_SINCE + (age - 1 if 1 <= age <= 7 else 7), p] = 1
        out[LIBERTIES + min(libs[label[p]], lib_planes) - 1, p] = 1


@nb.njit(cache=True)
def _move_planes(board, nbr, diag, color, legal, out):
    """Capture size, self-atari size, liberties after, sensibleness into out [48, n], for the
    legal points: each move is played on a scratch board and taken back."""
    n = board.shape[0]
    opp = 3 - color
    label = np.empty(n, np.int32)
    libs = np.empty(n, np.int32)
    gsize = np.empty(n, np.int32)
    kernels.label_groups(board, nbr, label, libs, gsize)
    scratch = board.copy()
    stack = np.empty(n, np.int32)
    removed = np.empty(n, np.int32)
    mark = np.zeros(n, np.int32)
    stamp = 0
    seen = np.empty(4, np.int32)
    for p in range(n):
        if not legal[p]:
            continue
        if not is_eye(board, nbr, diag, p, color):
            out[SENSIBLE, p] = 1
        scratch[p] = color
        nremoved = 0
        nseen = 0
        for k in range(4):
            q = nbr[p, k]
            if q < 0:
                break
            if board[q] != opp or libs[label[q]] != 1:
                continue
            dup = False
            for j in range(nseen):
                if seen[j] == label[q]:
                    dup = True
            if dup:
                continue
            seen[nseen] = label[q]
            nseen += 1
            stamp += 1
            size, _ = kernels.group_info(scratch, nbr, q, stack, mark, stamp)
            for i in range(size):
                scratch[stack[i]] = 0
                removed[nremoved] = stack[i]
                nremoved += 1
        out[CAPTURE_SIZE + min(nremoved, 7), p] = 1
        stamp += 1
        size, after = kernels.group_info(scratch, nbr, p, stack, mark, stamp)
        if after >= 1:
            out[LIBERTIES_AFTER + min(after, 8) - 1, p] = 1
        if after == 1:
            out[SELF_ATARI + min(size, 8) - 1, p] = 1
        scratch[p] = 0
        for i in range(nremoved):
            scratch[removed[i]] = opp


# ---- the 8 symmetries ------------------------------------------------------------------------

def transform_planes(planes: np.ndarray, k: int) -> np.ndarray:
    """Symmetry k (0..7) of [..., S, S]: k % 4 quarter turns, then a mirror if k >= 4."""
    out = np.rot90(planes, k % 4, axes=(-2, -1))
    return np.ascontiguousarray(np.flip(out, -1) if k >= 4 else out)


def symmetries(planes: np.ndarray) -> np.ndarray:
    """[8, C, S, S]: the 8 images of planes [C, S, S] (image k = transform_planes(planes, k))."""
    return np.stack([transform_planes(planes, k) for k in range(8)])


def inverse_symmetry(k: int) -> int:
    """The symmetry that undoes symmetry k (mirrors undo themselves)."""
    return (4 - k) % 4 if k < 4 else k


@cache
def _gather_index(size: int, k: int) -> np.ndarray:
    """int [size*size]: image k's flat point i holds the original's point index[i]."""
    index = transform_planes(np.arange(size * size).reshape(size, size), k).ravel()
    index.flags.writeable = False
    return index


def transform_move(move: int, k: int, size: int) -> int:
    """Where point `move` lands under symmetry k (PASS and other negatives stay)."""
    if move < 0:
        return move
    return int(_gather_index(size, inverse_symmetry(k))[move])


def transform_policy(policy: np.ndarray, k: int) -> np.ndarray:
    """[..., n+1] -> [..., n+1]: the move distribution under symmetry k; pass stays last."""
    n = policy.shape[-1] - 1
    size = int(round(n ** 0.5))
    if size * size != n:
        raise ValueError(f"policy length {n + 1} is not size*size + 1")
    index = np.append(_gather_index(size, k), n)
    return policy[..., index]


def inverse_transform_policy(policy: np.ndarray, k: int) -> np.ndarray:
    """Undo transform_policy(., k): map a distribution over image k back to the original."""
    return transform_policy(policy, inverse_symmetry(k))
