"""Single-process DQN training: N lockstep environments, one frame replay, one learner.

Each loop iteration: choose N actions epsilon-greedily, step the environments, append one row
(N records) to the replay, then do one gradient update per `train_every` agent steps once the
replay holds `learning_starts` transitions. Atari emulators run in ale-py's threads, so there
the updates run while the emulators step (before the row is appended). Every `log_every`
steps a progress line goes to stdout and a metrics row to the run directory; every
`eval_every` steps the greedy policy plays whole games under the evaluation protocol; every
`checkpoint_every` steps (and at the end) a checkpoint is written atomically; so is one at the
end of the step during which Ctrl-C or SIGTERM arrived (selfplay/stopping.py), before the run
returns.

Exact resume: a checkpoint holds the learner (online and target weights, optimizer, update
count), the agent-step counter (hence the epsilon and beta schedules), the actor's numpy RNG,
torch's RNG, the environments' own state when they can give it (classic control; the Atari
emulators cannot, so those games restart, with a seed drawn from the run's seed and the step),
the pending observation, and with `save_replay` the replay and its sampler (records,
priorities, RNG). With all of those, an interrupted and resumed run computes the same weights
as one that was never stopped (tests/selfplay/test_atari_train.py checks it on CartPole).

Randomness: one root seed; numpy.random.SeedSequence children for the actor, the sampler, the
environments and the network initialisation (under torch.random.fork_rng, so the process's
global torch RNG is left as it was).
"""

from __future__ import annotations

import collections
import dataclasses
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from agents.cpu import flush_denormals
from agents.dqn import (
    DQNLearner,
    EpsilonGreedyActor,
    LearnerConfig,
    LinearSchedule,
)
from envs.atari.classic import canonical_env_id, is_classic, make_vec_env
from selfplay.atari.config import (
    CHANGEABLE_ON_RESUME,
    SMALL_MACHINE_CPUS,
    DQNConfig,
    DQNConfigError,
    config_dict,
    cpu_threads,
    make_network,
    resolve_device,
    run_label,
    run_summary,
)
from selfplay.atari.evaluate import play_episodes
from selfplay.replay import PrioritizedSampler, UniformSampler, available_memory, format_bytes
from selfplay.replay.frames import FrameReplay
from selfplay.rundir import RunDir, RunDirError, RunLock
from selfplay.runtime.driver import crossed, save_checkpoint
from selfplay.stopping import StopOnSignal

CHECKPOINT_FORMAT = 1


@dataclasses.dataclass
class TrainResult:
    """Where a run ended: steps done, updates, finished training episodes, last checkpoint."""

    steps: int
    updates: int
    episodes: int
    checkpoint: Path | None
    recent_return: float
    stopped_by: str | None = None  # the signal (SIGINT, SIGTERM) that ended it early


