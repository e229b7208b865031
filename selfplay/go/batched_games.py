"""Many Go games played in lockstep by policy networks: one batched forward pass per net per ply.

A policy net evaluates a batch of 64 positions in little more time than one, so the self-play
stages (RL policy games, value-net data, evaluation matches) advance all their games together:
at every ply the unfinished games are grouped by the net that moves in each, every group gets
one `features_batch` + one forward pass, and each game samples its move from the softmax over
its legal moves (illegal moves masked; pass is always legal, so a policy can end a game the
way its training games ended). With passes=False the games keep to sensible moves
(features.sensible_moves: no filling of one's own single-point eyes, a pass only when nothing
sensible is left), so they end when the board is settled and the area count is the real
result: evaluation matches are played so, since a net that passes early (the SL policy learned
it from GNU Go) loses games that say nothing about its Go. A game ends at two passes or at its
move cap, and is then scored by Tromp-Taylor area (`winner_of`).

    play_games(starts [G Positions], mover(g, position) -> net index | RANDOM, nets, rng,
               end_at [G] move numbers, keep(g, position) -> bool)
      -> Played: finals [G Positions]; for every game, of the plies `keep` selected: the
         planes uint8 [T, C, S, S], the legal masks bool [T, S*S+1] and the moves int64 [T]
         (flat index, pass = S*S); the learner needs the masks to rebuild the distribution
         the move was drawn from

RANDOM plays a uniformly random legal point (pass only when no point is legal): the value
net's data needs one such move per game.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from agents.alphago.nets.features import features_batch, sensible_moves
from agents.alphago.nets.networks import PolicyNet, as_input
from envs.go import PASS, Position

RANDOM = -1


@dataclass
class Played:
    """What play_games returns: the final positions and the kept plies of every game."""

    finals: list[Position]
    planes: list[np.ndarray]   # per game uint8 [T, C, S, S]
    legal: list[np.ndarray]    # per game bool [T, S*S+1]
    moves: list[np.ndarray]    # per game int64 [T], flat index with pass = S*S


def sample_moves(logits: torch.Tensor, legal: np.ndarray, rng: np.random.Generator,
                 temperature: float = 1.0) -> np.ndarray:
    """int64 [B]: one move per row drawn from softmax(logits / temperature) over the legal
    moves (logits [B, n+1], legal bool [B, n+1]; pass last)."""
    masked = logits.detach().float().cpu() / temperature
    masked = masked.masked_fill(~torch.from_numpy(np.asarray(legal, bool)), float("-inf"))
    probs = torch.softmax(masked, dim=1).double().numpy()
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cdf[:, -1]
    moves = (cdf < u[:, None]).sum(axis=1)
    # Rounding can land on a zero-probability entry at the top: take the last legal one then.
    bad = ~legal[np.arange(len(moves)), np.minimum(moves, legal.shape[1] - 1)]
    for i in np.flatnonzero(bad):
        moves[i] = np.flatnonzero(legal[i])[-1]
    return moves.astype(np.int64)


def random_moves(legal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """int64 [B]: a uniformly random legal point per row (pass if no point is legal)."""
    out = np.empty(len(legal), np.int64)
    for i, row in enumerate(legal):
        points = np.flatnonzero(row[:-1])
        out[i] = rng.choice(points) if len(points) else len(row) - 1
    return out


def play_games(starts: Sequence[Position], mover: Callable[[int, Position], int],
               nets: Sequence[PolicyNet], rng: np.random.Generator,
               end_at: int | Sequence[int], keep: Callable[[int, Position], bool] | None = None,
               temperature: float = 1.0, device: torch.device | str = "cpu",
               passes: bool = True) -> Played:
    """Play every game from its start until two passes or move number `end_at` (per game or
    one for all). `mover(g, position)` names the net (index into `nets`) or RANDOM that moves
    in game g; `keep(g, position)` says which plies' planes and moves to return.
    passes=False: nets keep to sensible moves (pass only when none is left)."""
    positions = list(starts)
    count = len(positions)
    caps = np.broadcast_to(np.asarray(end_at, np.int64), (count,))
    kept_planes: list[list[np.ndarray]] = [[] for _ in range(count)]
    kept_legal: list[list[np.ndarray]] = [[] for _ in range(count)]
    kept_moves: list[list[int]] = [[] for _ in range(count)]
    with torch.inference_mode():
        while True:
            alive = [g for g, p in enumerate(positions)
                     if not p.is_game_over() and p.move_number < caps[g]]
            if not alive:
                break
            groups: dict[int, list[int]] = {}
            for g in alive:
                groups.setdefault(mover(g, positions[g]), []).append(g)
            for who, games in groups.items():
                batch = [positions[g] for g in games]
                legal = np.stack([p.legal_moves() if passes else sensible_moves(p)
                                  for p in batch])
                if who == RANDOM:
                    planes, moves = None, random_moves(legal, rng)
                else:
                    net = nets[who]
                    planes = features_batch(batch, net.spec.planes)
                    logits = net(as_input(planes, device))
                    moves = sample_moves(logits, legal, rng, temperature)
                for i, g in enumerate(games):
                    if keep is not None and keep(g, positions[g]):
                        if planes is None:
                            raise ValueError("keep() asked for a ply played at random")
                        kept_planes[g].append(planes[i])
                        kept_legal[g].append(legal[i])
                        kept_moves[g].append(int(moves[i]))
                    n = legal.shape[1] - 1
                    positions[g] = positions[g].play(PASS if moves[i] == n else int(moves[i]))
    size = positions[0].size if positions else 0
    channels = nets[0].spec.in_planes if nets else 0
    planes_out = [np.asarray(p, np.uint8).reshape(len(p), channels, size, size)
                  for p in kept_planes]
    legal_out = [np.asarray(m, bool).reshape(len(m), size * size + 1) for m in kept_legal]
    return Played(finals=positions, planes=planes_out, legal=legal_out,
                  moves=[np.asarray(m, np.int64) for m in kept_moves])
