"""Exception types for everything a user can get wrong about Go input.

All derive from GoError (a ValueError and a UserError), so a front end can catch one type and
print one line.
"""

from __future__ import annotations

from ..errors import UserError


class GoError(UserError, ValueError):
    """Base class for bad Go input: moves, vertices, sizes, records."""


class IllegalMove(GoError):
    """A move the rules forbid. `reason` is one of REASONS."""

    REASONS = ("occupied", "suicide", "ko", "superko", "off board", "game over")

    def __init__(self, reason: str, move: str = ""):
        self.reason = reason
        self.move = move
        super().__init__(f"illegal move {move}: {reason}" if move else f"illegal move: {reason}")


class BadVertex(GoError):
    """A vertex or SGF point that cannot be parsed or lies off the board."""


class BadSize(GoError):
    """A board size outside the supported range."""


class SgfError(GoError):
    """A game record that cannot be read."""