def learner_config(config: DQNConfig) -> LearnerConfig:
    return LearnerConfig(optimizer=config.optimizer, lr=config.lr, adam_eps=config.adam_eps,
                         loss=config.loss, double=config.double, grad_clip=config.grad_clip,
                         target_update=max(1, config.target_update // config.train_every))


def build_network(config: DQNConfig, obs_shape, num_actions: int, seed: int) -> torch.nn.Module:
    """The Q-network, initialised from `seed` without touching the global torch RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            return make_network(config, obs_shape, num_actions)
        except ValueError as err:
            raise DQNConfigError(f"network: {err}") from None


def known_means(**series) -> dict[str, float]:
    """The mean of each series that has values. A metric not known yet (no game ended, no
    update made) is left out, so that neither the progress line nor metrics.csv says nan."""
    return {key: float(np.mean(values)) for key, values in series.items() if len(values)}


def progress_line(env_id: str, step: int, total: int, rate: float, eps: str, episodes: int,
                  means: dict[str, float], games: int, replay: int, learning_at: int,
                  label: str | None = None) -> str:
    """The periodic one-line status (single-process and Ape-X runs print the same): `means`
    from known_means (return_mean over the last `games` games, loss, q_mean); until they are
    known it says what they wait for, the first game's end and a replay of `learning_at`.
    `label` (run_label: the env and its protocol) replaces env_id in the brackets."""
    score = (f"return {means['return_mean']:.2f} (last {games})" if "return_mean" in means
             else "return - (no game ended yet)")
    fit = (f"loss {means['loss']:.4f} | q {means['q_mean']:.3f}" if "loss" in means
           else f"loss - | q - (learning starts at replay {learning_at:,})")
    return (f"[{label or env_id}] step {step:,}/{total:,} ({100 * step / total:.1f}%) | "
            f"{rate:,.0f} steps/s | eps {eps} | episodes {episodes:,} | {score} | {fit} | replay "
            f"{replay:,}")


def evaluate_now(network: torch.nn.Module, env_id: str, config: DQNConfig, step: int,
                 device: torch.device, log: Callable[[str], None]) -> tuple[float, float]:
    """Play config.eval_episodes games under the evaluation protocol; log and return (mean,
    std). The seed comes from the run's seed and the step, so evaluations are repeatable.
    The network plays in eval mode (noisy layers without noise) and goes back to the mode it
    was in."""
    seed = int(np.random.SeedSequence([config.seed, step]).generate_state(1)[0] % 2**31)
    training = network.training
    network.eval()
    try:
        scores = play_episodes(network, env_id, config, config.eval_episodes, config.eval_eps,
                               seed, device)
    finally:
        network.train(training)
    mean, std = float(np.mean(scores)), float(np.std(scores))
    log(f"[{run_label(env_id, config)}] eval at step {step:,}: {mean:.2f} +- {std:.2f} over "
        f"{len(scores)} episodes (eps {config.eval_eps})")
    return mean, std


def _rng_state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


class Trainer:
    """One run's state; `run()` trains until total_steps (or `stop_after`)."""

    def __init__(self, config: DQNConfig, env_id: str, run_dir: str | Path,
                 resume: bool = False, save_replay: bool = False,
                 log: Callable[[str], None] = print) -> None:
        env_id = canonical_env_id(env_id or config.env or "")
        self.config = config = dataclasses.replace(config, env=env_id)
        self.env_id, self.save_replay, self.log = env_id, save_replay, log
        self.device = resolve_device(config.device)
        self.rundir = RunDir(run_dir, config_dict(config), resume=resume,
                             changeable=CHANGEABLE_ON_RESUME, defaults=config_dict(DQNConfig()))
        for line in self.rundir.change_notes():
            log(line)
        log(run_summary(env_id, config))
        seeds = np.random.SeedSequence(config.seed).spawn(4)
        self.actor_rng = np.random.default_rng(seeds[0])
        sampler_rng = np.random.default_rng(seeds[1])
        self.env_seed = int(seeds[2].generate_state(1)[0] % 2**31)
        init_seed = int(seeds[3].generate_state(1)[0])

        self.env = make_vec_env(env_id, config.num_envs, training=True,
                                noop_max=config.noop_max, sticky_actions=config.sticky_actions,
                                full_action_space=config.full_action_space,
                                episodic_life=config.episodic_life,
                                fire_reset=config.fire_reset, clip_rewards=config.clip_rewards)
        self.obs_shape = tuple(self.env.obs_shape)
        network = build_network(config, self.obs_shape, self.env.num_actions, init_seed)
        self.learner = DQNLearner(network, learner_config(config), self.device)
        self.actor = EpsilonGreedyActor(self.learner.network, self.env.num_actions,
                                        self.actor_rng, self.device)
        self.epsilon = LinearSchedule(config.eps_start, config.eps_end, config.eps_decay_steps)
        self.beta = LinearSchedule(config.replay.priority_beta_start,
                                   config.replay.priority_beta_end, config.total_steps)
        self.replay = self._make_replay(sampler_rng)
        # updates begin once the replay holds this many records
        self.ready_size = max(config.batch_size, min(config.learning_starts,
                                                     self.replay.capacity))

        self.step = 0
        self.episodes = 0
        self.obs = self.env.reset(seed=self.env_seed)
        self.first = np.ones(config.num_envs, bool)
        self.episode_return = np.zeros(config.num_envs, np.float64)
        self.recent = collections.deque(maxlen=100)
        self.recent_updates = collections.deque(maxlen=100)  # the last UpdateResults, for the logs
        self.last_checkpoint: Path | None = None
        # the step the run continues from (its checkpoint's): the metrics rows a killed
        # attempt logged past it go, those of a first attempt killed before its checkpoint too
        self.resumed_step = 0
        if resume:
            self._restore()

    def _make_replay(self, rng: np.random.Generator) -> FrameReplay:
        config, n = self.config, self.config.num_envs
        capacity = max(config.replay.capacity - config.replay.capacity % n, n)
        frame_shape = self.obs_shape[1:]
        dtype = np.float32 if is_classic(self.env_id) else np.uint8
        need = FrameReplay.estimate_bytes(capacity, frame_shape, dtype)
        available, total = available_memory()
        self.log(f"replay: {capacity:,} transitions of {'x'.join(map(str, frame_shape))} "
                 f"{np.dtype(dtype).name} frames need {format_bytes(need)} of RAM "
                 f"({format_bytes(available)} of {format_bytes(total)} available)")
        if config.prioritized:
            sampler = PrioritizedSampler(capacity, config.replay.priority_alpha,
                                         config.replay.priority_beta_start,
                                         config.replay.priority_eps, rng=rng)
        else:
            sampler = UniformSampler(rng)
        return FrameReplay(capacity, frame_shape, dtype, sampler=sampler,
                           stack=self.obs_shape[0], streams=n, n_step=config.n_step,
                           gamma=config.gamma)

    # ---- the loop -----------------------------------------------------------------------------

    def run(self, stop_after: int | None = None,
            stop: StopOnSignal | None = None) -> TrainResult:
        """Train to total_steps. `stop_after` (tests) returns early after that many agent
        steps, without a checkpoint, as a killed run would; a `stop` request (Ctrl-C) returns
        at the end of the current step with a checkpoint, ready for --resume."""
        config, n = self.config, self.config.num_envs
        started, start_step = time.perf_counter(), self.step
        window_time, window_step = started, self.step
        stopped_by = None
        # Atari emulators step in ale-py's threads: the updates due run while they do (on
        # the replay as it was before this row; the actions were chosen before either)
        overlap = hasattr(self.env, "send")
        while self.step < config.total_steps:
            eps = self.epsilon(self.step)
            actions = self.actor.act(self.obs, eps)
            before, self.step = self.step, self.step + n
            due = self.step // config.train_every - before // config.train_every
            if overlap:
                self.env.send(actions)
                self._train(due, in_flight=n)
                self._record(actions, self.env.recv())
            else:
                self._record(actions, self.env.step(actions))
                self._train(due)
            if crossed(before, self.step, config.log_every):
                now = time.perf_counter()
                rate = (self.step - window_step) / max(now - window_time, 1e-9)
                self._report(eps, rate)
                window_time, window_step = now, self.step
            if crossed(before, self.step, config.eval_every):
                self._evaluate()
            saved = (crossed(before, self.step, config.checkpoint_every)
                     or self.step >= config.total_steps)
            if saved:
                self.save_checkpoint()
            if stop is not None and stop.requested and self.step < config.total_steps:
                if not saved:
                    self.save_checkpoint()
                stopped_by = stop.signal_name
                break
            if stop_after is not None and self.step >= stop_after:
                break
        elapsed = time.perf_counter() - started
        self.log(f"{'stopped' if stopped_by else 'done'}: {self.step:,} steps "
                 f"({(self.step - start_step) / max(elapsed, 1e-9):.0f} steps/s this session), "
                 f"{self.learner.updates:,} updates, {self.episodes:,} episodes")
        return TrainResult(self.step, self.learner.updates, self.episodes,
                           self.last_checkpoint, self._recent_return(), stopped_by)

    def _record(self, actions: np.ndarray, out) -> None:
        self.replay.add_row(self.obs[:, -1], actions, out.reward, out.terminated,
                            out.truncated, self.first, out.reset)
        self._count_episodes(out)
        self.first, self.obs = out.reset, out.obs

    def _train(self, due: int, in_flight: int = 0) -> None:
        """`due` updates once the replay holds `ready_size` records, counting the `in_flight`
        ones of the row the emulators are making (the same schedule with or without overlap)."""
        if len(self.replay) + in_flight >= self.ready_size:
            for _ in range(due):
                self._update()

    def _update(self) -> None:
        if self.config.prioritized:
            self.replay.buffer.sampler.set_beta(self.beta(self.step))
        batch = self.replay.sample(self.config.batch_size)
        result = self.learner.update(batch)
        if self.config.prioritized:
            self.replay.update_priorities(batch["indices"], result.td_errors)
        self.recent_updates.append(result)  # read when logging: no wait for the GPU per update

    def _count_episodes(self, out) -> None:
        """A game ends when its environment restarts (whole games, raw score)."""
        self.episode_return += out.score
        for e in np.flatnonzero(out.reset):
            self.recent.append(float(self.episode_return[e]))
            self.episode_return[e] = 0.0
            self.episodes += 1

    def _recent_return(self) -> float:
        return float(np.mean(self.recent)) if self.recent else math.nan

    def _report(self, eps: float, rate: float) -> None:
        updates = self.recent_updates
        means = known_means(return_mean=self.recent, loss=[u.loss for u in updates],
                            q_mean=[u.q_mean for u in updates])
        self.log(progress_line(self.env_id, self.step, self.config.total_steps, rate,
                               f"{eps:.3f}", self.episodes, means, len(self.recent),
                               len(self.replay), self.ready_size,
                               run_label(self.env_id, self.config)))
        self.metrics.log(self.step, steps_per_s=rate, epsilon=eps, episodes=self.episodes,
                         updates=self.learner.updates, replay_size=len(self.replay), **means)

    @property
    def metrics(self):
        if not hasattr(self, "_metrics"):
            # resumed: drop the metrics rows logged past the checkpoint (they are logged again)
            self._metrics = self.rundir.metrics(resume_step=self.resumed_step)
        return self._metrics

    def _evaluate(self) -> None:
        mean, std = evaluate_now(self.learner.network, self.env_id, self.config, self.step,
                                 self.device, self.log)
        self.metrics.log(self.step, eval_return_mean=mean, eval_return_std=std)

    # ---- checkpoints --------------------------------------------------------------------------

    def save_checkpoint(self) -> Path:
        """Replay snapshot first (when asked), then the checkpoint that names it, then drop
        older replay snapshots: a kill at any point leaves a consistent pair."""
        replay_name = f"step-{self.step:012d}" if self.save_replay else None
        state = {
            "format": CHECKPOINT_FORMAT, "env_id": self.env_id,
            "config": config_dict(self.config), "step": self.step, "episodes": self.episodes,
            "obs_shape": list(self.obs_shape), "num_actions": self.env.num_actions,
            "learner": self.learner.state_dict(), "actor_rng": _rng_state(self.actor_rng),
            "torch_rng": torch.get_rng_state(),
            "env": self.env.state_dict() if hasattr(self.env, "state_dict") else None,
            "obs": torch.from_numpy(np.ascontiguousarray(self.obs)),
            "first": self.first.tolist(), "episode_return": self.episode_return.tolist(),
            "recent": list(self.recent), "replay": replay_name,
            "replay_total_added": self.replay.storage.total_added,
        }
        self.last_checkpoint = save_checkpoint(
            self.rundir, state, self.step, self.replay.save if self.save_replay else None,
            replay_name or "")
        return self.last_checkpoint

    def _restore(self) -> None:
        paths = self.rundir.checkpoint_paths()
        state = self.rundir.load_checkpoint(paths[-1]) if paths else None
        if state is None:
            self.log(f"resume: {self.rundir.path} has no checkpoint yet; starting from step 0")
            return
        if state.get("mode") == "apex":
            raise RunDirError(f"{self.rundir.path} was trained with --distributed; resume it "
                              f"with --distributed")
        if state.get("format") != CHECKPOINT_FORMAT or state.get("env_id") != self.env_id:
            raise RunDirError(f"the checkpoint in {self.rundir.checkpoints} is for "
                              f"{state.get('env_id')!r} (format {state.get('format')}), not "
                              f"{self.env_id!r}")
        self.last_checkpoint = paths[-1]
        self.learner.load_state_dict(state["learner"])
        self.actor_rng.bit_generator.state = state["actor_rng"]
        torch.set_rng_state(state["torch_rng"])
        self.step, self.episodes = int(state["step"]), int(state["episodes"])
        self.resumed_step = self.step
        self.recent.extend(state["recent"])
        replay_note = "empty replay (refilling before learning)"
        if state["replay"] is not None:
            path = self.rundir.path / "replay" / state["replay"]
            if path.is_dir():
                self.replay.load(path)
                replay_note = f"replay of {len(self.replay):,} transitions"
        if state["env"] is not None:
            self.env.load_state_dict(state["env"])
            self.obs = state["obs"].numpy().copy()
            self.first = np.array(state["first"], bool)
            self.episode_return = np.array(state["episode_return"], np.float64)
            env_note = "environments restored"
        else:  # emulators cannot be restored: start fresh games (the replay sees a cut)
            seed = int(np.random.SeedSequence([self.config.seed, self.step]).generate_state(1)[0]
                       % 2**31)
            self.obs = self.env.reset(seed=seed)
            self.first = np.ones(self.config.num_envs, bool)
            self.episode_return[:] = 0.0
            env_note = "new games started"
        self.log(f"resumed at step {self.step:,} ({self.learner.updates:,} updates) with "
                 f"{replay_note}; {env_note}")


def train(config: DQNConfig, env_id: str | None, run_dir: str | Path, resume: bool = False,
          save_replay: bool = False, *, stop_after: int | None = None,
          log: Callable[[str], None] = print) -> TrainResult:
    """Train a DQN agent on `env_id` (or config.env) into `run_dir`; see the module docstring.
    Raises RunDirError, ReplayError, UnknownEnvError or ValueError on what a user can fix."""
    flush_denormals()  # before torch starts its threads: agents/cpu.py
    threads = torch.get_num_threads()
    torch.set_num_threads(cpu_threads(config.torch_threads))  # process-wide: restored below
    try:
        with RunLock(run_dir, create=not resume):  # for the whole run: RunDir finds it held
            n = torch.get_num_threads()
            log(f"torch: {n} CPU thread{'s' * (n > 1)}" + ("" if config.torch_threads else
                f" (torch_threads 0: 1 on up to {SMALL_MACHINE_CPUS} CPUs, else torch's "
                f"default; --set torch_threads=N to choose)"))
            trainer = Trainer(config, env_id, run_dir, resume, save_replay, log)
            try:
                with StopOnSignal() as stop:
                    return trainer.run(stop_after, stop)
            finally:
                if hasattr(trainer, "_metrics"):
                    trainer._metrics.close()
                trainer.env.close()
    finally:
        torch.set_num_threads(threads)

