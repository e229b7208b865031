"""Replay micro-benchmark: prioritized sample(32) from a 1M buffer, priority updates, adds.

Not a test (no test asserts a wall-clock time); `rlgo bench` calls `run()` and prints the dict.
The records are small (an Atari-style transition that refers to frames by index: 8 int32 frame
ids, action, reward, done), so the figures measure the replay machinery rather than memcpy of
frames; the frame copy itself is reported separately as `get_frames_us` for 32 x 4 x 84 x 84
uint8 stacks from a 10k-frame array.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from selfplay.replay.buffer import ReplayBuffer
from selfplay.replay.samplers import PrioritizedSampler, UniformSampler
from selfplay.replay.storage import ReplayStorage

SPEC = {"frames": ((8,), np.int32), "action": ((), np.int16), "reward": ((), np.float32),
        "done": ((), np.bool_)}


def _records(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {"frames": rng.integers(0, 2**31 - 1, (n, 8), dtype=np.int32),
            "action": rng.integers(0, 18, n, dtype=np.int16),
            "reward": rng.standard_normal(n).astype(np.float32),
            "done": rng.random(n) < 0.01}


def _time_us(fn: Callable[[], Any], repeats: int) -> float:
    """Median over 5 rounds of the mean µs per call of `fn` over `repeats` calls."""
    fn()  # warm-up (numba compilation, caches)
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        rounds.append((time.perf_counter() - start) / repeats * 1e6)
    return float(np.median(rounds))


def run(capacity: int = 1_000_000, batch_size: int = 32, repeats: int = 400,
        seed: int = 0) -> dict[str, Any]:
    """Time the replay operations on a full prioritized buffer of `capacity` records.

    Returns figures in µs per call (`*_us`) and records per second (`add_*_per_s`).
    """
    rng = np.random.default_rng(seed)
    storage = ReplayStorage(SPEC, capacity)
    sampler = PrioritizedSampler(capacity, rng=np.random.default_rng(seed + 1))
    buffer = ReplayBuffer(storage, sampler)

    chunk = 10_000
    data = _records(rng, chunk)
    start = time.perf_counter()
    for _ in range(max(1, capacity // chunk)):
        buffer.add(data)
    fill_s = time.perf_counter() - start
    filled = max(1, capacity // chunk) * chunk
    buffer.update_priorities(np.arange(capacity), rng.exponential(1.0, capacity))

    one = _records(rng, 1)
    one = {k: v[0] for k, v in one.items()}
    small = _records(rng, 64)
    add_one_us = _time_us(lambda: buffer.add(one), repeats)
    add_64_us = _time_us(lambda: buffer.add(small), repeats)

    idx, _ = sampler.sample(batch_size, len(buffer))
    uniform = UniformSampler(rng)
    td = rng.exponential(1.0, batch_size)
    figures = {
        "capacity": capacity,
        "batch_size": batch_size,
        "replay_mb": storage.nbytes / 1e6,
        "sampler_sample_us": _time_us(lambda: sampler.sample(batch_size, len(buffer)), repeats),
        "buffer_sample_us": _time_us(lambda: buffer.sample(batch_size), repeats),
        "update_priorities_us": _time_us(lambda: buffer.update_priorities(idx, td), repeats),
        "uniform_sample_us": _time_us(lambda: uniform.sample(batch_size, len(buffer)), repeats),
        "add_one_us": add_one_us,
        "add_one_per_s": 1e6 / add_one_us,
        "add_batch64_per_s": 64 * 1e6 / add_64_us,
        "fill_per_s": filled / fill_s,
    }
    frames = np.zeros((10_000, 84, 84), np.uint8)
    stack = rng.integers(0, 10_000 - 4, batch_size)[:, None] + np.arange(4)
    figures["get_frames_us"] = _time_us(lambda: frames[stack], repeats // 4 or 1)
    return figures


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:>22}  {value:,.1f}" if isinstance(value, float) else f"{key:>22}  {value}")
