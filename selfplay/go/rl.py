"""`rlgo go train-rl`: the RL policy network by REINFORCE self-play (Silver et al. 2016), on the
shared self-play runtime.

    actors (RLActor x N): batches of games in lockstep, the current policy against one
        opponent drawn from the pool per batch, colours alternated; per game the planes,
        legal masks and moves of the current policy's side, and z = +1 / -1 for that side
    driver: one iteration = `games_per_iteration` games of ONE weight version -> the rollout
        buffer -> one REINFORCE step (reinforce.py) -> publish the new version
    every `pool_every` steps the learner adds the current weights to the opponent pool; the
        driver mirrors the pool as network files in RUN/pool/
    every `eval_every` iterations (and at the end): the current policy against the initial
        (SL) policy in `eval_games` games, colours alternated, moves sampled as in training

All games keep to sensible moves (batched_games, passes=False): with passes allowed, the
policy learns mostly to exploit the SL policy's early passes (a habit learnt from GNU Go's
games, costly under area scoring) instead of playing better Go.

The driver submits an iteration's games only after the previous update was published (Ray
runs an actor's calls in order, so set_weights lands first): the games are exactly on-policy.
Checkpoints every `checkpoint_every` iterations hold the learner (net, optimizer, pool) and
the counters; `resume=True` continues from the newest. The result is RUN/rl_policy.pt, a
policy network file with meta {command, win_rate_vs_sl, iterations}.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from agents.alphago.nets.networks import PolicyNet, load_network, save_network
from agents.cpu import flush_denormals
from envs.checks import check_ranges
from envs.go import BLACK, DEFAULT_KOMI, WHITE, Position, Rules, winner_of
from selfplay.go.batched_games import play_games
from selfplay.go.games import save_game
from selfplay.go.reinforce import (
    ReinforceLearner,
    load_state,
    make_rollout_buffer,
    numpy_state,
    policy_from_state,
)
from selfplay.go.training import resolve_device
from selfplay.rundir import RunDir, RunLock
from selfplay.runtime import Backend, RuntimeSettings, make_backend, run_identity
from selfplay.runtime.driver import Progress, counters_state, open_run

# Besides the runtime settings, what a resumed run may change: how long, where the learner
# trains, how chatty.
RESUMABLE = ("iterations", "device", "progress_every")


@dataclass(frozen=True)
class RLConfig:
    """An RL policy run (configs/go/rl_9x9.yaml holds the values and the paper's)."""

    init: str = ""                 # the SL policy network file (the first version)
    size: int = 9
    komi: float = DEFAULT_KOMI
    max_moves: int = 0             # 0: 2 * size * size, then Tromp-Taylor score
    iterations: int = 100          # REINFORCE steps in total (a resumed run counts earlier)
    games_per_iteration: int = 64  # games per step (the paper: 128)
    batch_games: int = 32          # games an actor plays in lockstep per call
    lr: float = 0.02
    momentum: float = 0.0
    baseline: Literal["mean", "none"] = "mean"
    pool_every: int = 10           # steps between pool additions (the paper: 500)
    pool_size: int = 16            # newest pool members kept
    eval_every: int = 25           # iterations between evaluations against the SL policy
    eval_games: int = 200
    checkpoint_every: int = 10     # iterations
    sgf_every: int = 10            # iterations between saved sample games (RUN/games/)
    device: str = "auto"           # learner and evaluation: auto | cpu | cuda
    threads: int = 1               # torch CPU threads per actor, learner and driver (small
                                   # batches: more threads only contend for the cores)
    seed: int = 0
    progress_every: float = 10.0   # seconds between progress lines
    # the learner steps while the actors wait for new weights: no CPU reserved for it
    runtime: RuntimeSettings = RuntimeSettings(learner_cpus=0.0, max_in_flight=1)

    def __post_init__(self) -> None:
        check_ranges(self, at_least_1=("size", "iterations", "games_per_iteration",
                                       "batch_games", "pool_every", "pool_size", "eval_every",
                                       "eval_games", "checkpoint_every", "sgf_every", "threads"),
                     at_least_0=("max_moves", "seed", "progress_every"), positive=("lr",),
                     probability=("momentum",))
        Rules(size=self.size, komi=self.komi)  # a GoError (a ValueError) for a bad one
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")
        if self.runtime.learners != 1:
            raise ValueError("train-rl has one learner: runtime.learners must be 1")

    @property
    def move_cap(self) -> int:
        return self.max_moves or 2 * self.size * self.size


@dataclass(frozen=True)
class RLActorSettings:
    """How an actor plays (picklable)."""

    size: int = 9
    komi: float = DEFAULT_KOMI
    move_cap: int = 162
    batch_games: int = 32
    threads: int = 1
    seed: int = 0


class RLActor:
    """The Actor protocol for RL self-play: `run(n)` plays n games (in lockstep batches) and
    returns one record per game: {"actor_id", "game", "weights_version", "opponent",
    "colour", "moves", "result", "z", "planes", "legal", "actions", "positions"}."""

    def __init__(self, settings: RLActorSettings, spec: dict[str, Any], actor_id: int) -> None:
        self.settings, self.spec, self.actor_id = settings, spec, actor_id
        torch.set_num_threads(settings.threads)
        self.rules = Rules(size=settings.size, komi=settings.komi)
        self.rng = np.random.default_rng(np.random.SeedSequence([settings.seed, 31, actor_id]))
        self.net: PolicyNet | None = None
        self.pool: dict[int, PolicyNet] = {}
        self.version = -1
        self.games = 0

    def set_weights(self, version: int, weights: dict[str, Any]) -> None:
        if self.net is None:
            self.net = policy_from_state(self.spec, weights["policy"])
        else:
            load_state(self.net, weights["policy"])
        self.pool = {v: self.pool.get(v) or policy_from_state(self.spec, s)
                     for v, s in weights["pool"].items()}
        self.version = int(version)

    def run(self, n: int) -> list[dict[str, Any]]:
        if self.net is None:
            raise RuntimeError("RLActor.run before set_weights")
        out: list[dict[str, Any]] = []
        while len(out) < n:
            out += self._play(min(self.settings.batch_games, n - len(out)))
        return out

    def _play(self, count: int) -> list[dict[str, Any]]:
        opponent = int(self.rng.choice(sorted(self.pool)))
        first = int(self.rng.integers(2))
        colours = [BLACK if (g + first) % 2 == 0 else WHITE for g in range(count)]
        played = play_games([Position.new(self.rules)] * count,
                            lambda g, p: 0 if p.to_play == colours[g] else 1,
                            [self.net, self.pool[opponent]], self.rng, self.settings.move_cap,
                            keep=lambda g, p: p.to_play == colours[g], passes=False)
        out = []
        for g, final in enumerate(played.finals):
            winner = winner_of(final)
            z = 0.0 if winner is None else (1.0 if winner == colours[g] else -1.0)
            self.games += 1
            out.append({"actor_id": self.actor_id, "game": self.games,
                        "weights_version": self.version, "opponent": opponent,
                        "colour": colours[g], "moves": final.moves(), "result": final.result(),
                        "z": z, "planes": played.planes[g], "legal": played.legal[g],
                        "actions": played.moves[g], "positions": len(played.moves[g])})
        return out


def win_rate(policy: PolicyNet, opponent: PolicyNet, games: int, rules: Rules, move_cap: int,
             rng: np.random.Generator, device: torch.device | str = "cpu") -> float:
    """The fraction of `games` that `policy` wins against `opponent` (draws count half), all
    played at once in lockstep, `policy` taking Black in the even-numbered games. Both keep
    to sensible moves (batched_games: passes=False), so neither wins by the other's early
    passes."""
    colours = [BLACK if g % 2 == 0 else WHITE for g in range(games)]
    played = play_games([Position.new(rules)] * games,
                        lambda g, p: 0 if p.to_play == colours[g] else 1, [policy, opponent],
                        rng, move_cap, device=device, passes=False)
    score = 0.0
    for g, final in enumerate(played.finals):
        winner = winner_of(final)
        score += 0.5 if winner is None else float(winner == colours[g])
    return score / games


@dataclass
class Counters:
    """Progress that a checkpoint keeps (plain numbers: loads with weights_only)."""

    iterations: int = 0
    games: int = 0
    moves: int = 0
    next_actor_id: int = 0
    win_rate_vs_sl: float = -1.0  # the last evaluation (-1: none yet)
    eval_iteration: int = -1


def run_rl(config: RLConfig, run_dir: str | Path, resume: bool = False,
           progress: Callable[[str], None] | None = print, command: str = "",
           backend: Backend | None = None) -> dict[str, Any]:
    """Train the RL policy for `config.iterations` REINFORCE steps into `run_dir`; returns a
    summary {iterations, games, games_per_s, win_rate_vs_sl, eval_games, policy, run_dir}."""
    flush_denormals()  # before torch starts its threads: agents/cpu.py
    sl = load_network(config.init, "policy", config.size)  # WeightsError: one clear line
    with RunLock(run_dir, create=not resume):  # for the whole run: open_run finds it held
        return _run(config, sl, run_dir, resume, progress, command, backend)


def _run(config: RLConfig, sl: PolicyNet, run_dir: str | Path, resume: bool,
         progress: Callable[[str], None] | None, command: str,
         backend: Backend | None) -> dict[str, Any]:
    """run_rl, with the run directory locked; `sl`: the policy it starts from."""
    run, state, counters = open_run(run_dir, run_identity(config, RESUMABLE), resume, Counters)
    rules = Rules(size=config.size, komi=config.komi)
    device = resolve_device(config.device)
    spec = dataclasses.asdict(sl.spec)
    backend = backend or make_backend(config.runtime, config.seed, config.batch_games)
    # the metrics rows logged past the checkpoint (past iteration 0 without one: a killed
    # first attempt's) are logged again
    metrics = run.metrics(resume_step=counters.iterations)
    current = policy_from_state(spec, numpy_state(sl), device)
    sl = sl.to(device)
    clock = Progress(config.progress_every, counters.games)
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        _start(backend, config, spec, numpy_state(sl), counters)
        if state:
            backend.load_learner_state(state["backend"])
            backend.publish()

        def evaluate() -> dict[str, Any]:
            """Load the learner's net into `current`, play it against the SL policy; returns
            the learner state it fetched."""
            learner = backend.learner_state()
            load_state(current, learner["learner"]["net"])
            rng = np.random.default_rng([config.seed, 97, counters.iterations])
            counters.win_rate_vs_sl = win_rate(current, sl, config.eval_games, rules,
                                               config.move_cap, rng, device)
            counters.eval_iteration = counters.iterations
            return learner

        while counters.iterations < config.iterations:
            games = _collect(backend, config.games_per_iteration)
            fields = _learn(backend, games, counters)
            if counters.iterations % config.sgf_every == 0:
                _save_game(run, counters.iterations, games[0], rules)
            last = counters.iterations >= config.iterations
            learner = None
            if counters.iterations % config.eval_every == 0 or last:
                learner = evaluate()
                fields["win_rate_vs_sl"] = counters.win_rate_vs_sl
            if counters.iterations % config.checkpoint_every == 0 or learner is not None:
                _checkpoint(run, backend, counters, spec, learner)
            fields["games_per_s"] = clock.rate(counters.games)
            metrics.log(counters.iterations, **fields)
            if clock.due(force=learner is not None) and progress is not None:
                progress(_status(config, counters, fields))
        if counters.eval_iteration != counters.iterations:  # nothing left to play on resume
            _checkpoint(run, backend, counters, spec, evaluate())
        load_state(current, backend.learner_state()["learner"]["net"])
        policy = save_network(run.path / "rl_policy.pt", current, meta={
            "command": command, "win_rate_vs_sl": counters.win_rate_vs_sl,
            "eval_games": config.eval_games, "iterations": counters.iterations})
        return {"iterations": counters.iterations, "games": counters.games,
                "games_per_s": clock.rate(counters.games),
                "win_rate_vs_sl": counters.win_rate_vs_sl, "eval_games": config.eval_games,
                "policy": str(policy), "run_dir": str(run.path)}
    finally:
        backend.close()
        metrics.close()
        torch.set_num_threads(threads)


def _start(backend: Backend, config: RLConfig, spec: dict[str, Any], sl: dict[str, Any],
           counters: Counters) -> None:
    """Start the actors, the REINFORCE learner (from the SL weights) and the rollout buffer,
    which holds one iteration: every game's learner moves at most."""
    settings = RLActorSettings(size=config.size, komi=config.komi, move_cap=config.move_cap,
                               batch_games=config.batch_games, threads=config.threads,
                               seed=config.seed)
    capacity = config.games_per_iteration * ((config.move_cap + 1) // 2)
    backend.start(functools.partial(RLActor, settings, spec),
                  functools.partial(ReinforceLearner, spec, sl, lr=config.lr,
                                    momentum=config.momentum, baseline=config.baseline,
                                    pool_every=config.pool_every, pool_size=config.pool_size,
                                    device=config.device, threads=config.threads),
                  functools.partial(make_rollout_buffer, spec, capacity),
                  actors=config.runtime.actors, first_actor_id=counters.next_actor_id)


def _collect(backend: Backend, count: int) -> list[dict[str, Any]]:
    """`count` games, all with the weights published last (calls go out only now)."""
    games: list[dict[str, Any]] = []
    while len(games) < count:
        games += [g for _, g in backend.poll(0.5, count - len(games))][:count - len(games)]
    return games


def _learn(backend: Backend, games: list[dict[str, Any]], counters: Counters) -> dict[str, float]:
    """One REINFORCE step on the games' learner moves, then publish; the step's metrics."""
    versions = {g["weights_version"] for g in games}
    if versions != {backend.version}:
        raise RuntimeError(f"off-policy games: versions {sorted(versions)}, "
                           f"current {backend.version}")
    moves = {"planes": np.concatenate([g["planes"] for g in games]),
             "legal": np.concatenate([g["legal"] for g in games]),
             "move": np.concatenate([g["actions"] for g in games]),
             "z": np.concatenate([np.full(g["positions"], g["z"], np.float32) for g in games])}
    backend.add(moves)
    [step] = backend.train(1, len(moves["z"]))
    backend.publish()
    counters.iterations += 1
    counters.games += len(games)
    counters.moves += len(moves["z"])
    wins = np.mean([g["z"] > 0 for g in games])
    return {**step, "win_rate_vs_pool": float(wins), "games": counters.games,
            "game_length": float(np.mean([len(g["moves"]) for g in games])),
            "weights_version": backend.version}


def _checkpoint(run: RunDir, backend: Backend, counters: Counters, spec: dict[str, Any],
                learner: dict[str, Any] | None = None) -> None:
    """Write the checkpoint (the backend's learner state: fetched unless given), and every
    pool member not yet on disk as RUN/pool/policy-vNNNNNN.pt."""
    learner = learner or backend.learner_state()
    run.save_checkpoint({"backend": learner, "counters": counters_state(counters, backend)},
                        counters.iterations)
    for version, weights in learner["learner"]["pool"].items():
        path = run.path / "pool" / f"policy-v{int(version):06d}.pt"
        if not path.exists():
            save_network(path, policy_from_state(spec, weights),
                         meta={"weights_version": int(version)})


def _save_game(run: RunDir, iteration: int, game: dict[str, Any], rules: Rules) -> None:
    """A sample game of the iteration as RUN/games/game-NNNNNN.sgf."""
    save_game(run.games, iteration, rules, game["moves"], game["result"], "rlgo-selfplay",
              f"rlgo self-play: actor {game['actor_id']} game {game['game']}, weights "
              f"version {game['weights_version']}")


def _status(config: RLConfig, c: Counters, f: dict[str, float]) -> str:
    sl = (f" | vs SL {c.win_rate_vs_sl:.1%} ({config.eval_games} games, iter "
          f"{c.eval_iteration})" if c.eval_iteration >= 0 else "")
    return (f"iter {c.iterations}/{config.iterations} | games {c.games} "
            f"({f['games_per_s']:.1f}/s, {f['game_length']:.0f} moves) | win vs pool "
            f"{f['win_rate_vs_pool']:.0%} | loss {f['loss']:+.4f} entropy {f['entropy']:.2f} | "
            f"weights v{f['weights_version']:.0f}{sl}")
