"""Go self-play on the runtime: actors play games, replay fills, a learner trains, weights flow.

    actors (GoSelfPlayActor x N) --games--> driver --SGF--> RUN/games/game-000001.sgf
                                              |---examples--> replay shards
    learner (GoLearner) <--batches-- replay;  every `publish_every` steps: weights -> actors

The driver (`run_selfplay`) is the only place that touches the run directory, so actors and
learner can run anywhere in a cluster. Training is tied to data, not to the clock: each game
owes `train_steps_per_game` learner steps (paid once replay holds `min_replay` positions), so
a run does the same work however fast its actors are.

Checkpoints every `checkpoint_every` games hold the learner (net, optimizer, steps), the
counters, the shard-choice RNG and, with `save_replay`, a replay snapshot under RUN/replay/
named after the checkpoint, all written atomically; a run killed at any instant (SIGKILL
included) resumes from the newest checkpoint with `resume=True`. Games in flight when it died
are played again. The same resume happens by itself when the learner or a replay shard dies
mid-run (ComponentLost): the backend is rebuilt and the run goes on from its last checkpoint,
up to `runtime.max_recoveries` times. Ctrl-C or SIGTERM (selfplay/stopping.py) ends the run
after the games that are in, with a checkpoint; the summary's `stopped_by` names the signal.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from envs.checks import check_ranges
from envs.go import DEFAULT_KOMI, Rules
from selfplay.go.actor import GoActorSettings, GoSelfPlayActor, make_replay
from selfplay.go.games import drop_games_after, save_game
from selfplay.go.learner import GoLearner
from selfplay.rundir import RunDir
from selfplay.runtime import Backend, RuntimeSettings, make_backend, run_identity
from selfplay.runtime.driver import (
    Progress,
    counters_state,
    open_run,
    run_recovering,
    save_checkpoint,
)
from selfplay.stopping import StopOnSignal

# Besides the runtime settings, what a resumed run may change: how long and how chatty.
RESUMABLE = ("games", "games_per_call", "progress_every")


@dataclass(frozen=True)
class SelfPlayConfig:
    """A Go self-play run (configs/go/selfplay_9x9.yaml holds the values)."""

    size: int = 9
    komi: float = DEFAULT_KOMI
    visits: int = 32               # MCTS simulations per move
    max_moves: int = 0             # 0: 3 * size * size, then scored as it stands
    dirichlet_alpha: float = 0.3
    dirichlet_weight: float = 0.25
    temperature: float = 1.0
    temperature_moves: int = 8     # moves sampled by visit count (then the most visited)
    heavy_playouts: bool = True
    games: int = 100
    games_per_call: int = 1        # games an actor plays per run() call
    replay_capacity: int = 100_000  # positions, over all shards
    replay_shards: int = 1
    save_replay: bool = True       # snapshot replay with each checkpoint
    batch_size: int = 64
    lr: float = 0.01
    train_steps_per_game: int = 4
    min_replay: int = 256          # positions before the first learner step
    publish_every: int = 10        # learner steps between weight broadcasts
    checkpoint_every: int = 20     # games
    seed: int = 0
    progress_every: float = 5.0    # seconds between progress lines
    runtime: RuntimeSettings = RuntimeSettings()

    def __post_init__(self) -> None:
        check_ranges(self, at_least_1=("size", "visits", "games", "games_per_call",
                                       "replay_capacity", "replay_shards", "batch_size",
                                       "publish_every", "checkpoint_every"),
                     # 0: no move cap / no noise / the most visited move / no training
                     at_least_0=("max_moves", "dirichlet_alpha", "temperature",
                                 "temperature_moves", "train_steps_per_game", "min_replay",
                                 "seed", "progress_every"),
                     positive=("lr",), probability=("dirichlet_weight",))
        Rules(size=self.size, komi=self.komi)  # a GoError (a ValueError) for a bad one
        if self.replay_capacity < self.replay_shards:
            raise ValueError("replay_capacity must be at least replay_shards")
        if self.batch_size % self.runtime.learners:
            raise ValueError(f"batch_size {self.batch_size} must split evenly over "
                             f"{self.runtime.learners} learners")

    def actor_settings(self) -> GoActorSettings:
        return GoActorSettings(
            size=self.size, komi=self.komi, visits=self.visits, max_moves=self.max_moves,
            dirichlet_alpha=self.dirichlet_alpha, dirichlet_weight=self.dirichlet_weight,
            temperature=self.temperature, temperature_moves=self.temperature_moves,
            heavy_playouts=self.heavy_playouts, seed=self.seed)


@dataclass
class Counters:
    """Progress that a checkpoint keeps (plain ints, so it loads with weights_only)."""

    games: int = 0
    positions: int = 0
    steps: int = 0             # learner steps taken
    owed: int = 0              # learner steps earned by games but not yet taken
    published: int = 0         # learner step of the last broadcast
    checkpointed: int = 0      # games at the last checkpoint
    checkpointed_steps: int = 0  # learner steps at the last checkpoint
    next_actor_id: int = 0
    max_version_seen: int = -1  # newest weight version an actor played a finished game with


def _save_game(run: RunDir, index: int, game: dict[str, Any], rules: Rules) -> Path:
    """One self-play game as RUN/games/game-NNNNNN.sgf."""
    return save_game(run.games, index, rules, game["moves"], game["result"], "rlgo-selfplay",
                     f"rlgo self-play: actor {game['actor_id']} game {game['game']}, "
                     f"weights version {game['weights_version']}")


class _Status:
    """Rates and recent losses for the progress line and metrics.csv."""

    def __init__(self, counters: Counters, every: float) -> None:
        self.games = Progress(every, counters.games)
        self.steps0 = counters.steps
        self.losses: list[dict[str, float]] = []

    def fields(self, c: Counters, replay: int, version: int, restarts: int) -> dict[str, float]:
        out = {"games": c.games, "positions": c.positions, "replay": replay,
               "learner_steps": c.steps, "weights_version": version, "restarts": restarts,
               "games_per_s": self.games.rate(c.games),
               "steps_per_s": self.games.rate(c.steps, self.steps0)}
        if self.losses:
            for key in self.losses[-1]:
                out[key] = float(np.mean([m[key] for m in self.losses[-20:]]))
        return out


def format_status(f: dict[str, float], total_games: int) -> str:
    loss = f" loss {f['loss']:.3f}" if "loss" in f else ""
    return (f"games {f['games']:.0f}/{total_games} ({f['games_per_s']:.2f}/s) | replay "
            f"{f['replay']:.0f} positions | learner {f['learner_steps']:.0f} steps "
            f"({f['steps_per_s']:.1f}/s){loss} | weights v{f['weights_version']:.0f}"
            + (f" | {f['restarts']:.0f} actors replaced" if f["restarts"] else ""))


def run_selfplay(config: SelfPlayConfig, run_dir: str | Path, resume: bool = False,
                 progress: Callable[[str], None] | None = print,
                 backend: Backend | None = None,
                 on_game: Callable[[int, Backend], None] | None = None) -> dict[str, Any]:
    """Play `config.games` self-play games into `run_dir`, training as they arrive.

    resume:   continue from the newest checkpoint in run_dir (RunDirError if the run's
              config differs in anything but its runtime settings and RESUMABLE).
    backend:  a backend to use instead of make_backend(config.runtime) (it is closed at the
              end; no automatic recovery then, as a new one cannot be made).
    on_game:  called with (games finished, backend) after each game (tests kill actors here).
    Returns a summary: the final counters and status fields, the versions seen, restarts,
    recoveries and `stopped_by` (the signal that ended the run early, else None).
    """
    with StopOnSignal() as stop:
        summary, recoveries = run_recovering(
            lambda again: _run(config, run_dir, again, progress, backend, on_game, stop),
            run_dir, resume, config.runtime, backend, progress)
    return {**summary, "recoveries": recoveries}


def _run(config: SelfPlayConfig, run_dir: str | Path, resume: bool,
         progress: Callable[[str], None] | None, backend: Backend | None,
         on_game: Callable[[int, Backend], None] | None,
         stop: StopOnSignal) -> dict[str, Any]:
    """One attempt of run_selfplay, on one backend; a `stop` request ends it early, as a
    finished run ends (steps paid, weights published, a checkpoint)."""
    run, state, counters = open_run(run_dir, run_identity(config, RESUMABLE), resume, Counters)
    # the records and metrics rows past the checkpoint (past game 0 without one: those of a
    # first attempt that was killed) belong to no counters: they are played and logged again
    drop_games_after(run.games, counters.games)
    rules = Rules(size=config.size, komi=config.komi)
    backend = backend or make_backend(config.runtime, config.seed, config.games_per_call)
    metrics = run.metrics(resume_step=counters.games)
    try:
        backend.start(functools.partial(GoSelfPlayActor, config.actor_settings()),
                      functools.partial(GoLearner, config.size, lr=config.lr,
                                        seed=config.seed),
                      functools.partial(make_replay, config.size,
                                        config.replay_capacity // config.replay_shards,
                                        config.seed),
                      actors=config.runtime.actors, shards=config.replay_shards,
                      first_actor_id=counters.next_actor_id)
        if state:
            backend.load_learner_state(state["backend"])
            if state.get("replay"):
                backend.load_replay(run.path / state["replay"])
            backend.publish()
        status = _Status(counters, config.progress_every)
        versions: set[int] = set()

        def fields() -> dict[str, float]:
            return status.fields(counters, backend.replay_size(),
                                 getattr(backend, "version", -1), backend.restarts)

        def report(force: bool = False) -> None:
            if status.games.due(force):
                now = fields()
                metrics.log(counters.games, **now)
                if progress is not None:
                    progress(format_status(now, config.games))

        while counters.games < config.games and not stop.requested:
            for _, game in backend.poll(0.5, config.games - counters.games):
                if counters.games >= config.games:
                    break  # a surplus game from a call issued before the last was counted
                counters.games += 1
                _save_game(run, counters.games, game, rules)
                backend.add(game["examples"])
                counters.positions += game["positions"]
                counters.owed += config.train_steps_per_game
                counters.max_version_seen = max(counters.max_version_seen,
                                                game["weights_version"])
                versions.add(game["weights_version"])
                if on_game is not None:
                    on_game(counters.games, backend)
            _train(backend, config, counters, status)
            if counters.games - counters.checkpointed >= config.checkpoint_every:
                _checkpoint(run, backend, config, counters)
            report()
        _train(backend, config, counters, status)
        if counters.steps != counters.published:
            backend.publish()
            counters.published = counters.steps
        if (counters.checkpointed, counters.checkpointed_steps) != (counters.games,
                                                                     counters.steps):
            _checkpoint(run, backend, config, counters)
        report(force=True)
        stopped_by = stop.signal_name if counters.games < config.games else None
        return {**fields(), "counters": dataclasses.asdict(counters),
                "versions_seen": sorted(versions), "run_dir": str(run.path),
                "stopped_by": stopped_by}
    finally:
        backend.close()
        metrics.close()


def _train(backend: Backend, config: SelfPlayConfig, counters: Counters,
           status: _Status) -> None:
    """Pay the learner steps the finished games earned; broadcast weights when due."""
    if counters.owed <= 0 or backend.replay_size() < config.min_replay:
        return
    while counters.owed > 0:
        steps = min(counters.owed,
                    max(1, config.publish_every - (counters.steps - counters.published)))
        status.losses.extend(backend.train(steps, config.batch_size))
        status.losses = status.losses[-100:]
        counters.steps += steps
        counters.owed -= steps
        if counters.steps - counters.published >= config.publish_every:
            backend.publish()
            counters.published = counters.steps


def _checkpoint(run: RunDir, backend: Backend, config: SelfPlayConfig,
                counters: Counters) -> None:
    """The learner, the counters and (with save_replay) a replay snapshot it names."""
    counters.checkpointed = counters.games
    counters.checkpointed_steps = counters.steps
    name = f"games-{counters.games:09d}"
    state = {"backend": backend.learner_state(), "counters": counters_state(counters, backend),
             "replay": f"replay/{name}" if config.save_replay else None}
    save_checkpoint(run, state, counters.games,
                    backend.save_replay if config.save_replay else None, name)
