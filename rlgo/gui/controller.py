"""The game behind the GUI window, with no drawing in it, so tests drive it without a window.

A `GameController` owns the game (a Position, whose parents are the undo history), the rules
chosen for the next game, the engine's limits and its background work. The window calls its
actions (click, pass_move, resign, undo, new_game, save_sgf, load_sgf, ...) and `poll()` once a
frame; poll collects a finished engine call and starts the next one when the engine is to move.

Phases:  PLAY     moves alternate between the human and the engine
         SCORING  both passed: the engine proposes dead stones, clicks toggle whole chains,
                  accept_score() ends the game with the Tromp-Taylor area score of the board
                  without the dead stones
         OVER     a result stands (score or resignation); undo or a new game leaves it

In any phase the window may show an earlier position instead (review.py).
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents.alphago.search.mcts_player import MCTSPlayer
from agents.alphago.search.player import Decision, MoveInfo, Player, SearchLimits
from envs.go import (
    BLACK,
    PASS,
    RESIGN,
    WHITE,
    GoError,
    IllegalMove,
    Position,
    chain_at,
    to_gtp,
    without_stones,
)
from envs.go.rules import COLOR_NAMES

from .. import warmup
from . import game as files
from .game import ILLEGAL_MESSAGES, TIME_CHOICES, GameSettings, next_choice, verdict
from .ponder import PonderMixin
from .review import ReviewMixin
from .worker import AnalysisWorker, EngineWorker

PLAY, SCORING, OVER = "play", "scoring", "over"


@dataclass
class _Job:
    kind: str  # "genmove" or "dead"
    position: Position
    worker: EngineWorker
    stop: threading.Event  # set when the job is abandoned: a search that can, ends early


class GameController(ReviewMixin, PonderMixin):
    """One human against one Player; see the module docstring for the phases.

    A player is built for one board size (the networks' input planes are size x size), so
    with `make_player` (board size -> Player) a game on another size gets a new player;
    without it (an external GTP engine, tests) the same player plays every size."""

    def __init__(self, player: Player, settings: GameSettings | None = None,
                 limits: SearchLimits | None = None, games_dir: str | Path = "runs/games",
                 analysis_seconds: float | None = 60.0,
                 make_player: Callable[[int], Player] | None = None):
        self.player = player
        self.settings = settings or GameSettings()
        self.make_player = make_player
        self._player_size = self.settings.size
        # the built-in engines compile numba kernels on their first search unless cached
        self._kernels_cold = make_player is not None and warmup.cold()
        self.limits = limits or SearchLimits(seconds=2.0)
        self.games_dir = Path(games_dir)
        self.analysis_seconds = analysis_seconds
        self.analysis_on = False
        self.message, self.message_kind = "", "info"
        self._job: _Job | None = None
        self._analysis: AnalysisWorker | None = None
        self._scored: tuple[Position, frozenset[int], Position] | None = None
        if not self.new_game(self.settings):
            raise GoError(self.message)

    # ---- state ---------------------------------------------------------------------------------

    @property
    def human(self) -> int:
        return self.settings.human

    @property
    def engine(self) -> int:
        return 3 - self.settings.human

    @property
    def human_to_move(self) -> bool:
        return self.phase == PLAY and self.position.to_play == self.human

    @property
    def thinking(self) -> bool:
        """Whether the engine is choosing a move."""
        return self._job is not None and self._job.kind == "genmove"

    @property
    def compiling(self) -> bool:
        """Whether the engine's move is slow because its kernels are being compiled (the
        first search on a machine whose cache `make setup` did not warm)."""
        return self.thinking and self._kernels_cold

    @property
    def busy(self) -> bool:
        """Whether an engine call (a move or dead stones) is running."""
        return self._job is not None

    def say(self, text: str, kind: str = "info") -> None:
        """Set the message bar (kind: info, error or result)."""
        self.message, self.message_kind = text, kind

    def black_winrate(self) -> float | None:
        """Black's chance to win as the newest search sees it, or None: the analysis of the
        current position while it has candidates, else the engine's choice of its last move.
        Both are the value of that search's best candidate, the first line of the list the
        panel shows (there seen from the player to move), so the header, the graph's last
        point and the list never disagree."""
        return self.winrate_history[-1][1] if self.winrate_history else None

    def candidates(self) -> list[MoveInfo]:
        """Analysis candidates for the current position (best first), if analysis is on; the
        engine's view of the reviewed position while reviewing."""
        if self.reviewing:
            return self.review_candidates()
        a = self._analysis
        if self.analysis_on and a is not None and a.position is self.position:
            return a.candidates
        return []

    # ---- the human's actions -------------------------------------------------------------------

    def click(self, point: int) -> bool:
        """A click on a board point: a move in play, a dead/alive toggle in scoring."""
        if self.refuse_while_reviewing():
            return False
        if self.phase == SCORING:
            return self.toggle_dead(point)
        if self.phase == OVER:
            self.say("The game is over: press New game (n) or Undo (u).")
            return False
        if not self.human_to_move:
            self.say("Please wait: the engine is thinking.")
            return False
        try:
            new = self.position.play(point)
        except IllegalMove as err:
            self.say(ILLEGAL_MESSAGES.get(err.reason, f"Illegal move: {err.reason}."), "error")
            return False
        self.say(f"You played {to_gtp(point, self.position.rules.size)}.")
        self._advance(new)
        return True

    def is_legal(self, point: int) -> bool:
        """Whether the human may play `point` now (for the hover preview)."""
        return (self.human_to_move and not self.reviewing
                and bool(self.position.legal_moves()[point]))

    def pass_move(self) -> bool:
        if self.refuse_while_reviewing():
            return False
        if not self.human_to_move:
            self.say("You cannot pass now.")
            return False
        self.say("You pass.")
        self._advance(self.position.play(PASS))
        return True

    def resign(self) -> bool:
        if self.phase == OVER:
            return False
        self._abandon()
        self.review_at = None
        self._advance(self.position.play(RESIGN, self.human))
        self.say(f"You resigned: {self.result}.", "result")
        return True

    def undo(self) -> bool:
        """Take back the human's last move and everything after it (the engine's reply, a
        pass, a resignation, the scoring), back to the human's turn."""
        target, pos = None, self.position
        while pos.parent is not None:
            mover, pos = pos.last_color, pos.parent
            if mover == self.human and pos.to_play == self.human:
                target = pos
                break
        if target is None:
            self.say("Nothing to undo.", "error")
            return False
        self._abandon()
        self.review_at = None
        self.forget_views_from(target.move_number)
        self.engine_failed = False
        self._advance(target)
        self.say("Took back your last move (and the engine's reply).")
        return True

    def new_game(self, settings: GameSettings | None = None) -> bool:
        """Start again, with new settings if given (GoError message if they are impossible)."""
        settings = settings or self.settings
        try:
            start = settings.start()
        except GoError as err:
            self.say(f"Cannot start that game: {err}", "error")
            return False
        self._abandon()
        if not self._player_for(settings.size):
            return False
        self.settings = settings
        self._reset(start)
        hcp = f", handicap {settings.handicap}" if settings.handicap else ""
        self.say(f"New game: {settings.size}x{settings.size}, you play "
                 f"{COLOR_NAMES[settings.human]}, komi {settings.komi:g}{hcp}.")
        return True

    def set_position(self, position: Position) -> bool:
        """Continue from any position (a problem, a test), its history kept for undo.
        False (and a message) if no player can be built for its board size."""
        self._abandon()
        if not self._player_for(position.rules.size):
            return False
        self.settings = dataclasses.replace(self.settings, size=position.rules.size,
                                            komi=position.rules.komi, ko=position.rules.ko)
        self._reset(position)
        return True

    def set_seconds(self, seconds: float) -> None:
        """The engine's time per move (from its next move on)."""
        self.limits = dataclasses.replace(self.limits, seconds=float(seconds))
        self.say(f"Engine time per move: {seconds:g} s.")

    def cycle_seconds(self, step: int = 1) -> None:
        """The next (or previous) entry of TIME_CHOICES."""
        self.set_seconds(next_choice(TIME_CHOICES, self.limits.seconds, step))

    def toggle_analysis(self) -> None:
        self.analysis_on = not self.analysis_on
        if not self.searching_on_your_turn:  # pondering or territory may still want it
            self._stop_analysis()
        self.say("Analysis on: the engine's candidate moves are shown on your turn."
                 if self.analysis_on else "Analysis off.")

    # ---- scoring -------------------------------------------------------------------------------

    def toggle_dead(self, point: int) -> bool:
        """Mark the chain at `point` dead, or alive again if it was marked dead."""
        if self.phase != SCORING or self._wait_for_dead_stones():
            return False
        chain = chain_at(self.position, point)
        if not chain:
            return False
        if point in self.dead:
            self.dead -= set(chain)
        else:
            self.dead |= set(chain)
        self.say(f"Score now {self.scored_position().result()}: click more groups, or Done "
                 f"(Enter) to accept.")
        return True

    def _wait_for_dead_stones(self) -> bool:
        if self.busy:
            self.say("Please wait: the engine is still marking dead stones.")
        return self.busy

    def scored_position(self) -> Position:
        """The board with the dead stones removed (what the area score counts)."""
        key = frozenset(self.dead)
        if self._scored is None or self._scored[0] is not self.position or self._scored[1] != key:
            self._scored = (self.position, key, without_stones(self.position, key))
        return self._scored[2]

    def score(self) -> tuple[int, int, float]:
        """(Black's area, White's area, Black's margin after komi), dead stones removed."""
        black, white = self.scored_position().area()
        return black, white, black - white - self.position.rules.komi

    def accept_score(self) -> bool:
        """End the scoring phase with the current dead stones."""
        if self.phase != SCORING or self._wait_for_dead_stones():
            return False
        self.result = self.scored_position().result()
        self.phase = OVER
        black, white, _ = self.score()
        self.say(f"Game over: {self.result} (Black {black}, White {white} + komi "
                 f"{self.position.rules.komi:g}). {verdict(self.result, self.human)}", "result")
        return True

    # ---- SGF -----------------------------------------------------------------------------------

    def save_sgf(self, path: str | Path | None = None) -> Path | None:
        """Save the game (default: games_dir/<date-time>.sgf); the path, None on failure."""
        path = Path(path) if path is not None else files.new_game_path(self.games_dir)
        names = {self.human: "Human", self.engine: getattr(self.player, "name", "engine")}
        result = self.result
        if result is None and self.phase == SCORING:
            result = self.scored_position().result()
        try:
            files.save_game(path, self.position, result, names[BLACK], names[WHITE])
        except (OSError, GoError) as err:
            self.say(f"Could not save: {err}", "error")
            return None
        self.say(f"Saved to {path}")
        return path

    def load_sgf(self, path: str | Path | None = None) -> bool:
        """Load a game (default: the latest in games_dir) and continue it from its end."""
        path = Path(path) if path is not None else files.latest_game(self.games_dir)
        if path is None:
            self.say(f"No saved games in {self.games_dir}/ (save one with s).", "error")
            return False
        try:
            position, handicap, games = files.load_game(path)
        except (OSError, GoError) as err:
            self.say(f"Could not load: {err}", "error")  # the error names the file
            return False
        if not self.set_position(position):
            return False
        self.settings = dataclasses.replace(self.settings, handicap=handicap)
        which = f", the first of its {games} games" if games > 1 else ""
        if self.phase == PLAY:
            self.say(f"Loaded {path}{which} ({position.move_number} moves): play on.")
        elif self.phase == OVER:
            self.say(f"Loaded {path}{which}: {self.result}.", "result")
        return True

    # ---- the engine ----------------------------------------------------------------------------

    def poll(self) -> None:
        """Once a frame: collect a finished engine call; start the engine when it is to move;
        keep analysis running on the human's turn when it, pondering or the territory overlay
        is on (ponder.py), or on a reviewed position that has no recorded view; record what
        it finds."""
        job = self._job
        if job is not None and job.worker.done:
            self._job = None
            self._kernels_cold = False
            self._finish(job)
        if (self._job is None and self.phase == PLAY and not self.engine_failed
                and self.position.to_play == self.engine):
            self._start("genmove", self._genmove, self.position)
            if self._kernels_cold:
                self.say("Compiling the engine's kernels, first run only: up to a minute "
                         "(make setup compiles them ahead).")
        a = self._analysis
        if a is not None and a.error is not None:
            _report("analysis", a.error)
            self.say(f"Analysis failed: {a.error}", "error")
            self._analysis = None
            self.analysis_on = self.ponder_on = self.territory_on = False
            return
        live = self.searching_on_your_turn and self.human_to_move
        target = self.analysis_target(self.position if live else None)
        if a is not None and a.position is not target:
            self._stop_analysis()  # e.g. the live game's analysis while an earlier move shows
            a = None
        if target is not None and self._job is None and (a is None or a.position is not target):
            self._stop_analysis()
            a = self._analysis = AnalysisWorker(self.player, target,
                                                max_seconds=self.analysis_seconds,
                                                **self.worker_options())
        if a is not None and a.candidates and a.candidates[0].visits > 0:
            self.note_view(a.position, a.candidates)

    def wait_engine(self, timeout: float = 30.0) -> None:
        """Poll until the engine is idle (tests, scripts). TimeoutError after `timeout` s."""
        deadline = time.monotonic() + timeout
        self.poll()
        while self._job is not None:
            if not self._job.worker.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError("the engine did not finish in time")
            self.poll()

    def _genmove(self, position: Position, stop: threading.Event) -> Decision:
        if self._clear_pending:
            self._clear_pending = False
            self.player.clear()
        if isinstance(self.player, MCTSPlayer):  # the built-in engines stop when asked
            return self.player.genmove(position, self.limits, stop)
        return self.player.genmove(position, self.limits)

    def _start(self, kind: str, fn, position: Position) -> None:
        self._stop_analysis()
        stop = threading.Event()
        args = (position, stop) if kind == "genmove" else (position,)
        self._job = _Job(kind, position, EngineWorker(fn, *args, name=f"rlgo-gui-{kind}"), stop)

    def _finish(self, job: _Job) -> None:
        try:
            value = job.worker.result()
        except Exception as err:  # an engine that died or misbehaved: say so, keep the game
            _report(job.kind, err)
            self.engine_failed = job.kind == "genmove"
            self.say(f"Engine error: {err} (undo or start a new game)", "error")
            return
        if job.kind == "dead":
            self.dead = {int(p) for p in np.asarray(value).ravel()}
            self.say(f"The engine marks {len(self.dead)} stones dead. Click a group to change "
                     f"that; Done (Enter) accepts {self.scored_position().result()}.")
            return
        self._engine_moved(job.position, value)

    def _engine_moved(self, position: Position, decision: Decision) -> None:
        self.decision = decision
        self.note_view(position, decision.candidates, decision.winrate)
        try:
            new = position.play(decision.move, self.engine)
        except (IllegalMove, GoError) as err:
            self.engine_failed = True
            self.say(f"The engine played an illegal move ({err}).", "error")
            return
        if decision.move == RESIGN:
            self._advance(new)
            self.say(f"The engine resigns: {self.result}. You win!", "result")
            return
        if decision.move == PASS:
            text = "The engine passes." + ("" if new.passes >= 2 else " Pass too (p) to end.")
        else:
            text = f"The engine played {to_gtp(decision.move, position.rules.size)}."
        self.say(text)
        self._advance(new)

    # ---- internals -----------------------------------------------------------------------------

    def _reset(self, position: Position) -> None:
        """A fresh game state around `position` (new game, loaded game)."""
        self.winrate_history: list[tuple[int, float]] = []  # (move number, Black's win rate)
        self.views: dict[int, list[MoveInfo]] = {}  # move number -> the engine's candidates
        self.review_at: Position | None = None
        self.decision: Decision | None = None
        self.engine_failed = False
        self._clear_pending = True
        self._advance(position)

    def _advance(self, position: Position) -> None:
        """Make `position` current and set the phase from it."""
        self._stop_analysis()
        self.position = position
        self.dead: set[int] = set()
        self.result: str | None = None
        self.phase = PLAY
        if position.winner is not None:
            self.phase, self.result = OVER, position.result()
        elif position.passes >= 2:
            self.phase = SCORING
            self.say("Both passed: the engine is marking dead stones...")
            self._start("dead", self.player.dead_stones, position)

    def _player_for(self, size: int) -> bool:
        """Make self.player one for `size`x`size` boards (a new one from make_player when the
        size changes); False, with the reason in the message bar, if it cannot be built."""
        if self.make_player is None or size == self._player_size:
            return True
        try:
            player = self.make_player(size)
        except Exception as err:  # a UserError (weights that do not fit) or an engine bug
            _report(f"building the engine for {size}x{size}", err)
            self.say(f"Cannot start a {size}x{size} game: {err}", "error")
            return False
        self._close_player()
        self.player, self._player_size = player, size
        return True

    def _abandon(self) -> None:
        """Forget a running engine call without waiting for it: a built-in engine's search
        stops at its next batch, another call ends by its own limit; either way unheard.
        Waiting would keep a quitting window open for the rest of the move's time, and the
        search's rollout threads would hold the process at exit until it ends."""
        if self._job is not None:
            self._job.stop.set()
        self._job = None
        self._stop_analysis()

    def _stop_analysis(self) -> None:
        if self._analysis is not None:
            self._analysis.stop()
            self._analysis = None

    def close(self) -> None:
        """On quit: stop analysis, drop engine work, close an external engine."""
        self._abandon()
        self._close_player()

    def _close_player(self) -> None:
        """Close the player if it holds anything (an external engine's process)."""
        close = getattr(self.player, "close", None)
        if callable(close):
            close()


def _report(what: str, err: BaseException) -> None:
    """An engine failure to stderr in full: the window shows one line, a bug report needs the
    traceback."""
    print(f"rlgo: go play: engine error ({what}):", file=sys.stderr)
    traceback.print_exception(err, file=sys.stderr)
