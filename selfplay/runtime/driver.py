"""The parts every driver loop shares: the progress clock, resuming a run directory, the
checkpoint that names its replay snapshot, and the automatic recovery from a lost learner.

A driver (Go self-play, RL policy, value data, teacher games, Ape-X, single-process DQN)
fills in what is its own: what a result is, what its counters are, what its status line
says. What is written here once:

    Progress       when the next progress line is due, and rates / ETA since the session
                   began (a resumed run's rate counts only its own work)
    crossed        whether a counter passed a multiple of `every` (step-driven reports)
    open_run       RunDir + newest checkpoint + counters as the checkpoint left them
    save_checkpoint  replay snapshot first, then the checkpoint that names it, then the
                   older snapshots go: a kill at any instant leaves a consistent pair
    run_recovering  run an attempt; after ComponentLost, resume on a new backend (the run
                   directory locked throughout)
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from agents.cpu import flush_denormals
from selfplay.rundir import RunDir, RunLock
from selfplay.runtime.api import Backend, with_recovery
from selfplay.runtime.settings import RuntimeSettings

T = TypeVar("T")
K = TypeVar("K")


class Progress:
    """The clock of a driver's progress line: `due()` is true once every `every` seconds
    (the first time `every` seconds after the start), or when forced; `rate(done)` is the
    work per second this session, given the counter's value now (`start` its value then)."""

    def __init__(self, every: float, start: float = 0.0) -> None:
        self.every = every
        self.started = time.monotonic()
        self.start = start
        self.next = self.started + every

    def due(self, force: bool = False) -> bool:
        now = time.monotonic()
        if not force and now < self.next:
            return False
        self.next = now + self.every
        return True

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)

    def rate(self, done: float, start: float | None = None) -> float:
        """(done - start) / elapsed seconds; `start` defaults to the counter's first value."""
        return (done - (self.start if start is None else start)) / self.elapsed

    def eta(self, done: float, total: float) -> str:
        """Time left at this session's rate, as '3.5 min' ('?' before any progress)."""
        rate = self.rate(done)
        return f"{(total - done) / rate / 60:.1f} min" if rate > 0 else "?"


def crossed(before: int, after: int, every: int) -> bool:
    """Whether a counter going from `before` to `after` passed a multiple of `every`."""
    return every > 0 and after // every > before // every


def open_run(run_dir: str | Path, identity: dict[str, Any], resume: bool,
             counters: Callable[..., K], changeable: frozenset[str] = frozenset()
             ) -> tuple[RunDir, dict[str, Any] | None, K]:
    """The run directory (RunDirError if it cannot be used as asked), its newest checkpoint
    (None: a fresh run, or a resumed one that never got to its first), and the counters it
    saved as state["counters"] (fresh ones without a checkpoint)."""
    run = RunDir(run_dir, identity, resume=resume, changeable=changeable)
    state = run.load_checkpoint() if resume else None
    return run, state, counters(**state["counters"]) if state else counters()


def save_checkpoint(run: RunDir, state: dict[str, Any], step: int,
                    replay: Callable[[Path], None] | None = None, name: str = "") -> Path:
    """Write the checkpoint of `step`. With `replay`, first `replay(RUN/replay/<name>)`
    snapshots the replay (the state names it), and after the checkpoint every other
    snapshot goes: only the newest checkpoint is ever resumed from."""
    root = run.path / "replay"
    if replay is not None:
        replay(root / name)
    path = run.save_checkpoint(state, step)
    if replay is not None:
        for old in root.iterdir():
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
    return path


def counters_state(counters: Any, backend: Backend) -> dict[str, Any]:
    """A dataclass of counters as a checkpoint keeps it (plain numbers: loads with
    weights_only), with the backend's next actor id, so a resumed run's actors are new."""
    counters.next_actor_id = backend.next_actor_id
    return dataclasses.asdict(counters)


def run_recovering(attempt: Callable[[bool], T], run_dir: str | Path, resume: bool,
                   runtime: RuntimeSettings, backend: Backend | None,
                   log: Callable[[str], None] | None) -> tuple[T, int]:
    """Run `attempt(resume)` on a backend it makes; after a lost learner or replay shard,
    again with resume=True, up to runtime.max_recoveries times (not at all when the caller
    passed its own `backend`: a new one cannot be made). The run directory stays locked
    from the first attempt to the last (RunLock). Returns (result, recoveries)."""
    flush_denormals()  # before torch starts its threads: agents/cpu.py
    limit = 0 if backend is not None else runtime.max_recoveries
    with RunLock(run_dir, create=not resume):
        return with_recovery(attempt, resume, limit, log)

