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
up to `max_recoveries` times.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from agents.cpu import flush_denormals
from envs.go import Rules
from envs.go.sgf import GameRecord, save_sgf_file
from selfplay.go.actor import GoActorSettings, GoSelfPlayActor, make_replay
from selfplay.go.learner import GoLearner
from selfplay.rundir import CHECKPOINT, RunDir
from selfplay.runtime import Backend, LocalBackend, with_recovery

# Where and how fast a run goes, not what it computes: these may change on --resume.
PLACEMENT_KEYS = ("games", "backend", "address", "num_cpus", "actors", "actor_cpus",
                  "learners", "learner_cpus", "games_per_call", "max_in_flight",
                  "progress_every", "max_recoveries")


@dataclass(frozen=True)
class SelfPlayConfig:
    """A Go self-play run (configs/go/selfplay_9x9.yaml holds the values)."""

    size: int = 9
    komi: float = 7.0
    visits: int = 32               # MCTS simulations per move
    max_moves: int = 0             # 0: 3 * size * size, then scored as it stands
    dirichlet_alpha: float = 0.3
    dirichlet_weight: float = 0.25
    temperature: float = 1.0
    temperature_moves: int = 8     # moves sampled by visit count (then the most visited)
    heavy_playouts: bool = True
    games: int = 100
    backend: Literal["ray", "local"] = "ray"
    address: str = ""              # "": embedded Ray; "auto", "host:port", "ray://host:port"
    num_cpus: int = 0              # embedded Ray's CPUs (0: all cores)
    actors: int = 0                # 0: as many as the CPUs beside the learner allow
    actor_cpus: float = 1.0
    learners: int = 1              # data-parallel learner ranks (ray backend; batch split)
    learner_cpus: float = 1.0      # per learner
    games_per_call: int = 1
    max_in_flight: int = 2
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
    max_recoveries: int = 3        # automatic resumes after the learner or a shard died

    def __post_init__(self) -> None:
        for name in ("size", "visits", "games", "learners", "games_per_call", "max_in_flight",
                     "replay_capacity", "replay_shards", "batch_size", "publish_every",
                     "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.replay_capacity < self.replay_shards:
            raise ValueError("replay_capacity must be at least replay_shards")
        if self.backend == "local" and (self.address or self.learners > 1):
            raise ValueError("address and learners > 1 need backend 'ray', not 'local'")
        if self.batch_size % self.learners:
            raise ValueError(f"batch_size {self.batch_size} must split evenly over "
                             f"{self.learners} learners")

    def actor_settings(self) -> GoActorSettings:
        return GoActorSettings(
            size=self.size, komi=self.komi, visits=self.visits, max_moves=self.max_moves,
            dirichlet_alpha=self.dirichlet_alpha, dirichlet_weight=self.dirichlet_weight,
            temperature=self.temperature, temperature_moves=self.temperature_moves,
            heavy_playouts=self.heavy_playouts, seed=self.seed)


def run_identity(config: SelfPlayConfig) -> dict[str, Any]:
    """The config as RUN/config.yaml stores it: what a resumed run must keep the same."""
    data = dataclasses.asdict(config)
    return {k: v for k, v in data.items() if k not in PLACEMENT_KEYS}


def make_backend(config: SelfPlayConfig) -> Backend:
    """LocalBackend or RayBackend as the config says (RuntimeBackendError if Ray cannot)."""
    if config.backend == "local":
        return LocalBackend(games_per_call=config.games_per_call, seed=config.seed)
    from selfplay.runtime.ray_backend import RayBackend

    return RayBackend(address=config.address or None, num_cpus=config.num_cpus or None,
                      actor_cpus=config.actor_cpus, learner_cpus=config.learner_cpus,
                      learners=config.learners,
                      games_per_call=config.games_per_call,
                      max_in_flight=config.max_in_flight, seed=config.seed)


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


def save_game(run: RunDir, index: int, game: dict[str, Any], rules: Rules) -> Path:
    """Write one self-play game as RUN/games/game-NNNNNN.sgf (atomically)."""
    comment = (f"rlgo self-play: actor {game['actor_id']} game {game['game']}, weights "
               f"version {game['weights_version']}")
    record = GameRecord(rules=rules, moves=[tuple(m) for m in game["moves"]],
                        result=game["result"], player_black="rlgo-selfplay",
                        player_white="rlgo-selfplay", extra={"GC": [comment]})
    path = run.games / f"game-{index:06d}.sgf"
    save_sgf_file(path, record)
    return path


class _Status:
    """Rates and recent losses for the progress line and metrics.csv."""

    def __init__(self, counters: Counters) -> None:
        self.start = time.monotonic()
        self.games0, self.steps0 = counters.games, counters.steps
        self.losses: list[dict[str, float]] = []
        self.next_report = self.start

    def fields(self, c: Counters, replay: int, version: int, restarts: int) -> dict[str, float]:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        out = {"games": c.games, "positions": c.positions, "replay": replay,
               "learner_steps": c.steps, "weights_version": version, "restarts": restarts,
               "games_per_s": (c.games - self.games0) / elapsed,
               "steps_per_s": (c.steps - self.steps0) / elapsed}
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
              config differs in anything but PLACEMENT_KEYS).
    backend:  a backend to use instead of make_backend(config) (it is closed at the end;
              no automatic recovery then, as a new one cannot be made).
    on_game:  called with (games finished, backend) after each game (tests kill actors here).
    Returns a summary: the final counters and status fields, the versions seen, restarts
    and recoveries.
    """
    flush_denormals()  # before torch starts its threads: agents/cpu.py
    summary, recoveries = with_recovery(
        lambda again: _run(config, run_dir, again, progress, backend, on_game),
        resume, 0 if backend is not None else config.max_recoveries, progress)
    return {**summary, "recoveries": recoveries}


def _run(config: SelfPlayConfig, run_dir: str | Path, resume: bool,
         progress: Callable[[str], None] | None, backend: Backend | None,
         on_game: Callable[[int, Backend], None] | None) -> dict[str, Any]:
    """One attempt of run_selfplay, on one backend."""
    run = RunDir(run_dir, run_identity(config), resume=resume)
    state = run.load_checkpoint() if resume else None
    counters = Counters(**state["counters"]) if state else Counters()
    if resume:
        _drop_games_after(run, counters.games)
    rules = Rules(size=config.size, komi=config.komi)
    backend = backend or make_backend(config)
    # resumed: drop the metrics rows logged past the checkpoint (they are logged again)
    metrics = run.metrics(resume_step=counters.games if state else None)
    try:
        backend.start(functools.partial(GoSelfPlayActor, config.actor_settings()),
                      functools.partial(GoLearner, config.size, lr=config.lr,
                                        seed=config.seed),
                      functools.partial(make_replay, config.size,
                                        config.replay_capacity // config.replay_shards,
                                        config.seed),
                      actors=config.actors, shards=config.replay_shards,
                      first_actor_id=counters.next_actor_id)
        if state:
            backend.load_learner_state(state["backend"])
            if state.get("replay"):
                backend.load_replay(run.path / state["replay"])
            backend.publish()
        status = _Status(counters)
        versions: set[int] = set()

        def report(force: bool = False) -> None:
            now = time.monotonic()
            if not force and now < status.next_report:
                return
            status.next_report = now + config.progress_every
            fields = status.fields(counters, backend.replay_size(), getattr(
                backend, "version", -1), backend.restarts)
            metrics.log(counters.games, **fields)
            if progress is not None:
                progress(format_status(fields, config.games))

        while counters.games < config.games:
            for _, game in backend.poll(0.5, config.games - counters.games):
                if counters.games >= config.games:
                    break  # a surplus game from a call issued before the last was counted
                counters.games += 1
                save_game(run, counters.games, game, rules)
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
        fields = status.fields(counters, backend.replay_size(), getattr(backend, "version", -1),
                               backend.restarts)
        return {**fields, "counters": dataclasses.asdict(counters),
                "versions_seen": sorted(versions), "run_dir": str(run.path)}
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


def _drop_games_after(run: RunDir, games: int) -> None:
    """Remove SGF files of games the checkpoint does not count (played after it by a run
    that died): they are played again, and RUN/games always matches the counters."""
    for path in run.games.glob("game-*.sgf"):
        number = path.stem.removeprefix("game-")
        if number.isdigit() and int(number) > games:
            path.unlink(missing_ok=True)


def _checkpoint(run: RunDir, backend: Backend, config: SelfPlayConfig,
                counters: Counters) -> None:
    """Replay snapshot (optional) first, then the checkpoint that names it, then prune."""
    counters.checkpointed = counters.games
    counters.checkpointed_steps = counters.steps
    counters.next_actor_id = backend.next_actor_id
    replay = None
    if config.save_replay:
        replay = f"replay/games-{counters.games:09d}"
        backend.save_replay(run.path / replay)
    run.save_checkpoint({"backend": backend.learner_state(),
                         "counters": dataclasses.asdict(counters), "replay": replay},
                        counters.games)
    kept = {f"games-{int(m.group(1)):09d}" for p in run.checkpoint_paths()
            if (m := CHECKPOINT.match(p.name))}
    replay_root = run.path / "replay"
    if replay_root.is_dir():
        for folder in replay_root.iterdir():
            if folder.name.startswith("games-") and folder.name not in kept:
                shutil.rmtree(folder, ignore_errors=True)
