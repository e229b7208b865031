"""The GTP commands about the game as a whole: scoring and dead stones, clocks, SGF records,
and analysis for GUIs. A mixin of GtpEngine (engine.py), which holds the state they use:
`position`, `rules`, `player`, `clock`, and the helpers `_dead_stones`, `_limits`,
`_color_arg`, `_choose`, `_start_stream`.
"""

from __future__ import annotations

import numpy as np

from agents.alphago.search.player import TreeSearch
from agents.alphago.search.timing import KGS_ARITY, MAX_SECONDS, MAX_STONES
from envs.go import BLACK, RESIGN, WHITE, Position, groups, to_gtp
from envs.go.playout import make_rng, ownership
from envs.go.scoring import dead_from_ownership, final_result, seki_stones

from . import analysis, kata, records
from .protocol import GtpFailure, expect, to_color, to_float, to_int

BLACK_OR_WHITE = {BLACK: "black", WHITE: "white"}
TIME_RANGE = f"time out of range (0 to {MAX_SECONDS} seconds)"
STONES_RANGE = f"stones out of range (0 to {MAX_STONES})"
MAX_MOVE_NUMBER = 1_000_000  # loadsgf's move number; a longer record is no game
OWNERSHIP_PLAYOUTS = 200  # rlgo-ownership's random playouts for a player without a search


def _seconds(text: str) -> float:
    """A clock's seconds: a number from 0 to a year (see search.timing)."""
    return to_float(text, "syntax error", 0, MAX_SECONDS, TIME_RANGE)


def _stones(text: str) -> int:
    """A byo-yomi stone or period count."""
    return to_int(text, "syntax error", 0, MAX_STONES, STONES_RANGE)


