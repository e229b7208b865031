"""Review: stepping back and forth through the game in the window, with the engine's view of
each position. Part of GameController (a mixin, so the controller's file stays about playing).

The game is the chain of Positions behind the current one (their parents), so a reviewed
move is just one of them: `review_at` is that Position, None while the live game shows. What
the engine thought of a position is kept per move number while playing (`views`: the
candidates of the search that chose the engine's move there, or of the analysis on the
human's turn; Black's win rate in `winrate_history`), and a position reviewed without one is
analysed on demand by the same AnalysisWorker the live analysis uses, once the engine is idle.

A move cannot be played while an earlier position is shown: a click or pass says so and
End (or stepping past the last move) returns to the game; undo, resign, new game and load
act on the live game and leave review. Works in every phase: during play (the engine keeps
thinking on the live game), after scoring and for a loaded SGF.
"""

from __future__ import annotations

from agents.alphago.search.player import MoveInfo
from envs.go import BLACK, Position

from .worker import AnalysisWorker


class ReviewMixin:
    """Review state and steps; the GameController provides position, say() and _analysis."""

    position: Position
    winrate_history: list[tuple[int, float]]  # (move number, Black's win rate), sorted
    views: dict[int, list[MoveInfo]]  # move number -> the candidates there, best first
    review_at: Position | None
    _analysis: AnalysisWorker | None

    # ---- state ---------------------------------------------------------------------------------

    @property
    def reviewing(self) -> bool:
        return self.review_at is not None

    @property
    def shown(self) -> Position:
        """The position on the board: the reviewed one, else the live one."""
        return self.review_at if self.review_at is not None else self.position

    def game_line(self) -> list[Position]:
        """The game's positions from its first to the live one."""
        line, pos = [], self.position
        while pos is not None:
            line.append(pos)
            pos = pos.parent
        return line[::-1]

    def winrate_at(self, move_number: int) -> float | None:
        """Black's win rate after `move_number` moves as last searched, or None."""
        return next((w for n, w in self.winrate_history if n == move_number), None)

    def review_candidates(self) -> list[MoveInfo]:
        """The engine's candidates for the reviewed position: recorded, else what the
        on-demand analysis found so far."""
        if self.review_at is None:
            return []
        recorded = self.views.get(self.review_at.move_number)
        if recorded:
            return recorded
        a = self._analysis
        return a.candidates if a is not None and a.position is self.review_at else []

    # ---- steps ---------------------------------------------------------------------------------

    def review_step(self, step: int) -> bool:
        """Show the position `step` moves later (negative: earlier); past the last move is
        the live game. False (and a message) at the first move."""
        line = self.game_line()
        now = line.index(self.shown) if self.shown in line else len(line) - 1
        target = max(0, min(len(line) - 1, now + step))
        if target == now:
            self.say("That is the first position: Right steps forward, End returns to the "
                     "game." if step < 0 else "That is the live game.")
            return False
        return self._review(line, target)

    def review_first(self) -> bool:
        """Show the game's first position (Home)."""
        return self._review(self.game_line(), 0)

    def leave_review(self) -> bool:
        """Back to the live game (End); False if it already shows."""
        if self.review_at is None:
            return False
        self.review_at = None
        self.say(f"Back to the game at move {self.position.move_number}.")
        return True

    def _review(self, line: list[Position], index: int) -> bool:
        if index == len(line) - 1:
            return self.leave_review()
        self.review_at = line[index]
        self.say(f"Reviewing move {index} of {len(line) - 1}: Left/Right step, Home first, "
                 f"End back to the game (moves wait till then).")
        return True

    def refuse_while_reviewing(self) -> bool:
        """True (and says why) when a move must wait because an earlier position shows."""
        if self.review_at is None:
            return False
        self.say(f"Reviewing move {self.review_at.move_number}: press End to return to the "
                 f"game and play there.", "error")
        return True

    # ---- the engine's view ---------------------------------------------------------------------

    def note_view(self, position: Position, candidates: list[MoveInfo] | tuple[MoveInfo, ...],
                  winrate: float | None = None) -> None:
        """Keep a search of `position`: its candidates and (default: the best candidate's)
        win rate for the player to move, recorded as Black's; one entry per move number, a
        newer search of the same position replacing the older."""
        n = position.move_number
        if candidates:
            self.views[n] = list(candidates)
        if winrate is None and candidates and candidates[0].visits > 0:
            winrate = candidates[0].winrate
        if winrate is None:
            return
        black = float(winrate) if position.to_play == BLACK else 1.0 - float(winrate)
        history = [(m, w) for m, w in self.winrate_history if m != n]
        history.append((n, black))
        self.winrate_history[:] = sorted(history)

    def forget_views_from(self, move_number: int) -> None:
        """Drop what was recorded for positions at or after `move_number` (undo)."""
        self.winrate_history[:] = [(n, w) for n, w in self.winrate_history if n < move_number]
        for n in [n for n in self.views if n >= move_number]:
            del self.views[n]

    def analysis_target(self, live: Position | None) -> Position | None:
        """The position the analysis worker should search: the reviewed one while it has no
        recorded view (or is being analysed now), else `live` (the live analysis's wish)
        unless an earlier position is shown."""
        if self.review_at is None:
            return live
        a = self._analysis
        if a is not None and a.position is self.review_at:
            return self.review_at
        return None if self.views.get(self.review_at.move_number) else self.review_at
