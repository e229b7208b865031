"""Go: rules (Position, Rules), coordinates, compiled playouts, SGF records, GTP clients."""

from .coords import PASS, RESIGN, from_gtp, from_sgf, to_gtp, to_sgf
from .errors import BadSize, BadVertex, GoError, IllegalMove, SgfError
from .position import Position
from .rules import (
                    BLACK,
                    EMPTY,
                    WHITE,
                    Rules,
                    fixed_handicap,
                    max_fixed_handicap,
                    opponent,
                    parse_color,
)

__all__ = [
    "BLACK", "EMPTY", "PASS", "RESIGN", "WHITE", "BadSize", "BadVertex", "GoError",
    "IllegalMove", "Position", "Rules", "SgfError", "fixed_handicap", "from_gtp", "from_sgf",
    "max_fixed_handicap", "opponent", "parse_color", "to_gtp", "to_sgf",
]
