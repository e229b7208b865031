"""The immutable Go position that everything else stands on.

`Position.play(move)` returns a new Position (or raises IllegalMove naming the reason); the
board array is read-only. Captures, legality and scoring run in compiled kernels (kernels.py);
`reference.py` holds a plain-Python twin of these rules that the tests hold this one to.

Colours are BLACK 1 and WHITE 2; moves are flat indices, PASS or RESIGN (see coords.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from . import kernels
from .coords import PASS, RESIGN, from_rowcol, to_gtp
from .errors import GoError, IllegalMove
from .rules import BLACK, EMPTY, WHITE, Rules, opponent

_STONE_CHARS = {EMPTY: ".", BLACK: "X", WHITE: "O"}
_set = object.__setattr__
_NO_HASHES = np.zeros(0, dtype=np.uint64)
# Board hashes seen so far (for superko) are kept as a sorted array shared by many positions
# plus a short tuple of recent ones, folded into a new shared array every _FOLD moves: a search
# tree holds one Position per node, and a full set per node would cost O(moves) memory each.
_FOLD = 32


class _Seen:
    """An immutable set of board hashes: a shared sorted array plus a few recent hashes."""

    __slots__ = ("folded", "recent")

    def __init__(self, folded: np.ndarray, recent: tuple[int, ...]):
        self.folded = folded
        self.recent = recent

    def __contains__(self, h: int) -> bool:
        if h in self.recent:
            return True
        i = np.searchsorted(self.folded, np.uint64(h))
        return bool(i < self.folded.size and self.folded[i] == np.uint64(h))

    def add(self, h: int) -> _Seen:
        recent = self.recent + (h,)
        if len(recent) < _FOLD:
            return _Seen(self.folded, recent)
        return _Seen(np.union1d(self.folded, np.array(recent, dtype=np.uint64)), ())

    def recent_array(self) -> np.ndarray:
        return np.array(self.recent, dtype=np.uint64)


class Position:
    """A board, the player to move, and what the rules need from the past.

    Attributes (all read-only):
      rules        the Rules (size, komi, ko rule, suicide)
      board        int8 [size*size]: EMPTY, BLACK or WHITE, row 0 at the top
      to_play      BLACK or WHITE
      ko           the point the player to move may not retake (simple ko), or -1
      hash         Zobrist hash of the stones (not of the player to move): what superko compares
      move_number  moves (including passes) played since the root
      last_move    the move that led here (a point, PASS, RESIGN), or None at a root
      last_color   the colour that played last_move, or None
      passes       consecutive passes that led here
      prisoners    (stones captured by Black, stones captured by White)
      winner       the colour that won by resignation, or None
      parent       the Position before last_move, or None at a root (setup stones start a root)
    """

    __slots__ = ("rules", "board", "to_play", "ko", "hash", "move_number", "last_move",
                 "last_color", "passes", "prisoners", "winner", "parent", "_seen", "_legal")

    def __setattr__(self, name, value):
        raise AttributeError("Position is immutable; play() returns a new one")

    @classmethod
    def new(cls, rules: Rules | None = None, handicap: Iterable[int] = ()) -> Position:
        """An empty board (Black to move), or with handicap stones (White to move)."""
        rules = rules or Rules()
        n = rules.size * rules.size
        root = cls._make(rules, np.zeros(n, np.int8), BLACK, -1, 0, _Seen(_NO_HASHES, (0,)), 0,
                         None, None, 0, (0, 0), None, None)
        handicap = list(handicap)
        return root.with_stones(black=handicap, to_play=WHITE) if handicap else root

    @classmethod
    def _make(cls, rules, board, to_play, ko, hash_, seen, move_number, last_move, last_color,
              passes, prisoners, winner, parent) -> Position:
        pos = object.__new__(cls)
        board.flags.writeable = False
        for name, value in (("rules", rules), ("board", board), ("to_play", to_play), ("ko", ko),
                            ("hash", hash_), ("_seen", seen), ("move_number", move_number),
                            ("last_move", last_move), ("last_color", last_color),
                            ("passes", passes), ("prisoners", prisoners), ("winner", winner),
                            ("parent", parent), ("_legal", None)):
            _set(pos, name, value)
        return pos

    @property
    def size(self) -> int:
        return self.rules.size

    # ---- playing -----------------------------------------------------------------------------

    def play(self, move: int, color: int | None = None, *, superko: bool = True) -> Position:
        """The position after `color` (default: the player to move) plays `move`.

        A colour other than to_play is accepted, because GTP controllers replay setup stones as
        consecutive moves of one colour. Playing on after two passes is allowed (the game
        resumes, as when players disagree about dead stones); after a resignation it is not.
        `superko=False` lets a move that only repeats an earlier board through (under
        positional superko): a GTP controller that referees by simple ko (GNU Go, KGS) may
        play one, and its moves are the game's record; later moves are checked as before.
        """
        color = self.to_play if color is None else color
        if color not in (BLACK, WHITE):
            raise GoError(f"colour must be BLACK (1) or WHITE (2), got {color!r}")
        size = self.rules.size
        if self.winner is not None:
            raise IllegalMove("game over", self._name(move))
        if move == RESIGN:
            return self._child(self.board, color, self.ko, self.hash, self._seen, move,
                               self.passes, self.prisoners, winner=opponent(color))
        if move == PASS:
            return self._child(self.board, color, -1, self.hash, self._seen, move,
                               self.passes + 1, self.prisoners)
        if not isinstance(move, (int, np.integer)) or not 0 <= move < size * size:
            raise IllegalMove("off board", self._name(move))
        move = int(move)
        if move == self.ko and color == self.to_play:
            raise IllegalMove("ko", to_gtp(move, size))
        board = self.board.copy()
        status, captured, removed_own, ko, delta = kernels.play_stone(
            board, kernels.neighbour_table(size), kernels.zobrist_table(size), move, color,
            self.rules.suicide)
        if status == 1:
            raise IllegalMove("occupied", to_gtp(move, size))
        if status == 2:
            raise IllegalMove("suicide", to_gtp(move, size))
        new_hash = self.hash ^ int(delta)
        if superko and self.rules.ko == "positional" and new_hash in self._seen:
            raise IllegalMove("superko", to_gtp(move, size))
        black, white = self.prisoners
        if color == BLACK:
            black, white = black + captured, white + removed_own
        else:
            black, white = black + removed_own, white + captured
        return self._child(board, color, ko, new_hash, self._seen.add(new_hash), move, 0,
                           (black, white))

    def _child(self, board, color, ko, hash_, seen, move, passes, prisoners, winner=None):
        return Position._make(self.rules, board, opponent(color), ko, hash_, seen,
                              self.move_number + 1, move, color, passes, prisoners, winner, self)

    def _name(self, move) -> str:
        try:
            return to_gtp(int(move), self.rules.size)
        except (GoError, TypeError, ValueError):
            return repr(move)

    def with_stones(self, black: Iterable[int] = (), white: Iterable[int] = (),
                    to_play: int | None = None) -> Position:
        """A new root with setup stones added (handicap, SGF AB/AW); nothing is captured."""
        board = self.board.copy()
        zob = kernels.zobrist_table(self.rules.size)
        hash_ = self.hash
        for color, points in ((BLACK, black), (WHITE, white)):
            for p in points:
                p = int(p)
                if not 0 <= p < board.size:
                    raise IllegalMove("off board", self._name(p))
                if board[p] != EMPTY:
                    raise IllegalMove("occupied", self._name(p))
                board[p] = color
                hash_ ^= int(zob[color, p])
        return Position._make(self.rules, board, to_play or self.to_play, -1, hash_,
                              self._seen.add(hash_), self.move_number, None, None, 0,
                              self.prisoners, None, None)

    # ---- questions -----------------------------------------------------------------------------

    def legal_moves(self) -> np.ndarray:
        """bool [size*size + 1]: legal points for the player to move; the last entry is pass
        (so mask[PASS] reads it). All False after a resignation."""
        if self._legal is None:
            _set(self, "_legal", self._compute_legal())
        return self._legal

    def _compute_legal(self) -> np.ndarray:
        """The uncached work behind legal_moves()."""
        size = self.rules.size
        n = size * size
        mask = np.zeros(n + 1, dtype=bool)
        if self.winner is not None:
            mask.flags.writeable = False
            return mask
        hashes = np.empty(n, dtype=np.uint64)
        if self.rules.ko == "positional":
            folded, recent = self._seen.folded, self._seen.recent_array()
        else:
            folded = recent = _NO_HASHES
        kernels.legal_points(self.board, kernels.neighbour_table(size), kernels.zobrist_table(size),
                             self.to_play, self.ko, self.rules.suicide, np.uint64(self.hash),
                             folded, recent, mask[:n], hashes)
        mask[n] = True
        mask.flags.writeable = False
        return mask

    def is_legal(self, move: int) -> bool:
        """Whether the player to move may play `move` (a point or PASS)."""
        n = self.rules.size ** 2
        if move == PASS:
            return self.winner is None
        return isinstance(move, (int, np.integer)) and 0 <= move < n and bool(
            self.legal_moves()[move])

    def illegal_reason(self, move: int) -> str | None:
        """None if the player to move may play `move`, else the IllegalMove reason."""
        try:
            self.play(move)
        except IllegalMove as err:
            return err.reason
        return None

    def is_game_over(self) -> bool:
        """After two consecutive passes or a resignation."""
        return self.winner is not None or self.passes >= 2

    def ownership(self) -> np.ndarray:
        """int8 [size*size]: Tromp-Taylor owner of each point (BLACK, WHITE or 0 for neither)."""
        owner = np.empty(self.board.size, np.int8)
        kernels.area_owner(self.board, kernels.neighbour_table(self.rules.size), owner)
        return owner

    def area(self) -> tuple[int, int]:
        """(Black's area, White's area) under Tromp-Taylor rules: all stones count as alive."""
        owner = self.ownership()
        return int(np.count_nonzero(owner == BLACK)), int(np.count_nonzero(owner == WHITE))

    def score(self) -> float:
        """Black's area minus White's area minus komi: positive when Black wins."""
        black, white = self.area()
        return black - white - self.rules.komi

    def result(self) -> str:
        """The result as SGF and GTP write it: 'B+3.5', 'W+R' (resignation) or '0' (a draw)."""
        if self.winner is not None:
            return ("B" if self.winner == BLACK else "W") + "+R"
        margin = self.score()
        if margin == 0:
            return "0"
        return f"{'B' if margin > 0 else 'W'}+{abs(margin):g}"

    def ancestors(self) -> Iterator[Position]:
        """This position, its parent, and so on back to the root."""
        pos: Position | None = self
        while pos is not None:
            yield pos
            pos = pos.parent

    def root(self) -> Position:
        """The first position of this line of play (holding its setup stones)."""
        *_, first = self.ancestors()
        return first

    def moves(self) -> list[tuple[int, int]]:
        """[(colour, move), ...] from the root to here."""
        return [(p.last_color, p.last_move) for p in self.ancestors()
                if p.last_move is not None][::-1]

    # ---- text ----------------------------------------------------------------------------------

    def __str__(self) -> str:
        """The board with GTP coordinates; the last move is bracketed like (X)."""
        from .coords import GTP_COLUMNS

        size = self.rules.size
        letters = "   " + " ".join(GTP_COLUMNS[:size])
        lines = [letters]
        for row in range(size):
            cells = [" "] * (2 * size + 1)
            for col in range(size):
                p = row * size + col
                cells[2 * col + 1] = _STONE_CHARS[int(self.board[p])]
                if p == self.last_move:
                    cells[2 * col], cells[2 * col + 2] = "(", ")"
            number = size - row
            lines.append(f"{number:2d}{''.join(cells)}{number}")
        lines.append(letters)
        black, white = self.prisoners
        side = "Black" if self.to_play == BLACK else "White"
        lines.append(f"{side} to play; captures B {black} W {white}; komi {self.rules.komi:g}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Position {self.rules.size}x{self.rules.size} move {self.move_number}, "
                f"{'black' if self.to_play == BLACK else 'white'} to play>")

    @classmethod
    def from_ascii(cls, diagram: str, rules: Rules | None = None, to_play: int = BLACK,
                   **rule_args) -> Position:
        """Build a position from rows of 'X' (black), 'O' (white) and '.' or '+' (empty),
        top row first; spaces, digits and brackets are ignored, as are lines without a board
        row (such as coordinate labels). The size is the number of rows."""
        rows = []
        for line in diagram.splitlines():
            cells = [c for c in line if c in "XO.+"]
            body = [c for c in line if c not in " \t()0123456789"]
            if cells and len(cells) == len(body):
                rows.append(cells)
        size = len(rows)
        if size == 0 or any(len(r) != size for r in rows):
            raise GoError(f"diagram must be square; got row lengths {[len(r) for r in rows]}")
        rules = rules or Rules(size=size, **rule_args)
        if rules.size != size:
            raise GoError(f"diagram is {size}x{size} but the rules say {rules.size}")
        black = [from_rowcol(r, c, size) for r in range(size) for c in range(size)
                 if rows[r][c] == "X"]
        white = [from_rowcol(r, c, size) for r in range(size) for c in range(size)
                 if rows[r][c] == "O"]
        return cls.new(rules).with_stones(black, white, to_play=to_play)
