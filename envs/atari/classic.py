"""The environments a DQN run can use, behind one small vector interface.

    reset(seed) -> obs [N, k, *frame]
    step(actions int [N]) -> obs, reward, score, terminated, truncated, reset   (all [N])
    num_envs, num_actions, obs_shape (k, *frame)

Atari games come from envs.atari.AtariVecEnv (frames uint8 [4, 84, 84]). Classic-control
tasks (CartPole-v1, Acrobot-v1, MountainCar-v0: gymnasium without extras) come from
ClassicVecEnv, which steps N gymnasium envs in lockstep with the same NEXT_STEP autoreset
(obs float32 [1, d]: a "stack" of one frame, so one replay serves both) and, unlike the Atari
emulators, can save and restore its complete state for exact resume.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from envs.atari import AtariSettings, AtariVecEnv, resolve_game

CLASSIC_CONTROL = ("CartPole-v1", "CartPole-v0", "Acrobot-v1", "MountainCar-v0")


class EnvStep(NamedTuple):
    """One lockstep step of N envs (see envs.atari.AtariStep for the meaning of each)."""

    obs: np.ndarray
    reward: np.ndarray
    score: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    reset: np.ndarray


def is_classic(env_id: str) -> bool:
    return env_id in CLASSIC_CONTROL


def canonical_env_id(env_id: str) -> str:
    """'CartPole-v1' stays; any Atari spelling becomes its display name ('ALE/Pong-v5' ->
    'Pong'); unknown ids raise envs.atari.UnknownEnvError listing close matches."""
    if is_classic(env_id):
        return env_id
    from envs.atari import display_name

    return display_name(resolve_game(env_id, extra_names=CLASSIC_CONTROL))


class ClassicVecEnv:
    """`num_envs` gymnasium classic-control envs in lockstep; env e is seeded seed + e."""

    def __init__(self, env_id: str, num_envs: int = 1) -> None:
        import gymnasium as gym

        self.env_id = env_id
        self.num_envs = int(num_envs)
        self.envs = [gym.make(env_id) for _ in range(self.num_envs)]
        space = self.envs[0].observation_space
        self.num_actions = int(self.envs[0].action_space.n)
        self.obs_shape = (1, *space.shape)
        self._needs_reset = np.zeros(self.num_envs, bool)
        self._obs = np.zeros((self.num_envs, *self.obs_shape), np.float32)

    def reset(self, seed: int | None = None) -> np.ndarray:
        for e, env in enumerate(self.envs):
            obs, _ = env.reset(seed=None if seed is None else seed + e)
            self._obs[e, 0] = obs
        self._needs_reset[:] = False
        return self._obs.copy()

    def step(self, actions: np.ndarray) -> EnvStep:
        n = self.num_envs
        reward = np.zeros(n, np.float32)
        terminated, truncated = np.zeros(n, bool), np.zeros(n, bool)
        reset = self._needs_reset.copy()
        for e, env in enumerate(self.envs):
            if reset[e]:
                obs, _ = env.reset()
            else:
                obs, r, terminated[e], truncated[e], _ = env.step(int(actions[e]))
                reward[e] = r
            self._obs[e, 0] = obs
        self._needs_reset = terminated | truncated
        return EnvStep(self._obs.copy(), reward, reward.copy(), terminated, truncated, reset)

    def close(self) -> None:
        for env in self.envs:
            env.close()

    # ---- exact resume -------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything that decides the future: each env's physical state, RNG, time-limit
        counter and the pending autoresets (plain lists and ints, for weights_only loading)."""
        envs = []
        for env in self.envs:
            inner = env.unwrapped
            simple = {k: _plain(v) for k, v in vars(inner).items()
                      if isinstance(v, (np.ndarray, int, float, bool)) or v is None}
            envs.append({"attrs": simple, "rng": inner.np_random.bit_generator.state,
                         "elapsed": _elapsed_steps(env)})
        return {"env_id": self.env_id, "envs": envs,
                "needs_reset": self._needs_reset.tolist(), "obs": self._obs.tolist()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["env_id"] != self.env_id or len(state["envs"]) != self.num_envs:
            raise ValueError(f"saved env state is for {len(state['envs'])} x "
                             f"{state['env_id']}, not {self.num_envs} x {self.env_id}")
        for env, saved in zip(self.envs, state["envs"], strict=True):
            env.reset(seed=0)  # satisfies gymnasium's order checks; everything is overwritten
            inner = env.unwrapped
            for key, value in saved["attrs"].items():
                setattr(inner, key, _unplain(value))
            inner.np_random.bit_generator.state = saved["rng"]
            _set_elapsed_steps(env, saved["elapsed"])
        self._needs_reset = np.array(state["needs_reset"], bool)
        self._obs = np.array(state["obs"], np.float32)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"ndarray": value.tolist(), "dtype": value.dtype.str}
    return value


def _unplain(value: Any) -> Any:
    if isinstance(value, dict) and "ndarray" in value:
        return np.array(value["ndarray"], dtype=value["dtype"])
    return value


def _wrappers(env):
    while env is not None:
        yield env
        env = getattr(env, "env", None)


def _elapsed_steps(env) -> int | None:
    for wrapper in _wrappers(env):
        if hasattr(wrapper, "_elapsed_steps"):
            return wrapper._elapsed_steps
    return None


def _set_elapsed_steps(env, value: int | None) -> None:
    for wrapper in _wrappers(env):
        if hasattr(wrapper, "_elapsed_steps"):
            wrapper._elapsed_steps = value
            return


def make_vec_env(env_id: str, num_envs: int, *, training: bool, noop_max: int = 30,
                 sticky_actions: bool = False, full_action_space: bool = False,
                 episodic_life: bool = True, fire_reset: bool = True,
                 clip_rewards: bool = True):
    """An AtariVecEnv (training or evaluation settings) or a ClassicVecEnv for `env_id`."""
    if is_classic(env_id):
        return ClassicVecEnv(env_id, num_envs)
    common = {"noop_max": noop_max, "sticky_actions": sticky_actions,
              "full_action_space": full_action_space}
    if training:
        settings = AtariSettings(episodic_life=episodic_life, fire_reset=fire_reset,
                                 clip_rewards=clip_rewards, **common)
    else:
        settings = AtariSettings.evaluation(**common)
    return AtariVecEnv(env_id, num_envs, settings)
