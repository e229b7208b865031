"""Batched Atari games with DQN preprocessing, on ale-py's native vector environment.

ale-py's `AtariVectorEnv` runs N emulators in C++ threads and does the standard preprocessing
itself: frame skip 4 with the max over the last 2 frames, grey 84x84 by cv2.resize INTER_AREA
(the same call gymnasium's AtariPreprocessing makes), a stack of the last 4 frames (zero frames
before the first one of a game, as FrameStackObservation(padding_type="zero")), up to 30
no-ops after each reset (uniform in [0, 29]), and a 108k-frame cap (truncation). tests/envs
check frame by frame that it matches gymnasium's AtariPreprocessing + FrameStackObservation.

What the training and the evaluation settings change (Machado et al. 2018 recommend sticky
actions instead of no-ops; both are offered):

- `episodic_life` (training): losing a life is `terminated` for learning (no bootstrap) but the
  game goes on, as in DQN; the frame stack is not cleared. ale-py's own `episodic_life` flag
  would restart the whole game at each life loss instead, so its `life_loss_info` flag is used.
- `fire_reset` (training): press FIRE after each reset, for games that wait for it.
- `clip_rewards` (training): `reward` is the sign of the score change; `score` stays raw.
- `sticky_actions`: the emulator repeats the previous action with probability 0.25.

Autoreset is gymnasium's NEXT_STEP: the step after a game ends (game over or truncation)
resets that game, ignores its action and returns reward 0 and the new game's first stack.
`AtariStep.reset` marks those steps.
"""

from __future__ import annotations

import dataclasses
import os
from typing import NamedTuple

import numpy as np

from envs.atari.games import resolve_game

STICKY_ACTION_PROBABILITY = 0.25  # Machado et al. 2018


@dataclasses.dataclass(frozen=True)
class AtariSettings:
    """How a game is shown to the agent. Defaults are the evaluation protocol (raw score,
    whole games, up to 30 no-ops, 108k frames); `training()` adds the training-only parts."""

    noop_max: int = 30
    frame_skip: int = 4
    stack: int = 4
    size: int = 84
    episodic_life: bool = False
    fire_reset: bool = False
    clip_rewards: bool = False
    sticky_actions: bool = False
    full_action_space: bool = False
    max_frames: int = 108_000

    @classmethod
    def training(cls, **changes) -> AtariSettings:
        """Episodic life, fire reset and reward clipping on (DQN's training setup)."""
        return cls(**{"episodic_life": True, "fire_reset": True, "clip_rewards": True,
                      **changes})

    @classmethod
    def evaluation(cls, **changes) -> AtariSettings:
        """The published evaluation protocol (the defaults)."""
        return cls(**changes)

    @property
    def repeat_action_probability(self) -> float:
        return STICKY_ACTION_PROBABILITY if self.sticky_actions else 0.0


class AtariStep(NamedTuple):
    """One step of N games. Shapes: obs uint8 [N, stack, size, size]; the rest [N]."""

    obs: np.ndarray
    reward: np.ndarray  # float32: the score change, clipped to its sign when clip_rewards
    score: np.ndarray  # float32: the raw score change (for returns and evaluation)
    terminated: np.ndarray  # bool: game over (or a life lost, with episodic_life)
    truncated: np.ndarray  # bool: the frame cap was reached
    reset: np.ndarray  # bool: this step restarted the game (action ignored, reward 0)
    lives: np.ndarray  # int32


