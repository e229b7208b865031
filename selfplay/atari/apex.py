"""Ape-X DQN (Horgan et al. 2018) on the shared runtime: many actors, one prioritized replay,
one learner, on Ray (or in process for debugging: runtime.backend local).

    actors (ApexActor x N, eps_i = 0.4^(1+7i/(N-1))) --chunks + first priorities--> driver
    driver --add--> replay shard(s) (FrameReplay, prioritized)
    learner (ApexLearner) <--sample_indexed-- shard;  TD errors --> shard's priorities
    every `publish_every` updates: weights --one ray.put--> actors (pick them up between chunks)

The driver (`train_distributed`) is the only process that touches the run directory. Each
actor has at most `max_in_flight` chunks outstanding (RayBackend bounds it and replaces dead
actors). Training is tied to data as in the single-process loop: one update per
`train_every` agent steps once the replay holds `learning_starts` records, so a run does the
same work however its processes are scheduled; total_steps counts agent steps over all actors,
num_envs is per actor, and the epsilon schedule of the config is replaced by the fixed per-actor
epsilons. Replay is always prioritized (the point of Ape-X): `prioritized` is set in the run's
config, and beta stays at priority_beta_start.

Checkpoints (RunDir, atomic) hold the learner, counters and the shard-choice RNG, plus a replay
snapshot with `save_replay`; a resumed run restores them and its actors start new games. The
checkpoint has the fields `rlgo atari eval` reads, so evaluation is the same for both modes.
Ctrl-C or SIGTERM (selfplay/stopping.py) ends the run after the current step, with a checkpoint.
A dead actor is replaced by the backend; the learner and the replay shards hold state a new
actor would lack, so their death (ComponentLost) rebuilds the backend and the run resumes from
its last checkpoint by itself, up to `runtime.max_recoveries` times.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from envs.atari.classic import canonical_env_id, make_vec_env
from selfplay.atari.apex_actor import ActorSpec, ApexActor, ApexLearner, frame_dtype, make_replay
from selfplay.atari.config import (
    CHANGEABLE_ON_RESUME,
    DQNConfig,
    DQNConfigError,
    config_dict,
    run_label,
    run_summary,
)
from selfplay.atari.train import (
    CHECKPOINT_FORMAT,
    TrainResult,
    build_network,
    evaluate_now,
    known_means,
    progress_line,
)
from selfplay.rundir import RunDir, RunDirError
from selfplay.runtime import Backend, RuntimeSettings, make_backend
from selfplay.runtime.driver import crossed, run_recovering, save_checkpoint
from selfplay.stopping import StopOnSignal


@dataclasses.dataclass(frozen=True)
class ApexSettings:
    """How an Ape-X run goes (not what it learns: these may change on resume).

    chunk: new rows per actor call (x num_envs agent steps); publish_every: learner updates
    between weight broadcasts; train_batch: updates per driver call to the learner
    (pipelined); runtime: where it runs (runtime.actors 0: as many as the CPUs beside the
    learner; runtime.learner_cpus also sets the learner's torch threads).
    """

    chunk: int = 50
    publish_every: int = 25
    train_batch: int = 8
    replay_shards: int = 1
    runtime: RuntimeSettings = RuntimeSettings()


@dataclasses.dataclass
class ApexResult(TrainResult):
    """TrainResult plus what the actors did: agent steps and epsilon per actor id, the
    weight versions their chunks were played with, and learner updates sent as priorities."""

    actor_steps: dict[int, int] = dataclasses.field(default_factory=dict)
    epsilons: dict[int, float] = dataclasses.field(default_factory=dict)
    versions: list[int] = dataclasses.field(default_factory=list)
    actor_restarts: int = 0
    learning_steps_per_s: float = math.nan  # agent steps/s once the learner was running
    recoveries: int = 0  # resumes from a checkpoint after the learner or a shard died


class _Run:
    """Counters and recent statistics of one run (what the progress line shows)."""

    def __init__(self) -> None:
        self.step = self.updates = self.episodes = 0
        self.owed = 0
        self.recent: collections.deque = collections.deque(maxlen=100)
        self.losses: collections.deque = collections.deque(maxlen=100)
        self.q_values: collections.deque = collections.deque(maxlen=100)
        self.actor_steps: dict[int, int] = collections.Counter()
        self.epsilons: dict[int, float] = {}
        self.versions: set[int] = set()
        self.learning_from: tuple[float, int] | None = None  # (time, step) of the first update
        self.learning_rate = math.nan

    def eps_text(self) -> str:
        if not self.epsilons:
            return "-"
        values = sorted(self.epsilons.values())
        return f"{values[-1]:.3g}..{values[0]:.2g} ({len(values)} actors)"


def train_distributed(config: DQNConfig, env_id: str | None, run_dir: str | Path,
                      settings: ApexSettings = ApexSettings(), resume: bool = False,
                      save_replay: bool = False, *, log: Callable[[str], None] = print,
                      backend: Backend | None = None,
                      on_chunk: Callable[[int, Backend], None] | None = None) -> ApexResult:
    """Train Ape-X style into `run_dir` (see the module docstring).

    backend:  replaces the one `settings` would make (it is closed at the end; no automatic
              recovery then, as a new one cannot be made).
    on_chunk: called with (agent steps so far, backend) after each chunk (tests kill the
              learner here).
    """
    if config.distributional:  # the actors' first priorities are |TD| of mean Q-values,
        # not the C51 cross-entropy the learner's priorities are: the scales would not mix
        raise DQNConfigError("--distributed does not take distributional: true yet (the "
                             "actors' priorities are TD errors); train it in one process")
    result, recoveries = run_recovering(
        lambda again: _train(config, env_id, run_dir, settings, again, save_replay, log,
                             backend, on_chunk),
        run_dir, resume, settings.runtime, backend, log)
    result.recoveries = recoveries
    return result


def _train(config: DQNConfig, env_id: str | None, run_dir: str | Path, settings: ApexSettings,
           resume: bool, save_replay: bool, log: Callable[[str], None], backend: Backend | None,
           on_chunk: Callable[[int, Backend], None] | None) -> ApexResult:
    """One attempt of train_distributed, on one backend."""
    env_id = canonical_env_id(env_id or config.env or "")
    config = dataclasses.replace(config, env=env_id, prioritized=True)
    rundir = RunDir(run_dir, config_dict(config), resume=resume,
                    changeable=CHANGEABLE_ON_RESUME, defaults=config_dict(DQNConfig()))
    for line in rundir.change_notes():
        log(line)
    log(run_summary(env_id, config))
    state = _load_state(rundir, env_id) if resume else None
    probe = make_vec_env(env_id, 1, training=False)
    obs_shape, num_actions = tuple(probe.obs_shape), probe.num_actions
    probe.close()
    shard_capacity = config.replay.capacity // settings.replay_shards
    shard_capacity -= shard_capacity % config.num_envs
    init_seed = int(np.random.SeedSequence(config.seed).generate_state(1)[0])
    backend = backend or make_backend(settings.runtime, config.seed)
    actors = settings.runtime.actors or getattr(backend, "default_actors", lambda: 1)()
    # a run logs every step after its checkpoint again (after step 0 when it has none yet):
    # the rows a killed attempt logged past it go
    metrics = rundir.metrics(resume_step=int(state["step"]) if state is not None else 0)
    run, last_checkpoint = _Run(), None
    try:
        threads = config.torch_threads or max(1, int(settings.runtime.learner_cpus))
        backend.start(
            functools.partial(ApexActor, ActorSpec(env_id, config, actors, settings.chunk)),
            functools.partial(ApexLearner, config, obs_shape, num_actions, init_seed, threads),
            functools.partial(make_replay, config, obs_shape, frame_dtype(env_id),
                              shard_capacity),
            actors=actors, shards=settings.replay_shards)
        if state is not None:
            _restore(backend, state, rundir, run, log)
        log(f"Ape-X: {actors} actors x {config.num_envs} envs, chunks of "
            f"{settings.chunk * config.num_envs} agent steps, replay "
            f"{shard_capacity * settings.replay_shards:,} records in {settings.replay_shards} "
            f"shard(s)")
        network = build_network(config, obs_shape, num_actions, 0)  # for evaluations
        ready = max(config.batch_size, min(config.learning_starts, shard_capacity))
        chunk_steps = settings.chunk * config.num_envs
        published, started, start_step = run.updates, time.perf_counter(), run.step
        window = (started, run.step)
        # entered once the backend runs, so that Ray's own SIGTERM handler in the driver is
        # the one put back; Ray's processes block SIGINT, so a terminal's Ctrl-C stops the
        # driver alone and the learner is still there to be checkpointed
        stopped_by = None
        with StopOnSignal() as stop:
            while True:
                before = run.step
                if run.step < config.total_steps and run.owed <= settings.train_batch:
                    remaining = math.ceil((config.total_steps - run.step) / chunk_steps)
                    for actor_id, chunk in backend.poll(0.0 if run.owed else 1.0, remaining):
                        backend.add(chunk["records"], chunk["td_errors"])
                        _count(run, actor_id, chunk)
                        if on_chunk is not None:
                            on_chunk(run.step, backend)
                if run.step > before and backend.replay_size() >= ready:
                    run.owed += run.step // config.train_every - before // config.train_every
                    run.learning_from = run.learning_from or (time.perf_counter(), run.step)
                if run.owed:  # learner steps owed for the data (the actors keep their calls)
                    n = min(run.owed, settings.train_batch)
                    for m in backend.train_prioritized(n, config.batch_size):
                        run.losses.append(m["loss"])
                        run.q_values.append(m["q_mean"])
                    run.owed -= n
                    run.updates += n
                    if run.updates - published >= settings.publish_every:
                        published = backend.publish()
                if crossed(before, run.step, config.log_every):
                    now = time.perf_counter()
                    rate = (run.step - window[1]) / max(now - window[0], 1e-9)
                    _report(run, config, env_id, rate, backend, ready, metrics, log)
                    window = (now, run.step)
                if crossed(before, run.step, config.eval_every):
                    network.load_state_dict(backend.learner_state()["learner"]["network"])
                    mean, std = evaluate_now(network, env_id, config, run.step,
                                             torch.device("cpu"), log)
                    metrics.log(run.step, eval_return_mean=mean, eval_return_std=std)
                finished = run.step >= config.total_steps and not run.owed
                saved = finished or crossed(before, run.step, config.checkpoint_every)
                if stop.requested and not finished:
                    stopped_by = stop.signal_name
                if saved or stopped_by:
                    last_checkpoint = _checkpoint(rundir, backend, config, run, obs_shape,
                                                  num_actions, save_replay)
                if finished or stopped_by:
                    break
        elapsed = time.perf_counter() - started
        if run.learning_from is not None:
            since, step = run.learning_from
            run.learning_rate = (run.step - step) / max(time.perf_counter() - since, 1e-9)
        rate = (run.step - start_step) / max(elapsed, 1e-9)
        log(f"{'stopped' if stopped_by else 'done'}: {run.step:,} steps ({rate:.0f} "
            f"steps/s this session), {run.updates:,} updates, {run.episodes:,} episodes, "
            f"weights v{published}, {backend.restarts} actors replaced")
    finally:
        metrics.close()
        backend.close()
    recent = float(np.mean(run.recent)) if run.recent else math.nan
    return ApexResult(run.step, run.updates, run.episodes, last_checkpoint, recent,
                      actor_steps=dict(run.actor_steps), epsilons=dict(run.epsilons),
                      versions=sorted(run.versions), actor_restarts=backend.restarts,
                      learning_steps_per_s=run.learning_rate, stopped_by=stopped_by)


def _count(run: _Run, actor_id: int, chunk: dict[str, Any]) -> None:
    run.step += chunk["steps"]
    run.actor_steps[actor_id] += chunk["steps"]
    run.epsilons[actor_id] = chunk["epsilon"]
    run.versions.add(chunk["version"])
    run.episodes += len(chunk["returns"])
    run.recent.extend(chunk["returns"])


def _report(run: _Run, config: DQNConfig, env_id: str, rate: float, backend: Backend,
            ready: int, metrics, log: Callable[[str], None]) -> None:
    means = known_means(return_mean=run.recent, loss=run.losses, q_mean=run.q_values)
    replay = backend.replay_size()
    version = getattr(backend, "version", -1)
    log(progress_line(env_id, run.step, config.total_steps, rate, run.eps_text(),
                      run.episodes, means, len(run.recent), replay, ready,
                      run_label(env_id, config))
        + f" | updates {run.updates:,} | weights v{version}")
    metrics.log(run.step, steps_per_s=rate, episodes=run.episodes, updates=run.updates,
                replay_size=replay, weights_version=version, actors_replaced=backend.restarts,
                **means)


def _checkpoint(rundir: RunDir, backend: Backend, config: DQNConfig, run: _Run,
                obs_shape: tuple[int, ...], num_actions: int, save_replay: bool) -> Path:
    """Replay snapshot first (when asked), then the checkpoint naming it, then older
    snapshots go: a kill at any point leaves a consistent pair (as in train.py)."""
    replay_name = f"step-{run.step:012d}" if save_replay else None
    backend_state = backend.learner_state()
    state = {"format": CHECKPOINT_FORMAT, "mode": "apex", "env_id": config.env,
             "config": config_dict(config), "step": run.step, "episodes": run.episodes,
             "updates": run.updates, "owed": run.owed, "obs_shape": list(obs_shape),
             "num_actions": num_actions, "learner": backend_state.pop("learner"),
             "backend": backend_state, "recent": list(run.recent), "replay": replay_name}
    return save_checkpoint(rundir, state, run.step,
                           backend.save_replay if save_replay else None, replay_name or "")


def _load_state(rundir: RunDir, env_id: str) -> dict[str, Any] | None:
    state = rundir.load_checkpoint()
    if state is not None and (state.get("mode") != "apex" or state.get("env_id") != env_id):
        raise RunDirError(f"the checkpoint in {rundir.checkpoints} is not an Ape-X run on "
                          f"{env_id!r}; resume it without --distributed")
    return state


def _restore(backend: Backend, state: dict[str, Any], rundir: RunDir, run: _Run,
             log: Callable[[str], None]) -> None:
    backend.load_learner_state({"learner": state["learner"], **state["backend"]})
    run.step, run.episodes = int(state["step"]), int(state["episodes"])
    run.updates, run.owed = int(state["updates"]), int(state["owed"])
    run.recent.extend(state["recent"])
    note = "empty replay (refilling before learning)"
    if state["replay"] is not None and (rundir.path / "replay" / state["replay"]).is_dir():
        backend.load_replay(rundir.path / "replay" / state["replay"])
        note = f"replay of {backend.replay_size():,} records"
    else:  # the updates still owed were for data that is gone
        run.owed = 0
    backend.publish()
    log(f"resumed at step {run.step:,} ({run.updates:,} updates) with {note}; actors start "
        f"new games")
