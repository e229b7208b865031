"""Engine calls off the GUI thread: a search takes seconds, and the window must keep drawing.

An `EngineWorker` runs one call (genmove, dead_stones) in a daemon thread and keeps its result
for the controller, which polls `done` once a frame. Nothing ever waits on a worker without a
timeout, and the threads are daemons, so closing the window mid-search cannot hang: searches
are bounded by the per-move time limit, and an abandoned worker's result is simply ignored.

An `AnalysisWorker` runs Player.analyze (the hint / analysis mode, pondering, the territory
overlay) until it is stopped, and keeps the search's latest candidates and ownership.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from agents.alphago.search.player import MoveInfo, Player, TreeSearch
from envs.go import Position


class EngineWorker:
    """`fn(*args)` in a daemon thread; `done` once it returned or raised."""

    def __init__(self, fn: Callable[..., Any], *args: Any, name: str = "rlgo-gui-engine"):
        self._fn = fn
        self._args = args
        self._value: Any = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn(*self._args)
        except BaseException as err:  # posted to the GUI thread, which shows it
            self._error = err
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to `timeout` seconds (tests and scripts; the GUI only polls)."""
        return self._done.wait(timeout)

    def result(self) -> Any:
        """The call's return value; re-raises its exception. Only once `done`."""
        if not self.done:
            raise RuntimeError("the engine is still working")
        if self._error is not None:
            raise self._error
        return self._value


class AnalysisWorker:
    """player.analyze(position) in a daemon thread until stop(); `candidates` holds the latest
    report (best first) for `position`, and `ownership` the search's (float32 [size*size],
    +1 Black owns; None for a player without an MCTS or an evaluator without ownership). Stops
    by itself after `max_seconds` to spare the CPU, or when `enough()` says so at a report.
    `prepare()` runs first, in the worker's thread (a new game's player.clear())."""

    def __init__(self, player: Player, position: Position, interval: float = 0.5,
                 max_seconds: float | None = 60.0, prepare: Callable[[], None] | None = None,
                 enough: Callable[[], bool] | None = None):
        self.position = position
        self.candidates: list[MoveInfo] = []
        self.ownership: np.ndarray | None = None
        self._mcts = getattr(player, "mcts", None)
        self._prepare, self._enough = prepare, enough
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(player, interval),
                                       name="rlgo-gui-analysis", daemon=True)
        self.thread.start()
        self._timer: threading.Timer | None = None
        if max_seconds is not None:
            self._timer = threading.Timer(max_seconds, self._stop.set)
            self._timer.daemon = True
            self._timer.start()

    def _run(self, player: Player, interval: float) -> None:
        try:
            if self._prepare is not None:
                self._prepare()
            player.analyze(self.position, self._report, self._stop, interval)
        except BaseException as err:  # shown as a message, never raised in the GUI thread
            self.error = err

    def _report(self, candidates: list[MoveInfo]) -> None:
        """In the search's thread, between its rounds: the tree is consistent here."""
        if isinstance(self._mcts, TreeSearch):
            owned = self._mcts.ownership()
            if owned is not None:
                self.ownership = owned.copy()  # one assignment, as candidates
        if self._enough is not None and self._enough():
            self._stop.set()
        if candidates or not self.candidates:
            self.candidates = list(candidates)  # one assignment: safe to read from the GUI

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def stop(self, wait: float = 0.0) -> None:
        """Ask the analysis to end; wait up to `wait` seconds for it to finish."""
        self._stop.set()
        if self._timer is not None:
            self._timer.cancel()
        if wait > 0:
            self.thread.join(wait)
