"""A plain-Python twin of the Go rules, kept as a test oracle for the compiled path.

`Position` (position.py) plays through numba kernels and detects superko by Zobrist hashes.
This module plays the same rules with Python lists, sets and naive flood fills, and detects
superko by comparing whole boards (as tuples). It shares nothing with that code except the
coordinate conventions, the Rules value and the exception types, so tests can play the same
moves through both and demand identical boards, legal-move masks, captures, reasons and scores.
Clarity over speed: it exists for tests, not for play.

The semantics mirrored from Position:
  * a move is checked in this order: game over (after a resignation), resign, pass, off board,
    ko, occupied, suicide, superko;
  * the ko point (an immediate single-stone recapture) binds only the player to move, under
    both ko rules; a pass or a move elsewhere clears it;
  * "positional" superko forbids any move that recreates an earlier board of the game; the
    history starts with the empty board and the board with the setup stones;
  * allowed suicide removes the mover's group, and those stones count as the opponent's
    prisoners;
  * scoring is Tromp-Taylor area: stones plus empty regions that reach only one colour.
"""

from __future__ import annotations

from numbers import Integral

from .coords import PASS, RESIGN
from .errors import GoError, IllegalMove
from .rules import BLACK, EMPTY, WHITE, Rules, opponent


class ReferenceBoard:
    """A mutable game: `play` changes it in place, or raises IllegalMove and changes nothing.

    Attributes: rules, size, board (list of EMPTY/BLACK/WHITE, row 0 at the top), to_play,
    ko (-1 for none), prisoners (captured by Black, captured by White), passes, winner (the
    colour that won by resignation, or None), history (set of every board tuple of the game).
    """

    def __init__(self, rules: Rules, black=(), white=(), to_play: int = BLACK):
        self.rules = rules
        self.size = rules.size
        self.board = [EMPTY] * (self.size * self.size)
        self._neighbors = [self._adjacent(p) for p in range(len(self.board))]
        self.history = {tuple(self.board)}
        for color, points in ((BLACK, black), (WHITE, white)):
            for p in points:
                if not 0 <= p < len(self.board):
                    raise IllegalMove("off board")
                if self.board[p] != EMPTY:
                    raise IllegalMove("occupied")
                self.board[p] = color
        self.history.add(tuple(self.board))
        self.to_play = to_play
        self.ko = -1
        self.prisoners = (0, 0)
        self.passes = 0
        self.winner = None

    def neighbours(self, p: int) -> list[int]:
        """The points orthogonally next to p."""
        return self._neighbors[p]

    def _adjacent(self, p: int) -> list[int]:
        row, col = divmod(p, self.size)
        steps = ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1))
        return [r * self.size + c for r, c in steps if 0 <= r < self.size and 0 <= c < self.size]

    def group(self, board: list[int], p: int) -> tuple[set[int], set[int]]:
        """(stones, liberties) of the group of stones at p on `board`."""
        color = board[p]
        stones, liberties, todo = {p}, set(), [p]
        while todo:
            q = todo.pop()
            for r in self.neighbours(q):
                if board[r] == EMPTY:
                    liberties.add(r)
                elif board[r] == color and r not in stones:
                    stones.add(r)
                    todo.append(r)
        return stones, liberties

    def _after(self, move, color: int) -> dict:
        """The state after `color` plays `move` (a point, PASS or RESIGN), or IllegalMove."""
        if color not in (BLACK, WHITE):
            raise GoError(f"bad colour {color!r}")
        if self.winner is not None:
            raise IllegalMove("game over")
        if move == RESIGN:
            return {"winner": opponent(color), "to_play": opponent(color)}
        if move == PASS:
            return {"ko": -1, "passes": self.passes + 1, "to_play": opponent(color)}
        if not isinstance(move, Integral) or not 0 <= move < len(self.board):
            raise IllegalMove("off board")
        move = int(move)
        if move == self.ko and color == self.to_play:
            raise IllegalMove("ko")
        if self.board[move] != EMPTY:
            raise IllegalMove("occupied")
        board = list(self.board)
        board[move] = color
        captured = set()
        for q in self.neighbours(move):
            if board[q] == opponent(color):
                stones, liberties = self.group(board, q)
                if not liberties:
                    captured |= stones
        for q in captured:
            board[q] = EMPTY
        stones, liberties = self.group(board, move)
        removed_own = 0
        if not liberties:
            if not self.rules.suicide:
                raise IllegalMove("suicide")
            for q in stones:
                board[q] = EMPTY
            removed_own = len(stones)
        if self.rules.ko == "positional" and tuple(board) in self.history:
            raise IllegalMove("superko")
        ko = -1
        if len(captured) == 1 and len(stones) == 1 and len(liberties) == 1:
            ko = next(iter(captured))
        black, white = self.prisoners
        if color == BLACK:
            black, white = black + len(captured), white + removed_own
        else:
            black, white = black + removed_own, white + len(captured)
        return {"board": board, "ko": ko, "passes": 0, "prisoners": (black, white),
                "to_play": opponent(color)}

    def play(self, move, color: int | None = None) -> ReferenceBoard:
        """Play `move` for `color` (default: the player to move); returns self."""
        state = self._after(move, self.to_play if color is None else color)
        for name, value in state.items():
            setattr(self, name, value)
        self.history.add(tuple(self.board))
        return self

    def illegal_reason(self, move, color: int | None = None) -> str | None:
        """None if the move may be played, else the IllegalMove reason (nothing changes)."""
        try:
            self._after(move, self.to_play if color is None else color)
        except IllegalMove as err:
            return err.reason
        return None

    def legal_moves(self) -> list[bool]:
        """For each point, whether the player to move may play there; pass last.
        All False after a resignation."""
        if self.winner is not None:
            return [False] * (len(self.board) + 1)
        return [self.illegal_reason(p) is None for p in range(len(self.board))] + [True]

    def is_game_over(self) -> bool:
        return self.winner is not None or self.passes >= 2

    def ownership(self) -> list[int]:
        """Tromp-Taylor owner of every point: a stone's colour, or the one colour an empty
        region reaches, else EMPTY."""
        owner = list(self.board)
        done = set()
        for p in range(len(self.board)):
            if self.board[p] != EMPTY or p in done:
                continue
            region, reached, todo = {p}, set(), [p]
            while todo:
                q = todo.pop()
                for r in self.neighbours(q):
                    if self.board[r] != EMPTY:
                        reached.add(self.board[r])
                    elif r not in region:
                        region.add(r)
                        todo.append(r)
            done |= region
            color = reached.pop() if len(reached) == 1 else EMPTY
            for q in region:
                owner[q] = color
        return owner

    def score(self) -> float:
        """Black's area minus White's area minus komi."""
        owner = self.ownership()
        return owner.count(BLACK) - owner.count(WHITE) - self.rules.komi

    def result(self) -> str:
        if self.winner is not None:
            return ("B" if self.winner == BLACK else "W") + "+R"
        margin = self.score()
        if margin == 0:
            return "0"
        return f"{'B' if margin > 0 else 'W'}+{abs(margin):g}"
