"""Closed Go self-play on the runtime: actors play with the best net, a learner trains the
candidate, a gate decides which candidate becomes the best.

    best net --broadcast--> actors (GoSelfPlayActor x N: MCTS over the net, games in lockstep)
        ^                      | games: visits, outcome, ownership, score --> replay shards
        |                      v                                            (sliding window)
    gate (gate.py) <-- candidate <-- learner (GoLearner: 8 symmetries) <-- batches

The driver (`run_selfplay`) is the only place that touches the run directory, so actors and
learner can run anywhere in a cluster. Training is tied to data, not to the clock: each game
owes `train_steps_per_game` learner steps (paid once replay holds `min_replay` positions), so a
run does the same work however fast its actors are. Every `gate_every` learner steps the
candidate plays the best in the driver's process (`gate_games` games at most, SPRT early stop,
promoted at `gate_threshold`); a winner becomes the best: RUN/networks/vNNNN.pt, a row of
RUN/ladder.csv (Elo with its interval), RUN/ladder.png, and a broadcast to the actors. Every
gate is a row of RUN/gates.csv.

The starting network (version 0) is `initial_weights`, else the shipped play net for the board
size, else (or with initial_weights "none") `bootstrap`: AlphaGo's route (the SL policy's
priors with rollouts, "sl"), the network-free engine ("rollouts"), or a random play net
("scratch"). A network's file meta carries its lifetime version and Elo, so a run that starts
from a committed best continues its ladder.

Checkpoints every `checkpoint_every` games, and after each promotion, hold the learner, the
counters (the best network's file among them), the shard-choice RNG and, with `save_replay`, a
replay snapshot, all written atomically; a run killed at any instant (SIGKILL included)
resumes from the newest checkpoint with `resume=True`, its ladder and gates cut back to it.
Games in flight when it died are played again. The same resume happens by itself when the
learner or a replay shard dies mid-run (ComponentLost), up to `runtime.max_recoveries` times.
Ctrl-C or SIGTERM (selfplay/stopping.py) ends the run after the games that are in, with a
checkpoint; the summary's `stopped_by` names the signal.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from envs.checks import check_ranges
from envs.go import DEFAULT_KOMI, Rules
from selfplay.go.actor import BOOTSTRAPS, GoActorSettings, GoSelfPlayActor, make_replay
from selfplay.go.games import drop_games_after, save_game
from selfplay.go.gate import Best, gate_and_promote, save_best
from selfplay.go.ladder import GateRule, Gates, Ladder, LadderRow
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
RESUMABLE = ("games", "games_per_call", "progress_every", "device")


@dataclass(frozen=True)
class SelfPlayConfig:
    """A Go self-play run (configs/go/selfplay_9x9.yaml holds the values)."""

    size: int = 9
    komi: float = DEFAULT_KOMI
    # the games (GoActorSettings)
    visits: int = 64               # MCTS simulations per move
    max_moves: int = 0             # 0: 3 * size * size, then scored as it stands
    games_in_parallel: int = 8     # games an actor searches in lockstep
    leaves: int = 8                # leaves per game per round
    c_puct: float = 1.5
    dirichlet_alpha: float = 0.3
    dirichlet_weight: float = 0.25
    temperature: float = 1.0
    temperature_moves: int = 8     # moves sampled by visit count (then the most visited)
    mix: float = 0.0               # lambda: the rollouts' share of a leaf's value
    heavy_playouts: bool = True
    # the network
    initial_weights: str = ""      # a play net file; "": the shipped one for the size if any;
                                   # "none" (or no play net): start from `bootstrap`
    bootstrap: str = "sl"          # version 0 without a play net: sl | rollouts | scratch
    layers: int = 4                # residual blocks of a new play net
    filters: int = 32
    hidden: int = 64
    planes: str = "simple"
    device: str = "auto"           # where the learner trains: auto (a GPU if it has one) | cpu
                                   # | cuda
    # the run
    games: int = 100
    games_per_call: int = 8        # games an actor plays per run() call
    replay_capacity: int = 50_000  # positions, over all shards: the sliding window
    replay_shards: int = 1
    save_replay: bool = True       # snapshot replay with each checkpoint
    batch_size: int = 128
    lr: float = 2e-3
    train_steps_per_game: int = 2
    min_replay: int = 1024         # positions before the first learner step
    gate_every: int = 400          # learner steps between gates
    gate_games: int = 40           # games of a gate at most (SPRT may stop it sooner)
    gate_threshold: float = 0.55   # the candidate's score that promotes it at gate_games
    gate_sprt: bool = True
    checkpoint_every: int = 40     # games
    seed: int = 0
    progress_every: float = 10.0   # seconds between progress lines
    runtime: RuntimeSettings = RuntimeSettings()

    def __post_init__(self) -> None:
        check_ranges(self, at_least_1=("size", "visits", "games_in_parallel", "leaves", "games",
                                       "games_per_call", "replay_capacity", "replay_shards",
                                       "batch_size", "gate_every", "gate_games",
                                       "checkpoint_every", "layers", "filters", "hidden"),
                     # 0: no move cap / no noise / the most visited move / no training
                     at_least_0=("max_moves", "dirichlet_alpha", "temperature",
                                 "temperature_moves", "train_steps_per_game", "min_replay",
                                 "seed", "progress_every", "c_puct"),
                     positive=("lr",),
                     probability=("dirichlet_weight", "mix", "gate_threshold"))
        Rules(size=self.size, komi=self.komi)  # a GoError (a ValueError) for a bad one
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")
        if self.bootstrap not in (*BOOTSTRAPS, "scratch"):
            raise ValueError(f"bootstrap must be sl, rollouts or scratch, got {self.bootstrap!r}")
        if self.replay_capacity < self.replay_shards:
            raise ValueError("replay_capacity must be at least replay_shards")
        if self.batch_size % self.runtime.learners:
            raise ValueError(f"batch_size {self.batch_size} must split evenly over "
                             f"{self.runtime.learners} learners")

    def actor_settings(self) -> GoActorSettings:
        return GoActorSettings(
            size=self.size, komi=self.komi, visits=self.visits, max_moves=self.max_moves,
            games_in_parallel=self.games_in_parallel, leaves=self.leaves, c_puct=self.c_puct,
            dirichlet_alpha=self.dirichlet_alpha, dirichlet_weight=self.dirichlet_weight,
            temperature=self.temperature, temperature_moves=self.temperature_moves,
            mix=self.mix, heavy_playouts=self.heavy_playouts, planes=self.planes,
            bootstrap=self.bootstrap if self.bootstrap in BOOTSTRAPS else "sl",
            seed=self.seed)

    def gate_rule(self) -> GateRule:
        return GateRule(games=self.gate_games, threshold=self.gate_threshold,
                        sprt=self.gate_sprt)


@dataclass
class Counters:
    """Progress that a checkpoint keeps (plain data, so it loads with weights_only)."""

    games: int = 0
    positions: int = 0
    steps: int = 0             # learner steps taken
    owed: int = 0              # learner steps earned by games but not yet taken
    gated: int = 0             # learner step of the last gate
    checkpointed: int = 0      # games at the last checkpoint
    checkpointed_steps: int = 0  # learner steps at the last checkpoint
    next_actor_id: int = 0
    best_version: int = 0      # the ladder version the actors play with
    best_network: str = ""     # its file, relative to the run ("": the bootstrap)
    wall_s: float = 0.0        # seconds of this run's sessions before the current one


def initial_network(config: SelfPlayConfig) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Version 0: (play net payload or None for the bootstrap, its meta: lifetime version,
    Elo and positions when it came from an earlier run)."""
    from agents.alphago.nets.networks import (
        NetSpec,
        build_network,
        default_weights,
        load_network,
        network_payload,
    )

    if config.initial_weights == "none":  # start the bootstrap way, whatever ships
        path = None
    else:
        path = config.initial_weights or default_weights("play", config.size)
    if path:
        net = load_network(path, "play", config.size)
        return network_payload(net), dict(net.meta)
    if config.bootstrap != "scratch":
        return None, {}
    import torch

    spec = NetSpec(kind="play", size=config.size, planes=config.planes, layers=config.layers,
                   filters=config.filters, hidden=config.hidden)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return network_payload(build_network(spec)), {}


