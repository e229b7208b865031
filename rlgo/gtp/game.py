"""Game questions only the GTP commands ask: the same game under a new komi, which move
cleans up dead stones in kgs-genmove_cleanup, why a move is illegal (in words), and whether the
side that gave a handicap may resign yet. The board facts they rest on (chains, liberties,
eyes, dead stones, handicap points) are envs.go's.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from envs.go import BLACK, WHITE, IllegalMove, Position, Rules, fills_own_eye, liberties


def replay(position: Position, rules: Rules) -> Position:
    """The same game (setup stones and moves) under other rules, e.g. a new komi. Moves that
    the new rules forbid end the replay there."""
    root = position.root()
    game = Position.new(rules).with_stones(
        black=np.flatnonzero(root.board == BLACK), white=np.flatnonzero(root.board == WHITE),
        to_play=root.to_play)
    for color, move in position.moves():
        try:
            game = game.play(move, color)
        except ValueError:
            break
    return game


def cleanup_move(position: Position, color: int, dead: Iterable[int]) -> int | None:
    """A move that works towards capturing the opponent's `dead` stones in the clean-up phase:
    a legal liberty of a dead stone if there is one, else any legal move that does not fill
    one of our own eyes. None when there are no dead opponent stones or no such move."""
    opponent_dead = [int(p) for p in dead if position.board[int(p)] == 3 - color]
    if not opponent_dead:
        return None
    legal = position.legal_moves()[:-1]
    usable = [int(p) for p in np.flatnonzero(legal)
              if not fills_own_eye(position, int(p), color, false_eyes=True)]
    if not usable:
        return None
    attack = set(liberties(position, opponent_dead))
    attacking = [p for p in usable if p in attack]
    return attacking[0] if attacking else usable[0]


# IllegalMove reasons as sentences about the vertex (GoGui and Sabaki show the text after '?';
# GNU Go's answer is the bare 'illegal move', which stays the prefix so that controllers that
# match on it still do).
_REASONS = {
    "occupied": "{} is occupied",
    "suicide": "{} would be suicide",
    "ko": "{} retakes the ko",
    "superko": "{} repeats an earlier position (superko)",
    "off board": "{} is off the board",
    "game over": "the game is over",
}


def illegal_move_text(err: IllegalMove, vertex: str) -> str:
    """'illegal move: D4 is occupied' and the like, for a GTP failure."""
    reason = _REASONS.get(err.reason, "{} is not allowed: " + err.reason)
    return "illegal move: " + reason.format(vertex.upper())


def handicap_stones(position: Position) -> int:
    """Black's handicap: the stones of a game that starts with Black's setup stones only and
    White to move (what fixed/free handicap and SGF HA/AB games look like); 0 otherwise."""
    root = position.root()
    black = int(np.count_nonzero(root.board == BLACK))
    if root.to_play != WHITE or black < 2 or np.any(root.board == WHITE):
        return 0
    return black


# The handicap resign rule, Leela Zero's idea in our words: the stones White gave away make its
# win rate low from the first move on, and that is no reason to give up (rollouts and a net
# trained on even games both read a 9-stone 9x9 board as lost for White). So White, when it gave
# a handicap, (a) never resigns in the first quarter of the board's points in moves, and (b)
# after that resigns only below the threshold divided by (1 + handicap), a bar that rises back
# linearly to the plain threshold by move 0.6 * points, when the game is decided by play, not by
# the setup.
EARLY_FRACTION = 0.25
BLEND_FRACTION = 0.6


def handicap_resign_threshold(threshold: float, handicap: int, moves: int, points: int) -> float:
    """The win rate White must fall below to resign, `moves` moves into a game where it gave
    `handicap` stones on a board of `points` points (0.0: not yet at all)."""
    if handicap <= 0:
        return threshold
    if moves <= EARLY_FRACTION * points:
        return 0.0
    blend = min(1.0, moves / (BLEND_FRACTION * points))
    return blend * threshold + (1.0 - blend) * threshold / (1 + handicap)
