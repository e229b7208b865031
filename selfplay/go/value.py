"""`rlgo go train-value`: the value network from self-play positions (Silver et al. 2016).

Whole self-play games make bad value data: successive positions share the outcome and the
net memorises games (the paper: MSE 0.19 train / 0.37 test). So each game gives ONE position:

    U uniform in [1, u_max]; moves 1..U-1 sampled from the SL policy (the RL policy if no SL
    policy is given); move U a uniformly random legal point; then the RL policy plays both
    sides to the end (two passes, or the move cap, then Tromp-Taylor). The position after
    move U is kept with the final outcome for its player to move (+1 won, -1 lost).

A game that ends before move U is dropped (its slot is played again), so every kept game has
exactly one position. A policy learned from GNU Go's games passes early and often, which
would drop most games with a late U and leave the value net few late positions; with
`opening_passes: false` the moves before U are sampled from the SL policy without its pass.

The games run on the shared self-play runtime (`ValueDataActor`, many games in lockstep per
actor); the driver appends the positions to RUN/positions/ as compressed shards in the
layout of dataset.py (train/ and val/ shard-NNNNN.npz, fields planes uint8 [N, C+1, S, S]
with the player-colour plane, outcome int8 [N], u int16 [N]), a fixed fraction of each
flush going to val/. A killed run keeps its shards and plays only the missing positions.
Training (value_training.py, in the shared supervised loop) then writes RUN/value.pt.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.alphago.nets.features import features_batch
from agents.alphago.nets.networks import load_network
from agents.cpu import flush_denormals
from envs.atomic import atomic_file
from envs.checks import check_ranges
from envs.go import DEFAULT_KOMI, Position, Rules, winner_of
from selfplay.go.batched_games import RANDOM, play_games
from selfplay.go.dataset import shard_paths
from selfplay.go.reinforce import numpy_state, policy_from_state
from selfplay.go.value_training import count_positions, train_value_net
from selfplay.rundir import RunDir, RunDirError, RunLock
from selfplay.runtime import Backend, RuntimeSettings, make_backend, run_identity
from selfplay.runtime.collect import FixedWeights, empty_replay
from selfplay.runtime.driver import Progress

# Besides the runtime settings, what a resumed run may change: how much, where it trains,
# how chatty.
RESUMABLE = ("positions", "epochs", "device", "threads", "progress_every")


@dataclass(frozen=True)
class ValueConfig:
    """A value-net run (configs/go/value_9x9.yaml holds the values and the paper's)."""

    policy: str = ""               # the RL policy network file
    sl_policy: str = ""            # moves before U ("": the RL policy plays them too)
    size: int = 9
    komi: float = DEFAULT_KOMI
    max_moves: int = 0             # 0: 2 * size * size, then Tromp-Taylor score
    u_max: int = 0                 # U uniform in [1, u_max]; 0: size * size
    opening_passes: bool = True    # False: no passes before move U (see configs/go/value_9x9)
    positions: int = 20_000        # one per game (a resumed run counts the earlier ones)
    shard_positions: int = 2_000   # positions per flush to RUN/positions/
    val_fraction: float = 0.05
    batch_games: int = 64          # games an actor plays in lockstep per call
    # the network and its training
    layers: int = 6
    filters: int = 64
    hidden: int = 128
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.003
    weight_decay: float = 1e-4
    augment: bool = True           # a random board symmetry per position and batch
    # where it runs (may change on --resume)
    device: str = "auto"           # training: auto | cpu | cuda
    threads: int = 1               # torch CPU threads per actor and in the driver
    seed: int = 0
    progress_every: float = 10.0
    runtime: RuntimeSettings = RuntimeSettings(learner_cpus=0.0)  # no learner runs

    def __post_init__(self) -> None:
        check_ranges(self, at_least_1=("size", "positions", "shard_positions", "batch_games",
                                       "layers", "filters", "hidden", "epochs", "batch_size",
                                       "threads"),
                     at_least_0=("max_moves", "u_max", "weight_decay", "seed",
                                 "progress_every"),
                     positive=("lr",))
        Rules(size=self.size, komi=self.komi)  # a GoError (a ValueError) for a bad one
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, got {self.device!r}")
        if self.runtime.learners != 1:
            raise ValueError("train-value has no learner: runtime.learners must be 1")

    @property
    def move_cap(self) -> int:
        return self.max_moves or 2 * self.size * self.size

    @property
    def last_u(self) -> int:
        return min(self.u_max or self.size * self.size, self.move_cap - 1)


@dataclass(frozen=True)
class ValueActorSettings:
    """How a value-data actor plays (a picklable subset of ValueConfig)."""

    size: int = 9
    komi: float = DEFAULT_KOMI
    move_cap: int = 162
    last_u: int = 81
    opening_passes: bool = True
    batch_games: int = 64
    threads: int = 1
    seed: int = 0


class ValueDataActor:
    """The Actor protocol for value data: `run(n)` returns n games' positions, each
    {"planes" uint8 [C+1, S, S], "outcome" +1/-1/0 for "to_play", "u", "moves" (the whole
    game), "result", "length", "dropped"}; dropped counts the games that ended before
    their move U while this batch was played."""

    def __init__(self, settings: ValueActorSettings, specs: dict[str, dict[str, Any]],
                 actor_id: int) -> None:
        torch.set_num_threads(settings.threads)
        self.settings, self.specs = settings, specs
        self.rules = Rules(size=settings.size, komi=settings.komi)
        self.rng = np.random.default_rng(np.random.SeedSequence([settings.seed, 53, actor_id]))
        self.nets: dict[str, Any] = {}

    def set_weights(self, version: int, weights: dict[str, Any]) -> None:
        self.nets = {name: policy_from_state(self.specs[name], state)
                     for name, state in weights.items()}

    def run(self, n: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while len(out) < n:
            out += self._play(min(self.settings.batch_games, n - len(out)))
        return out[:n]

    def _play(self, count: int) -> list[dict[str, Any]]:
        s = self.settings
        us = self.rng.integers(1, s.last_u + 1, count)
        opening = self.nets.get("sl", self.nets["rl"])
        before = play_games([Position.new(self.rules)] * count,
                            lambda g, p: 0 if p.move_number < us[g] - 1 else RANDOM,
                            [opening], self.rng, us, passes=s.opening_passes)
        kept = [g for g, p in enumerate(before.finals)
                if p.move_number == us[g] and not p.is_game_over()]
        if not kept:
            return []
        starts = [before.finals[g] for g in kept]
        planes = features_batch(starts, self.specs["rl"]["planes"], player_colour=True)
        after = play_games(starts, lambda g, p: 0, [self.nets["rl"]], self.rng, s.move_cap)
        out = []
        for i, (start, final) in enumerate(zip(starts, after.finals, strict=True)):
            winner = winner_of(final)
            outcome = 0 if winner is None else (1 if winner == start.to_play else -1)
            out.append({"planes": planes[i], "outcome": outcome, "u": int(start.move_number),
                        "to_play": int(start.to_play), "result": final.result(),
                        "moves": final.moves(), "length": int(final.move_number),
                        "dropped": 0})
        out[0]["dropped"] = count - len(kept)
        return out


def positions_held(directory: Path) -> int:
    """Positions already in RUN/positions/ (train and val shards)."""
    return count_positions(directory, "train") + count_positions(directory, "val")


def write_shard(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed to a temporary file, then rename: a shard is whole or absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as f:
        np.savez_compressed(f, **arrays)


def _flush(directory: Path, games: list[dict[str, Any]], val_fraction: float) -> None:
    """Write the games' positions as the next shard: the first part to val/, the rest to
    train/, both under the same shard number."""
    arrays = {"planes": np.stack([g["planes"] for g in games]).astype(np.uint8),
              "outcome": np.array([g["outcome"] for g in games], np.int8),
              "u": np.array([g["u"] for g in games], np.int16)}
    index = max((int(p.stem.split("-")[1]) + 1 for split in ("train", "val")
                 for p in shard_paths(directory, split)), default=0)
    cut = int(round(val_fraction * len(games)))
    for split, rows in (("val", slice(0, cut)), ("train", slice(cut, None))):
        part = {k: v[rows] for k, v in arrays.items()}
        if len(part["outcome"]):
            write_shard(directory / split / f"shard-{index:05d}.npz", part)


def generate_positions(config: ValueConfig, directory: Path, backend: Backend | None = None,
                       progress: Callable[[str], None] | None = print) -> dict[str, float]:
    """Fill `directory` up to config.positions positions; returns {positions, new,
    positions_per_s, dropped_fraction, mean_u, mean_length}."""
    have = positions_held(directory)
    stats = {"positions": have, "new": 0, "positions_per_s": 0.0, "dropped_fraction": 0.0,
             "mean_u": 0.0, "mean_length": 0.0}
    if have >= config.positions:
        return stats
    rl = load_network(config.policy, "policy", config.size)
    nets = {"rl": rl}
    if config.sl_policy:
        nets["sl"] = load_network(config.sl_policy, "policy", config.size)
    specs = {name: dataclasses.asdict(net.spec) for name, net in nets.items()}
    weights = {name: numpy_state(net) for name, net in nets.items()}
    settings = ValueActorSettings(size=config.size, komi=config.komi, move_cap=config.move_cap,
                                  last_u=config.last_u, opening_passes=config.opening_passes,
                                  batch_games=config.batch_games,
                                  threads=config.threads,
                                  seed=config.seed + have)  # a resumed run plays new games
    backend = backend or make_backend(config.runtime, config.seed, config.batch_games,
                                      learner=False)
    clock = Progress(config.progress_every, have)
    pending: list[dict[str, Any]] = []
    dropped, us, lengths = 0, [], []
    try:
        # the two policies go out once, {"sl": state, "rl": state}, as version 0
        backend.start(functools.partial(ValueDataActor, settings, specs),
                      functools.partial(FixedWeights, weights), empty_replay,
                      actors=config.runtime.actors)
        while have + len(pending) < config.positions:
            for _, game in backend.poll(0.5, config.positions - have - len(pending)):
                pending.append(game)
                dropped += game["dropped"]
                us.append(game["u"])
                lengths.append(game["length"])
                if len(pending) >= config.shard_positions:
                    _flush(directory, pending, config.val_fraction)
                    have += len(pending)
                    pending = []
            if progress is not None and us and clock.due():
                progress(f"positions {have + len(pending)}/{config.positions} | "
                         f"{clock.rate(have + len(pending)):.1f} positions/s | mean U "
                         f"{np.mean(us):.0f}, "
                         f"game length {np.mean(lengths):.0f} | dropped "
                         f"{dropped / max(1, dropped + len(us)):.0%}")
        pending = pending[:config.positions - have]
        if pending:
            _flush(directory, pending, config.val_fraction)
            have += len(pending)
    finally:
        backend.close()
    new = have - stats["positions"]
    return {"positions": have, "new": new,
            "positions_per_s": clock.rate(have),
            "dropped_fraction": dropped / max(1, dropped + len(us)),
            "mean_u": float(np.mean(us)) if us else 0.0,
            "mean_length": float(np.mean(lengths)) if lengths else 0.0}


def run_value(config: ValueConfig, run_dir: str | Path, resume: bool = False,
              progress: Callable[[str], None] | None = print, command: str = "",
              backend: Backend | None = None) -> dict[str, Any]:
    """Generate the positions (resumable), train the value net, write RUN/value.pt; returns
    {positions, positions_per_s, val_mse, train_mse, epochs, value, run_dir}."""
    flush_denormals()  # before torch starts its threads: agents/cpu.py
    load_network(config.policy, "policy", config.size)  # a bad file fails before any work
    threads = torch.get_num_threads()
    with RunLock(run_dir, create=not resume):  # for the whole run: RunDir finds it held
        if not resume and positions_held(Path(run_dir) / "positions"):
            raise RunDirError(f"{run_dir} already holds positions; pass --resume to continue "
                              f"or choose another --run-dir")
        run = RunDir(run_dir, run_identity(config, RESUMABLE), resume=resume)
        torch.set_num_threads(config.threads)
        try:
            data = generate_positions(config, run.path / "positions", backend, progress)
            result = train_value_net(config, run, resume, progress, command)
        finally:
            torch.set_num_threads(threads)
    return {**data, **result, "run_dir": str(run.path)}