def _bootstrap_name(config: SelfPlayConfig) -> str:
    """What plays version 0 without a play net, in words."""
    from selfplay.go.actor import sl_policy

    path = sl_policy(config.actor_settings())
    return (f"the bootstrap, SL policy priors and rollouts ({path})" if path else
            "the bootstrap, network-free MCTS")


def _learner_factory(config: SelfPlayConfig, initial: dict[str, Any] | None) -> Callable:
    from agents.alphago.nets.networks import NetSpec

    if initial is not None:  # continue training the starting net, whatever its shape
        spec = NetSpec(**initial["spec"])
    else:
        spec = NetSpec(kind="play", size=config.size, planes=config.planes,
                       layers=config.layers, filters=config.filters, hidden=config.hidden)
    threads = max(1, int(config.runtime.learner_cpus))  # no more threads than its CPUs
    return functools.partial(GoLearner, spec, lr=config.lr, seed=config.seed, initial=initial,
                             threads=threads, device=config.device)


class _Status:
    """Rates and recent losses for the progress line and metrics.csv."""

    def __init__(self, counters: Counters, every: float) -> None:
        self.games = Progress(every, counters.games)
        self.steps0 = counters.steps
        self.losses: list[dict[str, float]] = []

    def fields(self, c: Counters, replay: int, restarts: int) -> dict[str, float]:
        out = {"games": c.games, "positions": c.positions, "replay": replay,
               "learner_steps": c.steps, "best_version": c.best_version,
               "restarts": restarts, "games_per_s": self.games.rate(c.games),
               "positions_per_s": 0.0, "steps_per_s": self.games.rate(c.steps, self.steps0)}
        if self.losses:
            for key in self.losses[-1]:
                out[key] = float(np.mean([m[key] for m in self.losses[-20:]]))
        return out


def format_status(f: dict[str, float], total_games: int) -> str:
    loss = (f" loss {f['loss']:.3f} (policy {f['policy_loss']:.2f} value "
            f"{f['value_loss']:.3f})" if "loss" in f else "")
    return (f"games {f['games']:.0f}/{total_games} ({f['games_per_s']:.2f}/s) | replay "
            f"{f['replay']:.0f} positions | learner {f['learner_steps']:.0f} steps "
            f"({f['steps_per_s']:.1f}/s){loss} | best v{f['best_version']:.0f}"
            + (f" | {f['restarts']:.0f} actors replaced" if f["restarts"] else ""))


def run_selfplay(config: SelfPlayConfig, run_dir: str | Path, resume: bool = False,
                 progress: Callable[[str], None] | None = print,
                 backend: Backend | None = None,
                 on_game: Callable[[int, Backend], None] | None = None) -> dict[str, Any]:
    """Play `config.games` self-play games into `run_dir`, training and gating as they arrive.

    resume:   continue from the newest checkpoint in run_dir (RunDirError if the run's
              config differs in anything but its runtime settings and RESUMABLE).
    backend:  a backend to use instead of make_backend(config.runtime) (it is closed at the
              end; no automatic recovery then, as a new one cannot be made).
    on_game:  called with (games finished, backend) after each game (tests kill actors here).
    Returns a summary: the final counters and status fields, the weight versions the games
    were played with, the ladder, restarts, recoveries and `stopped_by`.
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
    finished run ends (steps paid, a checkpoint)."""
    run, state, counters = open_run(run_dir, run_identity(config, RESUMABLE), resume, Counters)
    # the records and rows past the checkpoint (past game 0 without one: those of a first
    # attempt that was killed) belong to no counters: they are played and logged again
    drop_games_after(run.games, counters.games)
    ladder, gates = Ladder(run.path), Gates(run.path)
    ladder.truncate(counters.best_version if state else -1)
    gates.truncate(counters.checkpointed_steps if state else -1)
    rules = Rules(size=config.size, komi=config.komi)
    if state and counters.best_network:
        from agents.alphago.nets.networks import load_network, network_payload

        initial = network_payload(load_network(run.path / counters.best_network, "play"))
    elif state:
        initial = None  # the bootstrap is still the best
    else:
        initial, meta = initial_network(config)
        counters.best_version = int(meta.get("version", 0))
        counters.best_network = save_best(run.path, initial, meta, counters.best_version)
        if not ladder.rows():
            first = LadderRow.first(counters.best_network or _bootstrap_name(config),
                                    positions=int(meta.get("positions", 0)))
            ladder.add(dataclasses.replace(first, version=counters.best_version,
                                           elo=float(meta.get("elo", 0.0))))
    best = Best(counters.best_version, initial, counters.best_network)
    backend = backend or make_backend(config.runtime, config.seed, config.games_per_call)
    metrics = run.metrics(resume_step=counters.games)
    session = time.monotonic()
    try:
        backend.start(functools.partial(GoSelfPlayActor, config.actor_settings()),
                      _learner_factory(config, initial),
                      functools.partial(make_replay, config.size,
                                        config.replay_capacity // config.replay_shards,
                                        config.seed, planes=config.planes),
                      actors=config.runtime.actors, shards=config.replay_shards,
                      first_actor_id=counters.next_actor_id)
        if state:
            backend.load_learner_state(state["backend"])
            if state.get("replay"):
                backend.load_replay(run.path / state["replay"])
        backend.broadcast(best.version, best.payload)
        if progress is not None:  # once the runtime is up: a failed start stays one line
            progress(f"self-play: the actors play v{best.version}: "
                     f"{best.file and run.path / best.file or _bootstrap_name(config)}")
        status = _Status(counters, config.progress_every)
        versions: set[int] = set()

        def wall() -> float:
            return counters.wall_s + time.monotonic() - session

        def checkpoint() -> None:
            _checkpoint(run, backend, config, counters, wall())

        def fields() -> dict[str, float]:
            out = status.fields(counters, backend.replay_size(), backend.restarts)
            out["positions_per_s"] = status.games.rate(counters.positions, positions0)
            return out

        def report(force: bool = False) -> None:
            if status.games.due(force):
                now = fields()
                metrics.log(counters.games, **now)
                if progress is not None:
                    progress(format_status(now, config.games))

        positions0 = counters.positions
        while counters.games < config.games and not stop.requested:
            for _, game in backend.poll(0.5, config.games - counters.games):
                if counters.games >= config.games:
                    break  # a surplus game from a call issued before the last was counted
                counters.games += 1
                _save_game(run, counters.games, game, rules)
                backend.add(game["examples"])
                counters.positions += game["positions"]
                counters.owed += config.train_steps_per_game
                versions.add(game["weights_version"])
                if on_game is not None:
                    on_game(counters.games, backend)
            _train(backend, config, counters, status)
            if counters.steps - counters.gated >= config.gate_every:
                counters.gated = counters.steps
                if gate_and_promote(run.path, backend, config.actor_settings(),
                                    config.gate_rule(), counters.steps, counters.positions,
                                    best, ladder, gates, wall(), progress):
                    counters.best_version, counters.best_network = best.version, best.file
                    checkpoint()  # the new best, its ladder row and the counters agree
            if counters.games - counters.checkpointed >= config.checkpoint_every:
                checkpoint()
            report()
        _train(backend, config, counters, status)
        if (counters.checkpointed, counters.checkpointed_steps) != (counters.games,
                                                                     counters.steps):
            checkpoint()
        report(force=True)
        ladder.plot(run.path / "ladder.png")
        stopped_by = stop.signal_name if counters.games < config.games else None
        return {**fields(), "counters": dataclasses.asdict(counters),
                "versions_seen": sorted(versions), "run_dir": str(run.path), "wall_s": wall(),
                "ladder": [dataclasses.asdict(r) for r in ladder.rows()],
                "gates": [dataclasses.asdict(g) for g in gates.rows()],
                "stopped_by": stopped_by}
    finally:
        backend.close()
        metrics.close()
        ladder.close()


