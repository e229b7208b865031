"""Any GTP engine (GNU Go, KataGo, Leela Zero, ...) as a Player, for `rlgo go play --engine`.

The GUI owns the game; the engine only answers questions about positions. Before each question
the adapter makes the engine's board match the position: when the position continues the
game the engine already has, it sends just the new moves, otherwise it replays everything
(boardsize, clear_board, komi, the handicap or setup stones, then every move). Moves come back
as `genmove` answers; dead stones as `final_status_list dead`. The time per move becomes
`time_settings 0 S 1` (S seconds of byo-yomi for each move), which engines such as GNU Go
honour roughly; the GTP read timeout is set well above it so a slow engine is not killed early.
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import shutil
import threading
from collections.abc import Callable

import numpy as np

from agents.alphago.search.player import Decision, MoveInfo, SearchLimits
from envs.go import BLACK, WHITE, GoError, Position, from_gtp, to_gtp
from envs.go.coords import RESIGN
from envs.go.gnugo import find_gnugo
from envs.go.gtp_client import GtpClient, GtpError

_LETTER = {BLACK: "b", WHITE: "w"}


def engine_argv(command: str) -> list[str]:
    """The engine's argv from a shell-like command line. A bare `gnugo` that is not on PATH is
    looked for where Debian puts it (/usr/games)."""
    argv = shlex.split(command)
    if not argv:
        raise GoError("--engine needs a command, e.g. --engine \"gnugo --mode gtp\"")
    if shutil.which(argv[0]) is None and os.path.basename(argv[0]) == "gnugo":
        found = find_gnugo()
        if found:
            argv[0] = found
    return argv


class ExternalGtpPlayer:
    """A Player (agents.alphago.search.player) over one external GTP engine process.

    Calls are serialised by a lock (GTP is one conversation), so a search the GUI abandoned
    finishes before the next command goes out."""

    def __init__(self, command: str, timeout: float = 30.0):
        self.command = command
        self.client = GtpClient(engine_argv(command), timeout=timeout)
        self._lock = threading.Lock()
        self._setup: tuple | None = None  # what the engine's game started from
        self._moves: list[tuple[int, int]] = []  # the moves the engine has played since
        self._seconds: float | None = None
        try:
            self.name = self.client.send("name").strip() or "gtp-engine"
        except GtpError:
            self.name = "gtp-engine"

    # ---- the Player protocol -------------------------------------------------------------------

    def genmove(self, position: Position, limits: SearchLimits) -> Decision:
        with self._lock:
            self._sync(position)
            self._time_settings(limits.seconds)
            color = position.to_play
            seconds = limits.seconds if limits.seconds is not None else 10.0
            answer = self.client.send(f"genmove {_LETTER[color]}",
                                      timeout=max(self.client.timeout or 0, 5 * seconds + 30))
            move = from_gtp(answer.strip(), position.rules.size)
            if move != RESIGN:
                self._moves.append((color, move))
            return Decision(move)

    def dead_stones(self, position: Position) -> np.ndarray:
        with self._lock:
            self._sync(position)
            answer = self.client.send("final_status_list dead", timeout=120)
        points = [from_gtp(v, position.rules.size) for v in answer.split()]
        return np.array(sorted(points), dtype=np.int64)

    def analyze(self, position: Position, report: Callable[[list[MoveInfo]], None],
                stop: threading.Event, interval: float) -> None:
        """GTP has no standard analysis command: no candidates to show."""
        report([])
        stop.wait()

    def clear(self) -> None:
        with self._lock:
            self._setup = None
            self._moves = []

    def close(self) -> None:
        """Quit the engine; kill it at once if it is busy (closing must not wait a search)."""
        if self._lock.acquire(blocking=False):
            try:
                self.client.close(grace=1.0)
            finally:
                self._lock.release()
        else:
            with contextlib.suppress(OSError):
                self.client.process.kill()

    # ---- keeping the engine's board in step ----------------------------------------------------

    def _sync(self, position: Position) -> None:
        root = position.root()
        rules = root.rules
        black = tuple(int(p) for p in np.flatnonzero(root.board == BLACK))
        white = tuple(int(p) for p in np.flatnonzero(root.board == WHITE))
        setup = (rules.size, rules.komi, black, white, root.to_play)
        moves = [(c, m) for c, m in position.moves() if m != RESIGN]
        size = rules.size
        if setup == self._setup and moves[:len(self._moves)] == self._moves:
            commands = []
            todo = moves[len(self._moves):]
        else:
            commands = [f"boardsize {size}", "clear_board", f"komi {rules.komi:g}"]
            if black and not white and root.to_play == WHITE and len(black) >= 2:
                commands.append("set_free_handicap " + " ".join(to_gtp(p, size) for p in black))
            else:
                commands += [f"play b {to_gtp(p, size)}" for p in black]
                commands += [f"play w {to_gtp(p, size)}" for p in white]
            todo = moves
        commands += [f"play {_LETTER[c]} {to_gtp(m, size)}" for c, m in todo]
        self._setup = None  # unknown until the commands succeed
        self.client.send_many(commands)
        self._setup, self._moves = setup, moves

    def _time_settings(self, seconds: float | None) -> None:
        if seconds is None or seconds == self._seconds:
            return
        with contextlib.suppress(GtpError):  # optional in GTP; engines without it just play
            self.client.send(f"time_settings 0 {max(1, math.ceil(seconds))} 1")
        self._seconds = seconds
