"""Stable-Baselines3's DQN on the bench's terms, for `rlgo bench atari`'s side-by-side figure.

The library a user would otherwise run, set up as its Atari zoo does (the ALE env with
frameskip 1 under SB3's AtariWrapper: 30 no-ops, 4-frame max-pool skip, 84x84 grey, a life
loss ends the episode, rewards clipped; 4 frames stacked) with the cost-setting parameters of
rlgo's measured loop: the Nature CNN (SB3's CnnPolicy), batch 32, a gradient step every 4 agent
steps, a target copy every 1,000 steps, Adam at 1e-4, a replay of `capacity`, CPU. Only the
learning phase is timed, after `learning_starts` untimed steps fill the replay, as for rlgo and
the reference loop. SB3 is an optional extra (`pip install 'rlgo[bench]'`): without it the
bench leaves this figure out and says why.
"""

from __future__ import annotations

import time


def available() -> bool:
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        return False
    return True


def build(game: str = "Pong", learning_starts: int = 1000, total_steps: int = 2000,
          capacity: int = 10_000, seed: int = 0):
    """SB3's DQN on one `game` env, set up as the module docstring says."""
    import ale_py
    import gymnasium as gym
    from stable_baselines3 import DQN
    from stable_baselines3.common.atari_wrappers import AtariWrapper
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

    gym.register_envs(ale_py)

    def make_env() -> gym.Env:
        env = gym.make(f"ALE/{game}-v5", frameskip=1, repeat_action_probability=0.0)
        return AtariWrapper(env, noop_max=30, frame_skip=4, screen_size=84,
                            terminal_on_life_loss=True, clip_reward=True)

    env = VecFrameStack(DummyVecEnv([make_env]), 4)
    # epsilon 1 -> 0.01 over 10,000 steps, as in the other loops
    return DQN("CnnPolicy", env, learning_rate=1e-4, buffer_size=capacity,
               learning_starts=learning_starts, batch_size=32, train_freq=4, gradient_steps=1,
               target_update_interval=1000, exploration_fraction=10_000 / total_steps,
               exploration_final_eps=0.01, optimize_memory_usage=False, device="cpu",
               seed=seed, verbose=0)


def agent_steps_per_s(game: str = "Pong", learning_starts: int = 1000, steps: int = 1000,
                      capacity: int = 10_000, seed: int = 0) -> float:
    """Agent steps per second of SB3's DQN in its learning phase (see the module docstring)."""
    from stable_baselines3.common.callbacks import BaseCallback

    model = build(game, learning_starts, learning_starts + steps, capacity, seed)
    clock = {"start": 0.0}

    class LearningPhaseClock(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps == learning_starts:
                clock["start"] = time.perf_counter()
            return True

    try:
        model.learn(total_timesteps=learning_starts + steps, callback=LearningPhaseClock())
        return steps / (time.perf_counter() - clock["start"])
    finally:
        model.get_env().close()
