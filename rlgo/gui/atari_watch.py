"""`rlgo atari watch`: a DQN checkpoint plays an Atari game in a pygame window.

The agent plays whole games under the evaluation protocol (epsilon 0.05 by default, up to 30
no-ops, sticky actions and action set as it trained) on gymnasium's reference pipeline in
colour, the one `rlgo atari eval --video` films; each agent step (4 emulator frames) is shown
once, so 15 steps a second is the game's own speed. Any checkpoint or policy file plays,
trained or not (a fresh run's first checkpoint is a fine thing to watch lose); the CLI's
default is the shipped Pong network (selfplay.atari.policy_file.shipped_policy).

With `video` the frames shown are also written to a file through evaluate's writers (.mp4 is
H.264, which browsers play). Esc, q or closing the window stops. SDL_VIDEODRIVER=dummy draws
into memory (tests, and filming on a machine without a display).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame

from agents.dqn import EpsilonGreedyActor
from envs.atari import AtariSettings, make_reference_env
from envs.atari.classic import canonical_env_id, is_classic
from envs.errors import UserError
from selfplay.atari.config import resolve_device
from selfplay.atari.evaluate import VIDEO_FPS, open_video_writer
from selfplay.atari.policy_file import load_policy

from .app import open_window

SCALE = 3  # the 160x210 screen at 3x: 480x630, a comfortable window on any desktop


class WatchError(UserError):
    """What to watch cannot be played or filmed (a classic-control task, a video format)."""


@dataclasses.dataclass
class WatchResult:
    """Scores of the games watched (a game cut by `max_steps` counts as played), the frames
    shown, and the video written (or None)."""

    env_id: str
    scores: list[float]
    frames: int
    video: Path | None
    stopped: bool  # the viewer closed the window or pressed Esc / q


def _wants_to_stop() -> bool:
    for event in pygame.event.get():
        if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN
                                         and event.key in (pygame.K_ESCAPE, pygame.K_q)):
            return True
    return False


def _show(frame: np.ndarray) -> None:
    """Draw an RGB frame [H, W, 3] scaled to the window's current size."""
    screen = pygame.display.get_surface()
    image = pygame.surfarray.make_surface(np.ascontiguousarray(frame.swapaxes(0, 1)))
    screen.blit(pygame.transform.scale(image, screen.get_size()), (0, 0))
    pygame.display.flip()


def watch(checkpoint: str | Path, episodes: int = 1, fps: float = VIDEO_FPS, eps: float = 0.05,
          seed: int = 0, device: str = "auto", video: str | Path | None = None,
          max_steps: int | None = None, log: Callable[[str], None] = print) -> WatchResult:
    """Play `episodes` games of the checkpoint's (or policy file's) game in a window at `fps`
    agent steps a second (0: as fast as the network plays); each game stops after `max_steps`
    agent steps if given.
    Raises WatchError for a classic-control checkpoint or a video the writers cannot make, and
    rlgo.gui.app.DisplayUnavailable without a display."""
    torch_device = resolve_device(device)
    network, config, state = load_policy(checkpoint, torch_device)
    env_id = canonical_env_id(state["env_id"])
    if is_classic(env_id):
        raise WatchError(f"watch is for Atari games; {env_id} renders through gymnasium's own "
                         "window (`rlgo atari eval` scores it)")
    writer = None
    if video is not None:
        said: list[str] = []
        writer = open_video_writer(Path(video), said.append)
        if writer is None:
            raise WatchError(said[-1])
    settings = AtariSettings.evaluation(noop_max=config.noop_max,
                                        sticky_actions=config.sticky_actions,
                                        full_action_space=config.full_action_space)
    env = make_reference_env(env_id, settings, render_mode="rgb_array")
    actor = EpsilonGreedyActor(network, int(env.action_space.n), np.random.default_rng(seed),
                               torch_device)
    clock = pygame.time.Clock()
    scores: list[float] = []
    frames, stopped = 0, False
    try:
        obs, _ = env.reset(seed=seed)
        first = env.render()
        open_window((first.shape[1] * SCALE, first.shape[0] * SCALE))
        pygame.display.set_caption(f"rlgo: {env_id}")
        for game in range(episodes):
            if game:
                obs, _ = env.reset()
            score, steps, done = 0.0, 0, False
            while not done:
                frame = env.render()
                _show(frame)
                if writer is not None:
                    writer(frame)
                frames += 1
                if _wants_to_stop():
                    stopped = True
                    break
                action = int(actor.act(obs[None], eps)[0])
                obs, reward, terminated, truncated, _ = env.step(action)
                score += float(reward)
                steps += 1
                done = terminated or truncated or (max_steps is not None and steps >= max_steps)
                pygame.display.set_caption(f"rlgo: {env_id}  game {game + 1}/{episodes}  "
                                           f"score {score:g}")
                if fps > 0:
                    clock.tick(fps)
            if stopped:
                break
            scores.append(score)
            log(f"game {game + 1}/{episodes}: {score:g}")
    finally:
        env.close()
        if writer is not None:
            writer(None)
        pygame.display.quit()
    if writer is not None:
        log(f"video: {video} ({frames} frames at {VIDEO_FPS} fps)")
    return WatchResult(env_id, scores, frames, Path(video) if video is not None else None,
                       stopped)
