"""Game questions only the GTP commands ask: the same game under a new komi, and which move
cleans up dead stones in kgs-genmove_cleanup. The board facts they rest on (chains, liberties,
eyes, dead stones, handicap points) are envs.go's.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from envs.go import BLACK, WHITE, Position, Rules, fills_own_eye, liberties


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
