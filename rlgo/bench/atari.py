"""`rlgo bench atari`: how fast the Atari DQN pieces and the whole loop run on this machine.

    env_steps_per_s_single / _vector   ale-py vector env, random actions, 1 and N games
    learner_updates_per_s (_rmsprop)   DQNLearner, Nature CNN, batch 32, CPU, Adam (RMSProp)
    agent_steps_per_s                  `rlgo atari train` end to end (N envs), learning phase
    agent_steps_per_s_1env             the same with one env
    reference_agent_steps_per_s        a plain CleanRL-style loop (rlgo/bench/atari_reference.py)
    speedup_vs_reference               agent_steps_per_s / reference_agent_steps_per_s
    sb3_agent_steps_per_s              Stable-Baselines3's DQN on the same terms (atari_sb3.py;
                                       left out, with a line saying so, where SB3 is absent)
    speedup_vs_sb3                     agent_steps_per_s / sb3_agent_steps_per_s
    agent_steps_per_s_distributed      Ape-X on embedded Ray with 2 actors, learning phase

End-to-end figures run `rlgo atari train`'s loop with the settings of CleanRL's dqn_atari.py
(configs/atari/dqn_nature.yaml with Adam at lr 1e-4, MSE loss, a target copy every 1000 steps:
batch 32, an update every 4 agent steps, the Nature CNN, CPU), as does the reference loop, and
time only the learning phase: each round first fills the replay with `fill_steps` steps,
untimed; so does Stable-Baselines3's DQN, with the same network, batch, update and target
periods, optimiser and replay size. All loops here run with the same torch threads
(`torch_threads`); on a machine shared with other jobs, 1 thread avoids OpenMP's spinning
threads fighting the neighbours for cores. The loops take turns round by round, so a busy
neighbour slows all alike; each figure is the median of its rounds. Each
end-to-end round runs in a fresh process (`fresh_processes`), so no loop inherits another's
allocator, OpenMP or emulator-thread state: round to round the figures then vary with the
machine, not with the order the loops ran in.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from .report import emit, rate


@dataclass(frozen=True)
class AtariBenchConfig:
    """seconds/rounds: env and learner timings; fill_steps, timed_steps: per end-to-end
    round; distributed_steps: timed agent steps of the Ape-X run (0 skips it)."""

    game: str = "Pong"
    seconds: float = 2.0
    rounds: int = 3
    vector_envs: int = 8
    fill_steps: int = 1000
    timed_steps: int = 800
    distributed_actors: int = 2
    distributed_steps: int = 2400
    torch_threads: int = 0  # for every loop measured here alike (0: torch's default)
    fresh_processes: bool = True  # each end-to-end round in its own (spawned) process
    seed: int = 0


def env_rate(game: str, num_envs: int, seconds: float, rounds: int, seed: int) -> float:
    """Agent steps/s of the vector env with uniform random actions."""
    from envs.atari import AtariSettings, AtariVecEnv

    env = AtariVecEnv(game, num_envs, AtariSettings.training())
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)

    def work() -> int:
        env.step(rng.integers(0, env.num_actions, num_envs))
        return num_envs

    try:
        return rate(work, seconds, rounds)
    finally:
        env.close()


def learner_rate(optimizer: str, seconds: float, rounds: int, seed: int) -> float:
    """Updates/s of DQNLearner (Nature CNN, batch 32, `optimizer`) on a fixed random batch."""
    from agents.dqn import DQNLearner, LearnerConfig, build_q_network

    rng = np.random.default_rng(seed)
    # [2, 32, 4, 84, 84] laid out channels-last, as the frame replay's stacks are
    frames = rng.integers(0, 256, (2, 32, 84, 84, 4), dtype=np.uint8).transpose(0, 1, 4, 2, 3)
    batch = {"obs": frames[0], "next_obs": frames[1], "action": rng.integers(0, 6, 32),
             "reward": np.zeros(32, np.float32), "discount": np.full(32, 0.99, np.float32)}
    learner = DQNLearner(build_q_network((4, 84, 84), 6),
                         LearnerConfig(optimizer=optimizer, lr=1e-4, double=False))
    def work() -> int:
        learner.update(batch)
        return 1

    work()
    return rate(work, seconds, rounds)


def cleanrl_config(config: AtariBenchConfig, num_envs: int, total_steps: int):
    """The Nature config with CleanRL dqn_atari.py's optimiser, loss and target period."""
    from rlgo.config import load_config, shipped_config
    from selfplay.atari import DQNConfig, ReplayConfig

    nature = load_config(DQNConfig, shipped_config("atari/dqn_nature"))
    return dataclasses.replace(
        nature, optimizer="adam", lr=1e-4, adam_eps=1e-8, loss="mse", target_update=1000,
        grad_clip=None, eps_end=0.01, eps_decay_steps=10_000, total_steps=total_steps,
        learning_starts=config.fill_steps, num_envs=num_envs, eval_every=0,
        checkpoint_every=10**9, log_every=10**9, device="cpu", seed=config.seed,
        replay=ReplayConfig(capacity=max(10_000, 2 * config.fill_steps)))


