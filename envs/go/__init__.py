"""Go: rules (Position, Rules), coordinates, board helpers (chains, eyes, winner, dead stones,
handicap points), compiled playouts, SGF records, GTP clients."""

# first: numba's cache folder is chosen on this import, before any kernel is defined
from . import kernel_cache  # noqa: F401
from .board import (
                    chain_at,
                    dead_stones,
                    fills_own_eye,
                    groups,
                    liberties,
                    neighbours,
                    winner_from_result,
                    winner_of,
                    without_stones,
)
from .coords import PASS, RESIGN, from_gtp, from_sgf, to_gtp, to_sgf
from .errors import BadSize, BadVertex, GoError, IllegalMove, SgfError
from .position import Position
from .rules import (
                    BLACK,
                    DEFAULT_KOMI,
                    EMPTY,
                    WHITE,
                    Rules,
                    fixed_handicap,
                    free_handicap_points,
                    max_fixed_handicap,
                    opponent,
                    parse_color,
                    star_points,
)

__all__ = [
    "BLACK", "DEFAULT_KOMI", "EMPTY", "PASS", "RESIGN", "WHITE", "BadSize", "BadVertex",
    "GoError", "IllegalMove", "Position", "Rules", "SgfError", "chain_at", "dead_stones",
    "fills_own_eye", "fixed_handicap", "free_handicap_points", "from_gtp", "from_sgf", "groups",
    "liberties", "max_fixed_handicap", "neighbours", "opponent", "parse_color", "star_points",
    "to_gtp", "to_sgf", "winner_from_result", "winner_of", "without_stones",
]
