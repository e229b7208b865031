"""A plain single-file DQN loop in the style of CleanRL's dqn_atari.py, kept only as the
yardstick for `rlgo bench atari` (CleanRL itself is not a dependency).

What it does is what such a script does: one gymnasium env (AtariPreprocessing +
FrameStackObservation, episodic life, rewards clipped in the loop), one forward pass per agent
step, a numpy replay that stores each transition's stacked obs and next_obs, and one Adam step
on 32 samples every 4 agent steps against a target network (MSE loss, as in CleanRL). The
hyper-parameters that set the cost (batch 32, an update every 4 steps, the Nature CNN) are the
ones rlgo's own loop is measured with.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class QNetwork(nn.Module):
    def __init__(self, num_actions: int) -> None:
        super().__init__()
        self.network = nn.Sequential(
            nn.Conv2d(4, 32, 8, stride=4), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(), nn.Flatten(),
            nn.Linear(3136, 512), nn.ReLU(), nn.Linear(512, num_actions))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x / 255.0)


def make_env(game: str, seed: int) -> gym.Env:
    import ale_py

    gym.register_envs(ale_py)
    env = gym.make(f"ALE/{game}-v5", frameskip=1, repeat_action_probability=0.0)
    env = gym.wrappers.AtariPreprocessing(env, noop_max=30, frame_skip=4, screen_size=84,
                                          terminal_on_life_loss=True, grayscale_obs=True)
    env = gym.wrappers.FrameStackObservation(env, 4)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    return env


def agent_steps_per_s(game: str = "Pong", learning_starts: int = 1000, steps: int = 1000,
                      capacity: int = 10_000, batch_size: int = 32, train_every: int = 4,
                      seed: int = 0) -> float:
    """Run `learning_starts` steps (untimed, filling the replay), then `steps` timed steps
    of the learning phase; returns agent steps per second of the timed part."""
    rng = np.random.default_rng(seed)
    env = make_env(game, seed)
    num_actions = int(env.action_space.n)
    q_network, target = QNetwork(num_actions), QNetwork(num_actions)
    target.load_state_dict(q_network.state_dict())
    optimizer = torch.optim.Adam(q_network.parameters(), lr=1e-4)
    obs_buf = np.zeros((capacity, 4, 84, 84), np.uint8)
    next_buf = np.zeros((capacity, 4, 84, 84), np.uint8)
    actions = np.zeros(capacity, np.int64)
    rewards = np.zeros(capacity, np.float32)
    dones = np.zeros(capacity, np.float32)
    obs, _ = env.reset(seed=seed)
    size = 0
    start = 0.0
    for step in range(learning_starts + steps):
        if step == learning_starts:
            start = time.perf_counter()
        epsilon = max(0.01, 1.0 - 0.99 * step / 10_000)  # 1 -> 0.01 over 10k steps
        if rng.random() < epsilon:
            action = int(env.action_space.sample())
        else:
            with torch.no_grad():
                action = int(q_network(torch.as_tensor(obs[None])).argmax(dim=1)[0])
        next_obs, reward, terminated, truncated, _ = env.step(action)
        i = step % capacity
        obs_buf[i], next_buf[i], actions[i] = obs, next_obs, action
        rewards[i], dones[i] = np.sign(reward), float(terminated)
        size = min(size + 1, capacity)
        obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset()
        if step >= learning_starts and step % train_every == 0:
            idx = rng.integers(0, size, batch_size)
            with torch.no_grad():
                next_q = target(torch.as_tensor(next_buf[idx])).max(dim=1).values
                y = torch.as_tensor(rewards[idx]) + 0.99 * next_q * (
                    1 - torch.as_tensor(dones[idx]))
            q = q_network(torch.as_tensor(obs_buf[idx])).gather(
                1, torch.as_tensor(actions[idx])[:, None]).squeeze(1)
            loss = F.mse_loss(q, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 1000 == 0:
                target.load_state_dict(q_network.state_dict())
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed
