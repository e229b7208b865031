"""The GTP engine: rlgo's face to GUIs (Sabaki, GoGui, Lizzie), servers (kgsGtp) and arenas.

`GtpEngine.handle_line(line)` answers one input line with the full response text (or None for a
blank or comment line), so every command is testable without pipes; `run(stdin, stdout)` is the
loop around it. The game is one Position: its chain of parents is the undo history. The player
decides moves and dead stones; everything else (rules, clocks, handicap, records) lives here.
This module holds the loop, the set-up and the move commands; session.py the scoring, clock,
record and analysis commands; rulesets.py kgs-rules and kata-set-rules; protocol.py the
framing.

Robustness is the point: controllers kill engines that print junk to stdout or die on odd input.
So only responses go to stdout, each flushed; logs go to `log` (stderr); every failure is one
`? message` line (GNU Go's texts where it has one); every numeric argument is range-checked
as it is read (protocol.to_int / to_float), so no value can poison a later command; a bug in a
command is answered `? internal error` and logged with its traceback, and the engine keeps
going.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
import traceback
from collections.abc import Callable

import numpy as np

from agents.alphago.search.player import Decision, Player, SearchLimits
from agents.alphago.search.timing import TimeManager
from envs.go import (
    PASS,
    RESIGN,
    WHITE,
    GoError,
    IllegalMove,
    Position,
    Rules,
    fixed_handicap,
    free_handicap_points,
    max_fixed_handicap,
    to_gtp,
)
from envs.go.coords import MAX_SIZE, MIN_SIZE
from envs.go.rules import MAX_KOMI
from rlgo import __version__

from . import analysis, game
from .ponder import Ponder
from .protocol import (
    Command,
    GtpFailure,
    expect,
    failure,
    parse,
    read_lines,
    success,
    to_color,
    to_float,
    to_int,
    to_vertex,
)
from .rulesets import RulesCommands
from .session import SessionCommands

PlayerFactory = Callable[[int], Player]  # board size -> player
LEELA_ZERO_LEVEL = "0.17"  # the Leela Zero whose GTP extensions we answer (see cmd_version)
DEFAULT_RESIGN_THRESHOLD = 0.1  # for a player without an MCTS config (presets' usual value)


class GtpEngine(SessionCommands, RulesCommands):
    """A GTP v2 engine around a Player.

    player / player_factory: the Player, or a function of the board size that builds one (it is
             called again when `boardsize` changes the size).
    rules:   the rules of a new game (boardsize and komi change them).
    limits:  the search limits per move. Once the controller sends time_settings or time_left,
             the clock's budget (search.timing) sets the seconds instead; `limits.visits`
             and a smaller `limits.seconds` still cap it.
    log:     a text stream for diagnostics (stderr), or None for silence.
    ponder:  think on the opponent's time (ponder.py): after each command, while the opponent
             of the colour last generated is to move, until the next input line.
    """

    def __init__(self, player: Player | None = None, *, player_factory: PlayerFactory | None = None,
                 rules: Rules | None = None, limits: SearchLimits | None = None,
                 name: str = "rlgo", version: str = __version__, log=sys.stderr,
                 time_manager: TimeManager | None = None, ponder: bool = False):
        if (player is None) == (player_factory is None):
            raise ValueError("give exactly one of player and player_factory")
        self.rules = rules or Rules()
        self._factory = player_factory
        self.player = player if player is not None else player_factory(self.rules.size)
        self.limits = limits or SearchLimits()
        self.name, self.version, self._log_stream = name, version, log
        self.clock = time_manager or TimeManager()
        self.position = Position.new(self.rules)
        self.finished = False  # after `quit`
        self._dead_cache: tuple[Position, np.ndarray] | None = None
        self._analysis: analysis.Analysis | None = None
        self._pending_analysis: analysis.Analysis | None = None
        self._out = None
        self._command_id = ""  # the id of the command being answered (streamed responses)
        self._streamed = False  # the command has written the start of its response itself
        self._prefix = ""  # the blank line that ends a stopped analysis, until written
        self._ponder = Ponder(self._log) if ponder else None
        self.engine_color: int | None = None  # the colour of the last generated move
        self._commands: dict[str, Callable[[tuple[str, ...]], str]] = {
            name: getattr(self, "cmd_" + name.replace("-", "_")) for name in COMMANDS}

    # ---- the loop ------------------------------------------------------------------------------

    def run(self, stdin=None, stdout=None) -> int:
        """Answer commands from `stdin` until `quit` or EOF; the exit status (0). Meanwhile
        sys.stdout points at stderr, so a stray print() in player code cannot corrupt the
        protocol stream (kgsGtp kills engines for that)."""
        stdin = sys.stdin if stdin is None else stdin
        self._out = sys.stdout if stdout is None else stdout
        try:
            with contextlib.redirect_stdout(sys.stderr):
                self._serve(stdin)
        except BrokenPipeError:
            self._stop_analysis()
            self._stop_pondering()
            self._log("the controller closed our stdout; exiting")
        return 0

    def _serve(self, stdin) -> None:
        for line, cut in read_lines(stdin):
            self._emit(self.handle_line(line, cut))
            if self._pending_analysis is not None:  # started once its '=' line is out
                self._analysis, self._pending_analysis = self._pending_analysis, None
                self._analysis.start()
            if self.finished:
                break
            if self._ponder is not None and self._analysis is None:
                self._ponder.consider(self.player, self.position, self.engine_color)
        self._stop_pondering()
        self._emit(self._stop_analysis())

    def _emit(self, text: str | None) -> None:
        if not text:
            return
        out = self._out if self._out is not None else sys.stdout
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            buffer.write(text.encode("utf-8", errors="replace"))
            buffer.flush()
        else:
            out.write(text)
        out.flush()

    def _log(self, message: str) -> None:
        if self._log_stream is not None:
            with contextlib.suppress(OSError, ValueError):  # a closed stderr is no reason to die
                print(f"rlgo gtp: {message}", file=self._log_stream, flush=True)

    def handle_line(self, line: str, cut: bool = False) -> str | None:
        """The response to one input line, or None for a blank or comment line. When the line
        stops a running lz-analyze, the response starts with the blank line that ends it.
        `cut`: the line was too long and this is only its start (answered with an error)."""
        self._stop_pondering()  # before anything else: the command gets the player at once
        self._prefix = self._stop_analysis()
        command = parse(line)
        if command is None:
            return self._prefix or None
        answer = self._answer(command, cut)
        return self._prefix + answer  # '' when a streamed response wrote it first

    def _answer(self, command: Command, cut: bool) -> str:
        if cut:
            return failure(command.id, "line too long")
        handler = self._commands.get(command.name)
        if handler is None:
            return failure(command.id, "unknown command" if command.name else "no command")
        self._command_id, self._streamed = command.id, False
        try:
            text = handler(command.args)
        except GtpFailure as err:
            return failure(command.id, str(err))
        except Exception as err:  # a bug: answer, log, keep going
            # logged even when quiet: a traceback is the one diagnostic a user must see
            print(f"internal error in {command.name}:\n{traceback.format_exc()}",
                  file=self._log_stream or sys.stderr, flush=True)
            if self._streamed:  # '=' is out: end that response rather than start another
                return "\n"
            return failure(command.id, f"internal error: {type(err).__name__}")
        if command.name in ANALYZE:
            return f"={command.id}\n"  # the blank line comes when the analysis stops
        if self._streamed:  # '=' and the info lines are out; the rest ends the response
            return text + "\n\n"
        return success(command.id, text)

    def _start_stream(self) -> None:
        """Write '=id' now: the response's lines follow while the command runs."""
        self._emit(f"{self._prefix}={self._command_id}\n")  # the last analysis ends first
        self._prefix, self._streamed = "", True

    def _stop_pondering(self) -> None:
        if self._ponder is not None:
            self._ponder.stop()

    def _stop_analysis(self) -> str:
        """Stop a running lz-analyze; the blank line that ends its response, or ''."""
        running, self._analysis, self._pending_analysis = (
            self._analysis or self._pending_analysis, None, None)
        if running is None:
            return ""
        running.stop()
        return "\n"

    # ---- administration ------------------------------------------------------------------------

    def cmd_protocol_version(self, args) -> str:
        return "2"

    def cmd_name(self, args) -> str:
        return self.name

    def cmd_version(self, args) -> str:
        # Lizzie parses the first word of this answer as Leela Zero's version and warns that it
        # "requires version 0.15 or later" when the number after the first dot is below 15
        # (Leela Zero answers '0.17'). KataGo gets past that by its name, which Lizzie knows
        # (name 'KataGo' switches Lizzie to KataGo's whole command set, which we must not claim
        # though kata-analyze is answered). So the first word is the level of Leela Zero's GTP
        # extensions we answer (lz-analyze with avoid/allow, lz-genmove_analyze: 0.17's) and the
        # rest is rlgo's own version; GUIs that show `name version` show both, and SGF records
        # (AP) keep rlgo's version alone.
        return f"{LEELA_ZERO_LEVEL} (Leela Zero GTP extensions; {self.name} {self.version})"

    def cmd_known_command(self, args) -> str:
        expect(args, 1, "known_command needs one command name")
        return "true" if args[0].lower() in self._commands else "false"

    def cmd_list_commands(self, args) -> str:
        return "\n".join(COMMANDS)

    def cmd_quit(self, args) -> str:
        self.finished = True
        return ""

    # ---- board set-up --------------------------------------------------------------------------

    def cmd_boardsize(self, args) -> str:
        expect(args, 1, "boardsize not an integer")
        size = to_int(args[0], "boardsize not an integer", MIN_SIZE, MAX_SIZE,
                      "unacceptable size")
        rules = dataclasses.replace(self.rules, size=size)
        if size != self.rules.size and self._factory is not None:
            self.player = self._factory(size)
        self.rules = rules
        self._new_game()
        return ""

    def cmd_clear_board(self, args) -> str:
        self._new_game()
        return ""

    def _new_game(self) -> None:
        self.position = Position.new(self.rules)
        self.clock.new_game()
        self.player.clear()

    def cmd_komi(self, args) -> str:
        expect(args, 1, "komi not a float")
        komi = to_float(args[0], "komi not a float", -MAX_KOMI, MAX_KOMI)
        self.rules = dataclasses.replace(self.rules, komi=komi)
        self.position = game.replay(self.position, self.rules)
        return ""

    def cmd_fixed_handicap(self, args) -> str:
        stones = self._handicap_count(args, max_fixed_handicap(self.rules.size))
        return self._place_handicap(fixed_handicap(self.rules.size, stones))

    def cmd_place_free_handicap(self, args) -> str:
        stones = self._handicap_count(args, self.rules.size ** 2 - 1)
        return self._place_handicap(free_handicap_points(self.rules.size, stones))

    def cmd_set_free_handicap(self, args) -> str:
        self._require_empty_board()
        size = self.rules.size
        if not 2 <= len(args) < size * size:
            raise GtpFailure(f"invalid number of stones (2 to {size * size - 1})")
        points = []
        for arg in args:
            point = to_vertex(arg, size, f"invalid coordinate {arg[:20]}")
            if point == PASS:
                raise GtpFailure("bad vertex list: pass is no handicap stone")
            if point in points:
                raise GtpFailure(f"bad vertex list: repeated vertex {arg.upper()}")
            points.append(point)
        return self._place_handicap(points, echo=False)

    def _handicap_count(self, args, most: int) -> int:
        self._require_empty_board()
        expect(args, 1, "invalid number of stones")
        limits = f"2 to {most}" if most >= 2 else "none on this board size"
        return to_int(args[0], "invalid number of stones", 2, most,
                      f"invalid number of stones ({limits})")

    def _require_empty_board(self) -> None:
        if np.any(self.position.board):
            raise GtpFailure("board not empty")

    def _place_handicap(self, points: list[int], echo: bool = True) -> str:
        self.position = Position.new(self.rules, handicap=points)
        return " ".join(to_gtp(p, self.rules.size) for p in points) if echo else ""

    # ---- moves ---------------------------------------------------------------------------------

    def cmd_play(self, args) -> str:
        expect(args, 2, "invalid color or coordinate")
        color = to_color(args[0], "invalid color or coordinate")
        move = to_vertex(args[1], self.rules.size, "invalid color or coordinate")
        try:  # the controller referees: a move its simple-ko rules allow is its to make
            self.position = self.position.play(move, color, superko=False)
        except IllegalMove as err:
            raise GtpFailure(game.illegal_move_text(err, to_gtp(move, self.rules.size))) from None
        except GoError:
            raise GtpFailure("illegal move") from None
        return ""

    def cmd_genmove(self, args) -> str:
        color = self._color_arg(args)
        move = self._choose(color)
        if move != RESIGN:
            self.position = self.position.play(move, color)
        return to_gtp(move, self.rules.size)

    def cmd_reg_genmove(self, args) -> str:
        return to_gtp(self._choose(self._color_arg(args)), self.rules.size)

    def cmd_kgs_genmove_cleanup(self, args) -> str:
        color = self._color_arg(args)
        move = self._choose(color, cleanup=True)
        if move != RESIGN:
            self.position = self.position.play(move, color)
        return to_gtp(move, self.rules.size)

    def _color_arg(self, args) -> int:
        expect(args, 1, "invalid color")
        return to_color(args[0])

    def _choose(self, color: int, cleanup: bool = False,
                stream: analysis.AnalyzeArgs | None = None, floats: bool = False) -> int:
        """The player's move for `color` (PASS once the game is over, except in clean-up).
        With `stream` (lz-genmove_analyze's arguments), info lines are written while the
        player thinks, and its avoid/allow restriction applies."""
        position = self.position
        self.engine_color = color
        if position.is_game_over() and not cleanup:
            return PASS
        view = position
        if color != position.to_play or position.is_game_over():
            view = position.with_stones(to_play=color)  # same board and superko history
        limits = self._limits(view, color)
        started = time.monotonic()
        if stream is None:
            decision = self.player.genmove(view, limits)
        else:
            report = analysis.reporter(self._emit, view, stream.restriction, floats)
            decision = analysis.decide(self.player, view, limits, stream.restriction, report,
                                       stream.interval)
        self.clock.spent(color, time.monotonic() - started)
        move = self._handicap_veto(view, decision)
        if move not in (PASS, RESIGN) and not view.is_legal(move):
            self._log(f"the player chose an illegal move {move!r}; passing instead")
            move = PASS
        if cleanup and move == PASS:
            move = game.cleanup_move(view, color, self._dead_stones(view))
            move = PASS if move is None else move
        return move

    def _handicap_veto(self, view: Position, decision: Decision) -> int:
        """The decision's move, unless it resigns where game.handicap_resign_threshold says
        that White, having given a handicap, must play on: then its best candidate."""
        handicap = game.handicap_stones(view)
        if decision.move != RESIGN or view.to_play != WHITE or handicap == 0:
            return decision.move
        config = getattr(getattr(self.player, "mcts", None), "config", None)
        threshold = getattr(config, "resign_threshold", DEFAULT_RESIGN_THRESHOLD)
        bar = game.handicap_resign_threshold(threshold, handicap, view.move_number,
                                             self.rules.size ** 2)
        if bar > 0 and (decision.winrate is None or decision.winrate < bar):
            return RESIGN
        self._log(f"no resignation with {handicap} handicap stones at move "
                  f"{view.move_number} (win rate {decision.winrate})")
        for info in decision.candidates:
            if info.move >= 0 and view.is_legal(info.move):
                return info.move
        return PASS

    def _limits(self, view: Position, color: int) -> SearchLimits:
        budget = self.clock.budget(view, color)
        if budget is None:
            return self.limits
        if self.limits.seconds is not None:
            budget = min(budget, self.limits.seconds)
        return SearchLimits(visits=self.limits.visits, seconds=budget)

    def cmd_undo(self, args) -> str:
        if self.position.parent is None:
            raise GtpFailure("cannot undo")
        self.position = self.position.parent
        return ""

    def cmd_showboard(self, args) -> str:
        return "\n" + str(self.position)


COMMANDS = (
    "protocol_version", "name", "version", "known_command", "list_commands", "quit",
    "boardsize", "clear_board", "komi", "fixed_handicap", "place_free_handicap",
    "set_free_handicap", "play", "genmove", "reg_genmove", "kgs-genmove_cleanup", "undo",
    "showboard", "final_score", "final_status_list", "time_settings", "kgs-time_settings",
    "time_left", "loadsgf", "printsgf", "lz-analyze", "lz-genmove_analyze", "analyze",
    "genmove_analyze", "kata-analyze", "gogui-analyze_commands", "rlgo-candidates",
    "rlgo-ownership", "kgs-rules", "kata-set-rules", "kata-set-rule", "kata-get-rules",
)
ANALYZE = ("lz-analyze", "analyze", "kata-analyze")  # '=' at once; run until new input