class SessionCommands:
    """Scoring, clock, record and analysis commands (see the module docstring)."""

    # ---- the end of the game -------------------------------------------------------------------

    def _dead_stones(self, position: Position) -> np.ndarray:
        """The dead stones of `position`, decided once per position (so final_score and
        final_status_list agree): under territory rules, where each dead stone is a prisoner
        as well as a point of territory, the stones the player's search gives to the opponent
        (MCTS.ownership) when it has one; else the player's own dead_stones."""
        if self._dead_cache is None or self._dead_cache[0] is not position:
            dead = None
            if position.rules.scoring == "territory":
                dead = self._search_dead_stones(position)
            if dead is None:
                dead = np.asarray(self.player.dead_stones(position), dtype=np.int64)
            self._dead_cache = (position, dead)
        return self._dead_cache[1]

    def _search_dead_stones(self, position: Position) -> np.ndarray | None:
        mcts = getattr(self.player, "mcts", None)
        if not isinstance(mcts, TreeSearch):
            return None
        view = position.with_stones() if position.is_game_over() else position
        mcts.search(view, self.limits)
        owned = mcts.ownership()
        return None if owned is None else dead_from_ownership(position, owned)

    def cmd_final_score(self, args) -> str:
        """The count under the rules' scoring (area, or territory with prisoners), the dead
        stones taken off."""
        return final_result(self.position, self._dead_stones(self.position))

    def cmd_final_status_list(self, args) -> str:
        expect(args, 1, "invalid status")
        status = args[0].lower()
        if status not in ("alive", "dead", "seki"):
            raise GtpFailure("invalid status")
        dead_stones = self._dead_stones(self.position)
        dead = set(dead_stones.tolist())
        seki = set(seki_stones(self.position, dead_stones).tolist())
        stones = np.flatnonzero(self.position.board).tolist()
        if status == "seki":
            chosen = [p for p in stones if p in seki]
        else:
            chosen = [p for p in stones if (p in dead) == (status == "dead") and p not in seki]
        size = self.rules.size
        return "\n".join(" ".join(to_gtp(p, size) for p in chain)
                         for chain in groups(self.position, chosen))

    # ---- clocks --------------------------------------------------------------------------------

    def cmd_time_settings(self, args) -> str:
        expect(args, 3, "syntax error")
        self.clock.time_settings(_seconds(args[0]), _seconds(args[1]), _stones(args[2]))
        return ""

    def cmd_kgs_time_settings(self, args) -> str:
        """kgs-time_settings none | absolute M | byoyomi M P N | canadian M B S."""
        system = args[0].lower() if args else ""
        if system not in KGS_ARITY or len(args) != 1 + KGS_ARITY[system]:
            raise GtpFailure("syntax error")
        times = [_seconds(a) for a in args[1:3]]
        counts = [_stones(a) for a in args[3:]]
        self.clock.kgs_time_settings(system, *times, *counts)
        return ""

    def cmd_time_left(self, args) -> str:
        expect(args, 3, "syntax error")
        color = to_color(args[0], "syntax error")
        seconds = to_float(args[1], "syntax error", -MAX_SECONDS, MAX_SECONDS,
                           f"time out of range (-{MAX_SECONDS} to {MAX_SECONDS} seconds)")
        self.clock.time_left(color, seconds, _stones(args[2]))
        return ""

    # ---- records -------------------------------------------------------------------------------

    def cmd_loadsgf(self, args) -> str:
        """loadsgf FILE [MOVE]: the game up to (not including) move MOVE; the answer is the
        colour to play next, as GNU Go gives it. The record's size and komi become the rules."""
        if not 1 <= len(args) <= 2:
            raise GtpFailure("loadsgf needs a file name and an optional move number")
        move_number = None if len(args) == 1 else to_int(
            args[1], "move number not an integer", 1, MAX_MOVE_NUMBER, "invalid move number")
        position = records.load(args[0], move_number)
        if position.rules.size != self.rules.size and self._factory is not None:
            self.player = self._factory(position.rules.size)
        self.rules, self.position = position.rules, position
        self.clock.new_game()
        self.player.clear()
        return BLACK_OR_WHITE[position.to_play]

    def cmd_printsgf(self, args) -> str:
        if len(args) > 1:
            raise GtpFailure("printsgf takes at most one file name")
        if not args:
            return records.dump(self.position, self.name, self.version).rstrip("\n")
        records.save(args[0], self.position, self.name, self.version)
        return ""

    # ---- analysis ------------------------------------------------------------------------------

    def cmd_lz_analyze(self, args) -> str:
        """lz-analyze [COLOR] [INTERVAL] [avoid/allow ...] [minmoves N] (Leela Zero, Lizzie)."""
        return self._analyze(analysis.parse_args(args, self.position.to_play, self.rules.size),
                             floats=False)

    def cmd_analyze(self, args) -> str:
        """analyze COLOR [INTERVAL] (Sabaki's engine-analysis-integration.md): win rates as
        floats in [0, 1]; Leela Zero's optional arguments are accepted too."""
        return self._analyze(analysis.parse_args(args, self.position.to_play, self.rules.size,
                                                 color_required=True), floats=True)

    def cmd_kata_analyze(self, args) -> str:
        """kata-analyze [COLOR] [INTERVAL] [ownership true|false] [ownershipStdev true|false]
        [maxmoves N] (KataGo's GTP_Extensions.md; kata.py): scoreLead per candidate and the
        search's ownership."""
        parsed = kata.parse_args(args, self.position.to_play, self.rules.size)
        return self._analyze(parsed.base, floats=True, kata_args=parsed)

    def _analyze(self, parsed: analysis.AnalyzeArgs, floats: bool,
                 kata_args: kata.KataArgs | None = None) -> str:
        view = self.position
        if parsed.color != view.to_play:
            view = view.with_stones(to_play=parsed.color)
        line = None if kata_args is None else kata.kata_format(self.player, view, kata_args)
        self._pending_analysis = analysis.Analysis(self.player, view, parsed.interval,
                                                   self._emit, self._log, parsed.restriction,
                                                   floats, line)
        return ""

    def cmd_lz_genmove_analyze(self, args) -> str:
        """lz-genmove_analyze [COLOR] [INTERVAL] [avoid/allow ...]: '=', info lines while the
        player thinks, then `play MOVE` (played unless resign), as Leela Zero answers it."""
        return self._genmove_analyze(args, floats=False)

    def cmd_genmove_analyze(self, args) -> str:
        """genmove_analyze COLOR [INTERVAL] (Sabaki): as lz-genmove_analyze, floats."""
        return self._genmove_analyze(args, floats=True)

    def _genmove_analyze(self, args, floats: bool) -> str:
        # the colour is optional for Leela Zero's command (KataGo's GTP_Extensions.md),
        # required by Sabaki's engine-analysis-integration.md for its own
        parsed = analysis.parse_args(args, self.position.to_play, self.rules.size,
                                     color_required=floats)
        self._start_stream()
        move = self._choose(parsed.color, stream=parsed, floats=floats)
        if move != RESIGN:
            self.position = self.position.play(move, parsed.color)
        return f"play {to_gtp(move, self.rules.size)}"

    def cmd_gogui_analyze_commands(self, args) -> str:
        return "\n".join(GOGUI_ANALYZE)

    def cmd_rlgo_candidates(self, args) -> str:
        """GoGui gfx: the player's candidates for `color` as labels (nothing is played)."""
        color = self._color_arg(args)
        view = self.position if color == self.position.to_play else \
            self.position.with_stones(to_play=color)
        decision = self.player.genmove(view, self._limits(view, color))
        size = self.rules.size
        labels = [f"{to_gtp(c.move, size)} {round(100 * c.winrate)}%"
                  for c in decision.candidates if c.move >= 0]
        lines = [f"LABEL {' '.join(labels)}"] if labels else []
        lines.append(f"TEXT {self.player.name} would play {to_gtp(decision.move, size)}")
        return "\n".join(lines)

    def cmd_rlgo_ownership(self, args) -> str:
        """GoGui gfx: the expected territory as INFLUENCE (+1 Black, -1 White), from a search
        within the engine's limits (MCTS.ownership), or from random playouts for a player
        without one; TEXT names the source and the best move's score lead."""
        color = self._color_arg(args)
        view = self.position if color == self.position.to_play else \
            self.position.with_stones(to_play=color)
        mcts, owned, text = getattr(self.player, "mcts", None), None, ""
        if isinstance(mcts, TreeSearch):
            candidates = mcts.search(view, self._limits(view, color))
            owned = mcts.ownership()
            text = f"ownership of {mcts.simulations} simulations"
            best = candidates[0] if candidates else None
            if best is not None and best.score_lead is not None:
                text += (f"; after {to_gtp(best.move, self.rules.size)} "
                         f"{BLACK_OR_WHITE[color]} leads by {best.score_lead:.1f}")
        if owned is None:
            owned = ownership(view, OWNERSHIP_PLAYOUTS, make_rng(view.hash & 0xFFFFFFFF))
            text = f"ownership of {OWNERSHIP_PLAYOUTS} random playouts"
        return f"{kata.influence(owned, self.rules.size)}\nTEXT {text}"


# GoGui's analyze menu (type/label/command; %c is the colour to move). GoGui waits for each
# response to end, so the streaming lz-analyze is not offered here.
GOGUI_ANALYZE = (
    "gfx/Candidate Moves/rlgo-candidates %c",
    "gfx/Ownership/rlgo-ownership %c",
    "plist/Dead Stones/final_status_list dead",
    "plist/Alive Stones/final_status_list alive",
    "string/Final Score/final_score",
    "string/Show Board/showboard",
)
