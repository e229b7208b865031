"""Live analysis for GUIs (Sabaki, Lizzie): Leela Zero's `lz-analyze`.

`lz-analyze [color] [interval] [interval N] [minmoves N]` answers `=` at once, then the player
searches in a background thread and every `interval` centiseconds one line is printed:

    info move D4 visits 120 winrate 5312 prior 1840 lcb 5120 order 0 pv D4 Q16 info move ...

(every candidate on one line, win rate, prior and lcb in 1/10000 for the side to move). Any new
input line stops the search; the blank line that ends the response comes before the answer to
that line. `minmoves` is accepted and ignored: every candidate the player reports is shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from agents.alphago.search.player import MoveInfo, Player
from envs.go import Position, to_gtp

from .protocol import GtpFailure, to_color, to_int

DEFAULT_INTERVAL_CS = 100  # Leela Zero's default: one report per second
MAX_COUNT = 360_000  # an interval of an hour (and minmoves far beyond any board)
JOIN_TIMEOUT = 10.0  # seconds to wait for a player that is slow to notice `stop`


def parse_args(args: tuple[str, ...], to_play: int) -> tuple[int, float]:
    """(colour, interval in seconds) from lz-analyze's arguments."""
    color, interval = to_play, DEFAULT_INTERVAL_CS
    words = list(args)
    if words and words[0].lower() in ("b", "black", "w", "white"):
        color = to_color(words.pop(0))
    while words:
        word = words.pop(0).lower()
        if word.isdigit() and word.isascii():
            interval = _count(word, "interval")
        elif word in ("interval", "minmoves") and words:
            value = _count(words.pop(0), word)
            if word == "interval":
                interval = value
        else:
            raise GtpFailure(f"unsupported lz-analyze argument {word[:40]!r}")
    if interval == 0:
        interval = DEFAULT_INTERVAL_CS
    return color, interval / 100.0


def _count(text: str, name: str) -> int:
    return to_int(text, f"{name} not an integer", 0, MAX_COUNT,
                  f"{name} out of range (0 to {MAX_COUNT})")


def info_line(candidates: list[MoveInfo], size: int) -> str:
    """One report in Leela Zero's format (no trailing newline); '' without candidates."""
    parts = []
    for order, info in enumerate(candidates):
        pv = info.pv or (info.move,)
        parts.append(
            f"info move {to_gtp(info.move, size)} visits {int(info.visits)} "
            f"winrate {_permyriad(info.winrate)} prior {_permyriad(info.prior)} "
            f"lcb {_permyriad(info.lcb)} order {order} pv "
            + " ".join(to_gtp(m, size) for m in pv))
    return " ".join(parts)


def _permyriad(p: float) -> int:
    return min(10000, max(0, int(round(float(p) * 10000))))


class Analysis:
    """One running lz-analyze: a thread calling player.analyze, writing through `emit`."""

    def __init__(self, player: Player, position: Position, interval: float,
                 emit: Callable[[str], None], log: Callable[[str], None]):
        self._player = player
        self._position = position
        self._interval = interval
        self._emit = emit
        self._log = log
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="lz-analyze", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self._player.analyze(self._position, self._report, self._stop, self._interval)
        except Exception as err:  # a broken search must not take the engine down
            self._log(f"analysis failed: {err!r}")

    def _report(self, candidates: list[MoveInfo]) -> None:
        line = info_line(list(candidates), self._position.rules.size)
        with self._lock:
            if line and not self._closed:
                self._emit(line + "\n")

    def stop(self) -> None:
        """Stop the search and wait for it; after this no report is written."""
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(JOIN_TIMEOUT)
        with self._lock:
            self._closed = True
        if self._thread.is_alive():
            self._log("analysis did not stop within the timeout; its reports are dropped")