def _save_game(run: RunDir, index: int, game: dict[str, Any], rules: Rules) -> Path:
    """One self-play game as RUN/games/game-NNNNNN.sgf, the search's win rate on each move."""
    return save_game(run.games, index, rules, game["moves"], game["result"], "rlgo-selfplay",
                     f"rlgo self-play: actor {game['actor_id']} game {game['game']}, "
                     f"network version {game['weights_version']}", game["winrates"])


def _train(backend: Backend, config: SelfPlayConfig, counters: Counters,
           status: _Status) -> None:
    """Pay the learner steps the finished games earned."""
    if counters.owed <= 0 or backend.replay_size() < config.min_replay:
        return
    steps = counters.owed
    status.losses.extend(backend.train(steps, config.batch_size))
    status.losses = status.losses[-100:]
    counters.steps += steps
    counters.owed = 0


def _checkpoint(run: RunDir, backend: Backend, config: SelfPlayConfig,
                counters: Counters, wall_s: float) -> None:
    """The learner, the counters and (with save_replay) a replay snapshot it names."""
    counters.checkpointed = counters.games
    counters.checkpointed_steps = counters.steps
    counters.next_actor_id = backend.next_actor_id
    saved = dataclasses.replace(counters, wall_s=wall_s)
    name = f"games-{counters.games:09d}"
    state = {"backend": backend.learner_state(), "counters": counters_state(saved, backend),
             "replay": f"replay/{name}" if config.save_replay else None}
    save_checkpoint(run, state, counters.games,
                    backend.save_replay if config.save_replay else None, name)
