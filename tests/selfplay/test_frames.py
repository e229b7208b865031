"""FrameReplay against a naive oracle that keeps every transition's full stacked observations.

A synthetic multi-stream process exercises what can go wrong with index stacking: episode
starts (zero padding), game overs (a `last` record holds the final frame), truncations
(bootstrapped), life losses (terminated, but the game and the stack go on), a resumed run that
cuts every stream, and a small ring that wraps many times.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from selfplay.replay import PrioritizedSampler, ReplayError, UniformSampler
from selfplay.replay.frames import FrameReplay

FRAME = (2, 3)


class Oracle:
    """Per stream: full stacks (zero padded at episode start) and raw transition data."""

    def __init__(self, streams: int, stack: int, n_step: int, gamma: float, capacity: int):
        self.streams, self.stack, self.n_step, self.gamma = streams, stack, n_step, gamma
        self.rows_kept = capacity // streams
        self.frames = [deque([np.zeros(FRAME, np.uint8)] * stack, maxlen=stack)
                       for _ in range(streams)]
        self.records: list[list[dict]] = [[] for _ in range(streams)]  # one per row
        self.episode_start = [0] * streams  # row of the current episode's first record

    def stack_now(self, s: int) -> np.ndarray:
        return np.stack(self.frames[s])

    def start_episode(self, s: int, frame: np.ndarray, row: int) -> None:
        self.frames[s] = deque([np.zeros(FRAME, np.uint8)] * self.stack, maxlen=self.stack)
        self.frames[s].append(frame)
        self.episode_start[s] = row

    def expected(self, s: int, row: int) -> tuple[bool, dict | None]:
        """(valid, transition) for the record of stream s at `row`."""
        rows = self.records[s]
        rec = rows[row]
        oldest = len(rows) - self.rows_kept
        if rec["last"] or not rec["successor"]:
            return False, None
        if max(row - (self.stack - 1), rec["episode_start"]) < oldest:
            return False, None
        ret, m, terminal = 0.0, 0, False
        for j in range(self.n_step):
            step = rows[row + j] if row + j < len(rows) else None
            if step is None or not step["successor"]:
                break
            ret += self.gamma ** j * step["reward"]
            m += 1
            terminal = step["terminated"]
            if step["terminated"] or step["truncated"]:
                break
        discount = 0.0 if terminal else self.gamma ** m
        return True, {"obs": rec["obs"], "action": rec["action"], "reward": ret,
                      "discount": discount, "next_obs": rows[row + m - 1]["next_obs"], "steps": m}


def run_process(replay: FrameReplay, oracle: Oracle, rows: int, rng: np.random.Generator,
                cut_at: int | None = None, check_every: int = 0) -> int:
    """Drive both; returns how many record comparisons were made."""
    S = replay.streams
    frame = rng.integers(0, 256, (S, *FRAME), dtype=np.uint8)
    game_over = np.zeros(S, bool)
    for s in range(S):
        oracle.start_episode(s, frame[s], 0)
    first = np.ones(S, bool)
    checked = 0
    for row in range(rows):
        if row == cut_at:  # a resumed run: streams restart, nothing links across the cut
            frame = rng.integers(0, 256, (S, *FRAME), dtype=np.uint8)
            game_over[:] = False
            first[:] = True
            for s in range(S):
                oracle.records[s][-1]["successor"] = False
                oracle.start_episode(s, frame[s], row)
        action = rng.integers(0, 6, S)
        reward = rng.normal(size=S).astype(np.float32)
        u = rng.random(S)
        terminated = ~game_over & (u < 0.08)  # game over (< 0.05) or life loss
        truncated = ~game_over & (u >= 0.08) & (u < 0.11)
        ends_game = (u < 0.05) | truncated
        last = game_over.copy()
        reward[last] = 0.0
        next_frame = rng.integers(0, 256, (S, *FRAME), dtype=np.uint8)
        for s in range(S):
            if oracle.records[s] and row != cut_at:
                oracle.records[s][-1]["successor"] = True
            rec = {"last": bool(last[s]), "successor": False, "episode_start":
                   oracle.episode_start[s], "obs": oracle.stack_now(s),
                   "action": int(action[s]), "reward": float(reward[s]),
                   "terminated": bool(terminated[s]), "truncated": bool(truncated[s])}
            if last[s]:  # a reset step: its frame closes the old game, next_frame opens one
                oracle.records[s].append(rec)
                oracle.start_episode(s, next_frame[s], row + 1)
                continue
            oracle.frames[s].append(next_frame[s])
            rec["next_obs"] = oracle.stack_now(s)
            oracle.records[s].append(rec)
        replay.add_row(frame, action, reward, terminated, truncated, first, last)
        first = last.copy()
        game_over = ends_game & ~last
        frame = next_frame
        if check_every and (row + 1) % check_every == 0:
            checked += compare_all(replay, oracle)
    return checked


def compare_all(replay: FrameReplay, oracle: Oracle) -> int:
    """Check every stored record: validity and (when valid) the rebuilt transition."""
    S, size = replay.streams, len(replay)
    indices = np.arange(size)
    batch, valid = replay.gather(indices)
    total_rows = len(oracle.records[0])
    cursor = replay.storage.cursor
    for i in indices:
        s = i % S
        age = (cursor - i - 1) % replay.capacity // S  # 0 = newest row
        row = total_rows - 1 - age
        ok, want = oracle.expected(s, row)
        assert valid[i] == ok, (i, row)
        if ok:
            np.testing.assert_array_equal(batch["obs"][i], want["obs"])
            np.testing.assert_array_equal(batch["next_obs"][i], want["next_obs"])
            assert batch["action"][i] == want["action"]
            assert batch["steps"][i] == want["steps"]
            assert batch["reward"][i] == pytest.approx(want["reward"], rel=1e-5, abs=1e-5)
            assert batch["discount"][i] == pytest.approx(want["discount"], rel=1e-6)
    return int(valid.sum())


@pytest.mark.parametrize("stack,n_step,streams", [(4, 1, 1), (4, 3, 3), (1, 3, 2), (2, 5, 1)])
def test_index_stacking_matches_the_oracle(stack, n_step, streams):
    capacity = 40 * streams
    replay = FrameReplay(capacity, FRAME, sampler=UniformSampler(np.random.default_rng(0)),
                         stack=stack, streams=streams, n_step=n_step, gamma=0.9)
    oracle = Oracle(streams, stack, n_step, 0.9, capacity)
    rng = np.random.default_rng(stack * 100 + n_step * 10 + streams)
    checked = run_process(replay, oracle, rows=300, rng=rng, cut_at=130, check_every=7)
    assert checked > 1000


def test_samplers_draw_only_complete_transitions():
    for sampler in (UniformSampler(np.random.default_rng(1)),
                    PrioritizedSampler(60, alpha=0.6, beta=0.4, rng=np.random.default_rng(1))):
        replay = FrameReplay(60, FRAME, sampler=sampler, stack=4, streams=2, n_step=3)
        oracle = Oracle(2, 4, 3, 0.99, 60)
        run_process(replay, oracle, rows=90, rng=np.random.default_rng(2))
        for _ in range(20):
            batch = replay.sample(16)
            assert replay.valid(batch["indices"]).all()
            assert batch["obs"].shape == batch["next_obs"].shape == (16, 4, *FRAME)
            assert batch["weights"].shape == (16,) and batch["weights"].max() <= 1.0
            gathered, _ = replay.gather(batch["indices"])
            np.testing.assert_array_equal(gathered["next_obs"], batch["next_obs"])
            replay.update_priorities(batch["indices"], np.abs(batch["reward"]) + 0.1)


def test_save_and_load_restore_records_and_sampler(tmp_path):
    def make():
        return FrameReplay(30, FRAME, sampler=PrioritizedSampler(
            30, rng=np.random.default_rng(5)), stack=2, n_step=2)

    replay = make()
    run_process(replay, Oracle(1, 2, 2, 0.99, 30), rows=45, rng=np.random.default_rng(3))
    replay.save(tmp_path)
    copy = make()
    copy.load(tmp_path)
    a, b = replay.sample(8), copy.sample(8)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_memory_budget_and_refusal():
    assert FrameReplay.estimate_bytes(1_000_000, (84, 84)) <= 7.1e9
    with pytest.raises(ReplayError, match="lower the capacity"):
        FrameReplay(10**9, (84, 84), sampler=UniformSampler(np.random.default_rng(0)))


def test_bad_shapes_and_sizes_are_refused():
    sampler = UniformSampler(np.random.default_rng(0))
    with pytest.raises(ReplayError, match="multiple of streams"):
        FrameReplay(101, FRAME, sampler=sampler, streams=2)
    replay = FrameReplay(20, FRAME, sampler=sampler, streams=2, stack=2)
    with pytest.raises(ReplayError, match="leading dimension of 2"):
        replay.add_row(np.zeros((1, *FRAME), np.uint8), [0], [0.0], [False], [False], [True],
                       [False])
    with pytest.raises(ReplayError, match="empty"):
        replay.sample(4)


def test_stacks_rebuild_what_the_atari_env_showed():
    from envs.atari import AtariSettings, AtariVecEnv

    env = AtariVecEnv("Pong", 2, AtariSettings.training(noop_max=5, max_frames=240),
                      num_threads=1)
    replay = FrameReplay(400, (84, 84), sampler=UniformSampler(np.random.default_rng(0)),
                         stack=4, streams=2, n_step=1)
    obs = env.reset(seed=0)
    first = np.ones(2, bool)
    seen, rng = {}, np.random.default_rng(0)
    for _ in range(150):
        actions = rng.integers(0, env.num_actions, 2)
        out = env.step(actions)
        idx = replay.add_row(obs[:, -1], actions, out.reward, out.terminated, out.truncated,
                             first, out.reset)
        for s in range(2):
            seen[int(idx[s])] = (obs[s], out.obs[s], out.reset[s])
        first, obs = out.reset, out.obs
    batch, valid = replay.gather(np.arange(len(replay)))
    assert valid.sum() >= 280
    for i, (before, after, was_reset) in seen.items():
        assert valid[i] == (not was_reset and i < len(replay) - 2)
        if valid[i]:
            np.testing.assert_array_equal(batch["obs"][i], before)
            np.testing.assert_array_equal(batch["next_obs"][i], after)