def ours_rate(config: AtariBenchConfig, num_envs: int) -> float:
    """Agent steps/s of the single-process trainer in its learning phase."""
    from selfplay.atari.train import Trainer

    total = config.fill_steps + config.timed_steps
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cleanrl_config(config, num_envs, 10 * total), config.game,
                          f"{tmp}/run", log=lambda line: None)
        try:
            trainer.run(stop_after=config.fill_steps)
            start, step = time.perf_counter(), trainer.step
            trainer.run(stop_after=total)
            return (trainer.step - step) / (time.perf_counter() - start)
        finally:
            trainer.env.close()


def distributed_rate(config: AtariBenchConfig) -> float:
    """Agent steps/s of an Ape-X run on embedded Ray once its learner is running."""
    from selfplay.atari.apex import ApexSettings, train_distributed
    from selfplay.runtime import RuntimeSettings

    total = config.fill_steps + config.distributed_steps
    settings = ApexSettings(chunk=25, runtime=RuntimeSettings(
        actors=config.distributed_actors, actor_cpus=0.5))
    with tempfile.TemporaryDirectory() as tmp:
        result = train_distributed(cleanrl_config(config, 1, total), config.game,
                                   f"{tmp}/run", settings, log=lambda line: None)
    return result.learning_steps_per_s


def reference_rate(config: AtariBenchConfig, seed: int) -> float:
    """Agent steps/s of the plain CleanRL-style loop in its learning phase."""
    from rlgo.bench.atari_reference import agent_steps_per_s

    return agent_steps_per_s(config.game, config.fill_steps, config.timed_steps, seed=seed)


def sb3_rate(config: AtariBenchConfig, seed: int) -> float:
    """Agent steps/s of Stable-Baselines3's DQN in its learning phase."""
    from rlgo.bench.atari_sb3 import agent_steps_per_s

    return agent_steps_per_s(config.game, config.fill_steps, config.timed_steps, seed=seed)


def _with_threads(torch_threads: int, measure, *args) -> float:
    if torch_threads:
        import torch

        torch.set_num_threads(torch_threads)
    return measure(*args)


def _round(config: AtariBenchConfig, measure, *args) -> float:
    """`measure(*args)`, in a fresh spawned process when the config asks for one."""
    if not config.fresh_processes:
        return measure(*args)
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
        return pool.submit(_with_threads, config.torch_threads, measure, *args).result()


def run(config: AtariBenchConfig, json_path: str | None = None) -> dict:
    import torch

    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    rows = []
    for key, n in (("env_steps_per_s_single", 1),
                   ("env_steps_per_s_vector", config.vector_envs)):
        value = env_rate(config.game, n, config.seconds, config.rounds, config.seed)
        rows.append((key, value, f"agent steps/s, {n} env(s), random actions"))
        print(f"  env x{n}: {value:,.0f} steps/s", file=sys.stderr)
    for key, optimizer in (("learner_updates_per_s", "adam"),
                           ("learner_updates_per_s_rmsprop", "rmsprop")):
        updates = learner_rate(optimizer, config.seconds, config.rounds, config.seed)
        rows.append((key, updates, f"updates/s, Nature CNN, batch 32, {optimizer}, CPU"))
        print(f"  learner ({optimizer}): {updates:,.1f} updates/s", file=sys.stderr)
    from rlgo.bench import atari_sb3

    with_sb3 = atari_sb3.available()
    if not with_sb3:
        print("  Stable-Baselines3 is not installed (pip install 'rlgo[bench]'): no SB3 "
              "figure", file=sys.stderr)
    ours, ours_1env, ref, sb3 = [], [], [], []
    for r in range(config.rounds):
        ours.append(_round(config, ours_rate, config, config.vector_envs))
        ours_1env.append(_round(config, ours_rate, config, 1))
        ref.append(_round(config, reference_rate, config, config.seed + r))
        if with_sb3:
            sb3.append(_round(config, sb3_rate, config, config.seed + r))
        print(f"  round {r + 1}: ours {ours[-1]:,.0f} ({config.vector_envs} envs), "
              f"{ours_1env[-1]:,.0f} (1 env); reference {ref[-1]:,.0f} agent steps/s "
              f"({ours[-1] / ref[-1]:.2f}x)"
              + (f"; SB3 {sb3[-1]:,.0f} ({ours[-1] / sb3[-1]:.2f}x)" if sb3 else ""),
              file=sys.stderr)
    ours_m, ref_m = statistics.median(ours), statistics.median(ref)
    rows += [("agent_steps_per_s", ours_m, f"agent steps/s, {config.vector_envs} envs, "
              "train_every 4, batch 32"),
             ("agent_steps_per_s_1env", statistics.median(ours_1env), "agent steps/s, 1 env"),
             ("reference_agent_steps_per_s", ref_m, "agent steps/s, plain CleanRL-style loop"),
             ("speedup_vs_reference", ours_m / ref_m, "x (agent_steps_per_s / reference)")]
    if sb3:
        sb3_m = statistics.median(sb3)
        rows += [("sb3_agent_steps_per_s", sb3_m, "agent steps/s, Stable-Baselines3 DQN"),
                 ("speedup_vs_sb3", ours_m / sb3_m, "x (agent_steps_per_s / SB3's)")]
    if config.distributed_steps > 0:
        value = distributed_rate(config)
        rows.append(("agent_steps_per_s_distributed", value,
                     f"agent steps/s, Ape-X, {config.distributed_actors} actors on Ray"))
        print(f"  distributed: {value:,.0f} agent steps/s", file=sys.stderr)
    return emit(f"rlgo bench atari ({config.game}, CPU)", rows, json_path,
                {"config": dataclasses.asdict(config)})