class AtariVecEnv:
    """`num_envs` copies of one game. Game e is seeded with seed + e at `reset(seed)`."""

    def __init__(self, env_id: str, num_envs: int = 1, settings: AtariSettings | None = None,
                 num_threads: int | None = None) -> None:
        from ale_py.vector_env import AtariVectorEnv

        self.game = resolve_game(env_id)
        self.settings = settings or AtariSettings()
        self.num_envs = int(num_envs)
        s = self.settings
        if num_threads is None:
            num_threads = min(self.num_envs, os.cpu_count() or 1)
        self._env = AtariVectorEnv(
            self.game, self.num_envs, num_threads=num_threads,
            max_num_frames_per_episode=s.max_frames,
            repeat_action_probability=s.repeat_action_probability,
            full_action_space=s.full_action_space, img_height=s.size, img_width=s.size,
            grayscale=True, stack_num=s.stack, frameskip=s.frame_skip, maxpool=True,
            noop_max=s.noop_max, episodic_life=False, life_loss_info=s.episodic_life,
            reward_clipping=False, use_fire_reset=s.fire_reset, autoreset_mode="NextStep")
        self.num_actions = int(self._env.single_action_space.n)
        self.action_names = [a.name for a in self._env.ale.get_action_set()]
        self.obs_shape = (s.stack, s.size, s.size)
        self._frame = np.zeros(self.num_envs, np.int64)
        self._episode_frame = np.zeros(self.num_envs, np.int64)
        self._done = np.zeros(self.num_envs, bool)

    def reset(self, seed: int | None = None) -> np.ndarray:
        """Restart every game (game e seeded with seed + e); returns obs [N, stack, H, W]."""
        obs, info = self._env.reset(seed=seed)
        self._track(info)
        self._done[:] = False
        return obs

    def step(self, actions: np.ndarray) -> AtariStep:
        """Act in every game; `actions` int [N] index the (minimal or full) action set."""
        self.send(actions)
        return self.recv()

    def send(self, actions: np.ndarray) -> None:
        """The first half of step(): the emulators start on `actions` in ale-py's threads and
        this returns at once, so the caller can work (train) while they run; recv() waits."""
        self._env.send(np.asarray(actions, dtype=np.int64).reshape(self.num_envs))

    def recv(self) -> AtariStep:
        """The second half of step(): wait for the emulators and return what step() does."""
        obs, reward, terminated, truncated, info = self._env.ale.recv()
        frame = info["frame_number"].astype(np.int64)
        episode_frame = info["episode_frame_number"].astype(np.int64)
        # A game that went on counts its new frames on top of the old episode frame number;
        # after a reset the episode frame number starts again (at the no-ops taken).
        went_on = episode_frame == self._episode_frame + (frame - self._frame)
        reset = self._done & ~went_on
        self._track(info)
        self._done = (terminated | truncated) & ~reset
        score = reward.astype(np.float32)
        clipped = np.sign(score) if self.settings.clip_rewards else score
        return AtariStep(obs, clipped.astype(np.float32), score, terminated & ~reset,
                         truncated & ~reset, reset, info["lives"].astype(np.int32))

    def _track(self, info: dict) -> None:
        self._frame = info["frame_number"].astype(np.int64)
        self._episode_frame = info["episode_frame_number"].astype(np.int64)

    @property
    def episode_frame_number(self) -> np.ndarray:
        """Frames emulated in each current game so far, int64 [N] (after a reset: the no-ops
        and the FIRE press taken)."""
        return self._episode_frame.copy()

    def close(self) -> None:
        self._env.close()


def make_reference_env(env_id: str, settings: AtariSettings | None = None,
                       render_mode: str | None = None):
    """The same preprocessing from gymnasium's wrappers, for one game: AtariEnv (frameskip 1)
    -> AtariPreprocessing -> FrameStackObservation(padding_type="zero"). Used as the oracle in
    tests and to record videos (render_mode="rgb_array"). It has no fire reset and no reward
    clipping, ends the game at game over (never at a life loss), and draws no-ops in [1, 30]
    (ale-py: [0, 29])."""
    from ale_py.env import AtariEnv
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

    s = settings or AtariSettings()
    env = AtariEnv(game=resolve_game(env_id), frameskip=1, obs_type="rgb",
                   repeat_action_probability=s.repeat_action_probability,
                   full_action_space=s.full_action_space, max_num_frames_per_episode=s.max_frames,
                   render_mode=render_mode)
    env = AtariPreprocessing(env, noop_max=s.noop_max, frame_skip=s.frame_skip,
                             screen_size=s.size, terminal_on_life_loss=False,
                             grayscale_obs=True, scale_obs=False)
    return FrameStackObservation(env, s.stack, padding_type="zero")
