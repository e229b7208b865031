"""Live analysis for GUIs: Leela Zero's `lz-analyze` / `lz-genmove_analyze` (Lizzie, Sabaki) and
Sabaki's `analyze` / `genmove_analyze`.

Arguments, in Leela Zero's grammar (its GTP.cpp, parse_analyze_tags; Lizzie sends
`lz-analyze 10 avoid b D4,Q16 20`):

    [COLOR] [INTERVAL | interval N] [minmoves N]
    [avoid COLOR V1,V2,... UNTIL_MOVE]... | [allow COLOR V1,V2,... UNTIL_MOVE]...

INTERVAL is in centiseconds. avoid/allow restrict the moves COLOR may play during the next
UNTIL_MOVE moves (so at the root when COLOR is the side analysed and UNTIL_MOVE >= 1). avoid
may come several times; allow once and not with avoid (KataGo's GTP_Extensions.md says so for
both engines). What rlgo restricts is the root: the candidates
shown and the move lz-genmove_analyze plays; the search still spends visits on avoided moves
and principal variations past the root are not filtered (that would need the search to take a
root filter). `minmoves` is accepted and ignored: every visited candidate is shown.

The analyze commands answer `=` at once, then the search runs in a background thread and every
interval one line is printed:

    info move D4 visits 120 winrate 5312 prior 1840 lcb 5120 order 0 pv D4 Q16 info move ...

(every candidate on one line; win rate, prior and lcb for the side to move, in 1/10000 for the
lz- commands, as floats in [0, 1] for Sabaki's, which its engine-analysis-integration.md
allows). Sabaki's lines add `scoreLead` (that side's expected margin in points) after the win
rate when the search has one (MoveInfo.score_lead); Leela Zero's format has none. Any new
input line stops the search; the blank line that ends the response comes before the answer to
that line. kata.py formats kata-analyze's lines for the same machinery (`line`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from agents.alphago.search.player import Decision, MoveInfo, Player, SearchLimits, TreeSearch
from envs.go import PASS, RESIGN, Position, to_gtp

from .protocol import GtpFailure, to_color, to_int, to_vertex

DEFAULT_INTERVAL_CS = 100  # Leela Zero's default: one report per second
MAX_COUNT = 360_000  # an interval of an hour (and minmoves far beyond any board)
JOIN_TIMEOUT = 10.0  # seconds to wait for a player that is slow to notice `stop`
COLORS = ("b", "black", "w", "white")


@dataclass(frozen=True)
class Restriction:
    """avoid/allow clauses: (colour, points, until_move) each; `allow` says which kind."""

    allow: bool = False
    clauses: tuple[tuple[int, frozenset[int], int], ...] = field(default=())

    def permits(self, move: int, color: int) -> bool:
        """May `color` play `move` as the next move (the root of the search)?"""
        relevant = [points for who, points, until in self.clauses if who == color and until >= 1]
        if not relevant:
            return True
        if self.allow:
            return any(move in points for points in relevant)
        return not any(move in points for points in relevant)

    def filter(self, candidates: list[MoveInfo], color: int) -> list[MoveInfo]:
        return [c for c in candidates if self.permits(c.move, color)]


@dataclass(frozen=True)
class AnalyzeArgs:
    color: int
    interval: float  # seconds
    restriction: Restriction
    minmoves: int = 0


def parse_args(args: tuple[str, ...], to_play: int, size: int,
               color_required: bool = False) -> AnalyzeArgs:
    """The arguments of the analyze commands (see the module docstring)."""
    words = list(args)
    color = to_play
    if words and words[0].lower() in COLORS:
        color = to_color(words.pop(0))
    elif color_required:
        raise GtpFailure("invalid color")
    interval, minmoves = DEFAULT_INTERVAL_CS, 0
    kinds, clauses = set(), []
    while words:
        word = words.pop(0).lower()
        if word.isdigit() and word.isascii():
            interval = _count(word, "interval")
        elif word in ("interval", "minmoves") and words:
            value = _count(words.pop(0), word)
            interval, minmoves = (value, minmoves) if word == "interval" else (interval, value)
        elif word in ("avoid", "allow"):
            if len(words) < 3:
                raise GtpFailure(f"{word} needs a colour, vertices and a move count")
            who = to_color(words.pop(0), f"{word}: invalid color")
            points = frozenset(_vertices(words.pop(0), size, word))
            until = to_int(words.pop(0), f"{word}: move count not an integer", 1, MAX_COUNT,
                           f"{word}: move count out of range (1 to {MAX_COUNT})")
            if word == "allow" and "allow" in kinds:
                raise GtpFailure("allow can be given only once")
            kinds.add(word)
            clauses.append((who, points, until))
        else:
            raise GtpFailure(f"unsupported analyze argument {word[:40]!r}")
    if len(kinds) > 1:
        raise GtpFailure("avoid and allow cannot be mixed")
    if interval == 0:
        interval = DEFAULT_INTERVAL_CS
    return AnalyzeArgs(color, interval / 100.0, Restriction("allow" in kinds, tuple(clauses)),
                       minmoves)


def _vertices(text: str, size: int, word: str) -> list[int]:
    """A comma-separated vertex list (pass allowed, as Leela Zero allows it)."""
    names = [name for name in text.split(",") if name]
    if not names:
        raise GtpFailure(f"{word}: no vertices")
    return [to_vertex(name, size, f"{word}: invalid vertex {name[:20]!r}") for name in names]


def _count(text: str, name: str) -> int:
    return to_int(text, f"{name} not an integer", 0, MAX_COUNT,
                  f"{name} out of range (0 to {MAX_COUNT})")


def info_line(candidates: list[MoveInfo], size: int, floats: bool = False) -> str:
    """One report (no trailing newline), Leela Zero's format or, with `floats`, win rates in
    [0, 1]; '' without candidates."""
    rate = fraction if floats else _permyriad
    parts = []
    for order, info in enumerate(candidates):
        pv = info.pv or (info.move,)
        score = f"scoreLead {info.score_lead:.2f} " if floats and info.score_lead is not None \
            else ""
        parts.append(
            f"info move {to_gtp(info.move, size)} visits {int(info.visits)} "
            f"winrate {rate(info.winrate)} {score}prior {rate(info.prior)} "
            f"lcb {rate(info.lcb)} order {order} pv "
            + " ".join(to_gtp(m, size) for m in pv))
    return " ".join(parts)


def _permyriad(p: float) -> int:
    return min(10000, max(0, int(round(float(p) * 10000))))


def fraction(p: float) -> str:
    """A probability as Sabaki's and KataGo's lines show it: '0.5312'."""
    return f"{_permyriad(p) / 10000:.4f}"


Format = Callable[[list[MoveInfo]], str]  # the shown candidates -> one report, '' for none


def reporter(emit: Callable[[str], None], position: Position, restriction: Restriction,
             floats: bool, line: Format | None = None) -> Callable[[list[MoveInfo]], None]:
    """A `report` callback that writes the permitted candidates as one info line (info_line's,
    or `line`'s: kata-analyze's)."""
    def report(candidates: list[MoveInfo]) -> None:
        shown = restriction.filter(list(candidates), position.to_play)
        text = line(shown) if line is not None else info_line(shown, position.rules.size,
                                                              floats)
        if text:
            emit(text + "\n")
    return report


class Analysis:
    """One running analyze command: a thread calling player.analyze, writing through `emit`."""

    def __init__(self, player: Player, position: Position, interval: float,
                 emit: Callable[[str], None], log: Callable[[str], None],
                 restriction: Restriction = Restriction(), floats: bool = False,
                 line: Format | None = None, enough: Callable[[], bool] | None = None):
        """`enough`, asked at each report: True ends the search early (pondering's cap)."""
        self._player = player
        self._enough = enough
        self._position = position
        self._interval = interval
        self._log = log
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        self._write = reporter(emit, position, restriction, floats, line)
        self._thread = threading.Thread(target=self._run, name="lz-analyze", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self._player.analyze(self._position, self._report, self._stop, self._interval)
        except Exception as err:  # a broken search must not take the engine down
            self._log(f"analysis failed: {err!r}")

    def _report(self, candidates: list[MoveInfo]) -> None:
        if self._enough is not None and self._enough():
            self._stop.set()
        with self._lock:
            if not self._closed:
                self._write(candidates)

    def stop(self) -> None:
        """Stop the search and wait for it; after this no report is written."""
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(JOIN_TIMEOUT)
        with self._lock:
            self._closed = True
        if self._thread.is_alive():
            self._log("analysis did not stop within the timeout; its reports are dropped")


def first_permitted(candidates: tuple[MoveInfo, ...] | list[MoveInfo], color: int,
                    restriction: Restriction) -> int:
    """The best candidate `restriction` permits, else PASS."""
    for info in candidates:
        if restriction.permits(info.move, color):
            return info.move
    return PASS


def decide(player: Player, position: Position, limits: SearchLimits,
           restriction: Restriction = Restriction(),
           report: Callable[[list[MoveInfo]], None] | None = None,
           interval: float = 1.0) -> Decision:
    """The player's decision for position.to_play, among the moves `restriction` permits, with
    `report` called every `interval` seconds of the search and once at its end.

    Live reports need a search that takes a report callback: an MCTS player's public `mcts`
    does (search, then choose over the permitted candidates; where the search visited none of
    them, the first permitted legal point, as for other players). The engine runs one command
    at a time and stops any analysis before the next, so no other search is using that tree.
    Other players give one report, of their decision's candidates."""
    mcts = getattr(player, "mcts", None)
    color = position.to_play
    if isinstance(mcts, TreeSearch):
        candidates = mcts.search(position, limits, report=report, report_every=interval)
        if report is not None:
            report(candidates)
        permitted = restriction.filter(candidates, color)
        if permitted or not candidates:
            return mcts.choose(position, permitted)
        decision = Decision(candidates[0].move, candidates[0].winrate, tuple(candidates))
    else:
        decision = player.genmove(position, limits)
        if report is not None:
            report(list(decision.candidates))
    if decision.move != RESIGN and not restriction.permits(decision.move, color):
        move = first_permitted(decision.candidates, color, restriction)
        if move == PASS:  # no permitted candidate: the first permitted legal point
            legal = np.flatnonzero(position.legal_moves()[:-1])
            move = first_permitted([MoveInfo(int(p), 0, 0.0, 0.0, 0.0) for p in legal], color,
                                   restriction)
        return Decision(move, decision.winrate, decision.candidates)
    return decision
