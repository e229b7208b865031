"""The native vector env against gymnasium's AtariPreprocessing + FrameStackObservation.

Frames must match exactly (tolerance 0: both resize with cv2 INTER_AREA after the same max
over the last two frames), and so must rewards, terminations and truncations. The emulator
is deterministic without sticky actions, so the seeds of the two sides need not agree; the
no-op counts are drawn by different RNGs, so the reference replays the count the vector env
reports.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from envs.atari import (
    AtariSettings,
    AtariVecEnv,
    UnknownEnvError,
    human_normalized_score,
    make_reference_env,
    resolve_game,
)


class _LowLevelReset(gym.Wrapper):
    """Below AtariPreprocessing: after reset press FIRE once (if asked) and take `noops`
    single-frame no-ops, as ale-py's vector env does."""

    def __init__(self, env, fire: bool, noops: int = 0):
        super().__init__(env)
        self.fire, self.noops = fire, noops

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        ale = self.env.unwrapped.ale
        if self.fire:
            ale.act(self.env.unwrapped._action_set[1])  # FIRE is action 1 in minimal sets
        for _ in range(self.noops - int(self.fire)):
            ale.act(self.env.unwrapped._action_set[0])
        return obs, info


def _reference(game: str, settings: AtariSettings, noops: int = 0):
    from ale_py.env import AtariEnv
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

    env = AtariEnv(game=resolve_game(game), frameskip=1, repeat_action_probability=0.0,
                   max_num_frames_per_episode=settings.max_frames)
    env = _LowLevelReset(env, settings.fire_reset, noops)
    env = AtariPreprocessing(env, noop_max=0, frame_skip=4, screen_size=84,
                             terminal_on_life_loss=False, grayscale_obs=True, scale_obs=False)
    return FrameStackObservation(env, 4, padding_type="zero")


def _compare(game: str, settings: AtariSettings, steps: int, seed: int = 0) -> dict:
    """Drive 2 vector games and 2 reference games with the same random actions; assert equal
    frames and signals throughout (including the autoreset after a game ends)."""
    vec = AtariVecEnv(game, 2, settings, num_threads=1)
    refs = [_reference(game, settings) for _ in range(2)]
    obs = vec.reset(seed=seed)
    ref_obs = [r.reset(seed=seed)[0] for r in refs]
    rng = np.random.default_rng(seed)
    counts = {"life_losses": 0, "resets": 0, "rewards": 0}
    lives = [r.unwrapped.ale.lives() for r in refs]
    ref_done = [False, False]
    for _ in range(steps):
        np.testing.assert_array_equal(obs, np.stack(ref_obs))
        actions = rng.integers(0, vec.num_actions, 2)
        out = vec.step(actions)
        for e, ref in enumerate(refs):
            if ref_done[e]:
                ref_obs[e] = ref.reset()[0]
                assert out.reset[e] and out.score[e] == 0 and not out.terminated[e]
                ref_done[e] = False
                lives[e] = ref.unwrapped.ale.lives()
                counts["resets"] += 1
                continue
            assert not out.reset[e]
            ref_obs[e], r, term, trunc, info = ref.step(int(actions[e]))
            lost = 0 < info["lives"] < lives[e]
            lives[e] = info["lives"]
            assert out.score[e] == r
            expected_reward = np.sign(r) if settings.clip_rewards else r
            assert out.reward[e] == expected_reward
            assert out.terminated[e] == (term or (settings.episodic_life and lost))
            assert out.truncated[e] == trunc
            assert out.lives[e] == info["lives"]
            counts["life_losses"] += int(lost)
            counts["rewards"] += int(r != 0)
            ref_done[e] = term or trunc
        obs = out.obs
    vec.close()
    return counts


def test_evaluation_frames_match_gymnasium_reference_exactly():
    counts = _compare("Pong", AtariSettings(noop_max=0), steps=250)
    assert counts["rewards"] > 0  # points were scored, so reward handling was exercised


def test_whole_games_and_autoreset_match_on_breakout():
    counts = _compare("Breakout", AtariSettings(noop_max=0), steps=450)
    assert counts["resets"] >= 2 and counts["life_losses"] >= 4


def test_training_settings_life_loss_fire_reset_and_clipping():
    settings = AtariSettings.training(noop_max=0)
    counts = _compare("Breakout", settings, steps=300)
    assert counts["life_losses"] >= 4 and counts["resets"] >= 1


def test_truncation_at_the_frame_cap_then_reset():
    counts = _compare("Pong", AtariSettings(noop_max=0, max_frames=200), steps=120)
    assert counts["resets"] >= 2


def test_noop_starts_match_the_reference_replaying_the_same_count():
    settings = AtariSettings(noop_max=30)
    vec = AtariVecEnv("Breakout", 4, settings, num_threads=1)
    obs = vec.reset(seed=11)
    noops = vec.episode_frame_number
    assert np.all((noops >= 0) & (noops < 30)) and len(set(noops.tolist())) > 1
    for e in range(4):
        ref = _reference("Breakout", AtariSettings(noop_max=0), noops=int(noops[e]))
        np.testing.assert_array_equal(obs[e], ref.reset(seed=0)[0])
    vec.close()


def test_reference_factory_builds_the_same_first_stack():
    env = make_reference_env("ALE/Pong-v5", AtariSettings(noop_max=0))
    vec = AtariVecEnv("Pong", 1, AtariSettings(noop_max=0), num_threads=1)
    np.testing.assert_array_equal(env.reset(seed=0)[0], vec.reset(seed=0)[0])
    assert env.observation_space.shape == vec.obs_shape == (4, 84, 84)


def test_sticky_actions_are_seeded_and_change_the_game():
    def frames(sticky: bool, seed: int) -> np.ndarray:
        vec = AtariVecEnv("Breakout", 1, AtariSettings(noop_max=0, sticky_actions=sticky),
                          num_threads=1)
        vec.reset(seed=seed)
        rng = np.random.default_rng(0)
        out = [vec.step(rng.integers(0, vec.num_actions, 1)).obs for _ in range(60)]
        return np.stack(out)

    assert AtariSettings(sticky_actions=True).repeat_action_probability == 0.25
    sticky = frames(True, 3)
    np.testing.assert_array_equal(sticky, frames(True, 3))
    assert not np.array_equal(sticky, frames(False, 3))


def test_full_action_space_is_optional():
    assert AtariVecEnv("Pong", 1, num_threads=1).num_actions == 6
    full = AtariVecEnv("Pong", 1, AtariSettings(full_action_space=True), num_threads=1)
    assert full.num_actions == 18


@pytest.mark.parametrize("name", ["Pong", "pong", "ALE/Pong-v5", "PongNoFrameskip-v4"])
def test_env_id_spellings(name):
    assert resolve_game(name) == "pong"


def test_unknown_env_id_lists_close_matches():
    with pytest.raises(UnknownEnvError, match="did you mean Breakout"):
        resolve_game("Breakot")
    with pytest.raises(UnknownEnvError, match="rlgo atari games"):
        resolve_game("zzzzzzzz")


def test_human_normalised_scores():
    assert human_normalized_score("pong", 14.6) == pytest.approx(1.0)  # Wang et al. 2016's
    assert human_normalized_score("pong", -20.7) == pytest.approx(0.0)
    assert human_normalized_score("adventure", 1.0) is None
