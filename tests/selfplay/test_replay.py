"""Replay storage, samplers and buffer against naive oracles: a Python list for the ring,
p^alpha / sum for the sampling distribution, the Schaul et al. formula for the weights."""

from __future__ import annotations

import numpy as np
import pytest

from selfplay.replay import (
    PrioritizedSampler,
    ReplayBuffer,
    ReplayError,
    ReplayStorage,
    UniformSampler,
    available_memory,
    check_fits_in_memory,
    format_bytes,
)

SPEC = {"obs": ((2, 3), np.uint8), "action": ((), np.int64), "reward": ((), np.float32)}


def records(rng: np.random.Generator, n: int, start: int = 0) -> dict[str, np.ndarray]:
    """n records; `action` counts up from `start` so each record is recognisable."""
    return {"obs": rng.integers(0, 256, (n, 2, 3), dtype=np.uint8),
            "action": np.arange(start, start + n),
            "reward": rng.standard_normal(n).astype(np.float32)}


def make_buffer(capacity: int, seed: int, prioritized: bool = True) -> ReplayBuffer:
    rng = np.random.default_rng(seed)
    sampler = (PrioritizedSampler(capacity, alpha=0.7, beta=0.5, rng=rng) if prioritized
               else UniformSampler(rng))
    return ReplayBuffer(ReplayStorage(SPEC, capacity), sampler)


@pytest.mark.parametrize("capacity", [1, 5, 64])
def test_ring_matches_list_oracle(capacity: int) -> None:
    rng = np.random.default_rng(capacity)
    storage = ReplayStorage(SPEC, capacity)
    ring: list = [None] * capacity  # oracle: one dict per slot
    cursor = size = added = 0
    for _ in range(150):
        n = int(rng.integers(1, 2 * capacity + 3))  # often wraps, sometimes > capacity
        batch = records(rng, n, start=added)
        for name in batch:
            batch[name].flags.writeable = False  # like arrays from Ray's object store
        indices = storage.add(batch)
        for k in range(n):
            ring[cursor] = {name: batch[name][k] for name in batch}
            assert indices[k] == cursor
            cursor = (cursor + 1) % capacity
        size, added = min(size + n, capacity), added + n
        assert (storage.cursor, storage.size, storage.total_added) == (cursor, size, added)
        got = storage.get(np.arange(size))
        for name in SPEC:
            np.testing.assert_array_equal(got[name], np.stack([r[name] for r in ring[:size]]))


def test_single_record_and_copies() -> None:
    storage = ReplayStorage(SPEC, 4)
    obs = np.ones((2, 3), np.uint8)
    assert storage.add({"obs": obs, "action": 7, "reward": 0.5}).tolist() == [0]
    obs[:] = 9  # the ring holds a copy
    got = storage.get([0])
    assert got["obs"].tolist() == [[[1, 1, 1], [1, 1, 1]]] and got["action"].tolist() == [7]
    got["obs"][:] = 5  # and get returns copies
    assert storage.get([0])["obs"].max() == 1
    with pytest.raises(ReplayError, match="out of range"):
        storage.get([1])
    storage.add({"obs": np.full((2, 3), 255), "action": 1, "reward": 0})  # int64 fits uint8


@pytest.mark.parametrize("batch, message", [
    ({"obs": np.zeros((2, 3), np.uint8), "action": 1}, r"missing \['reward'\]"),
    ({"obs": np.zeros((2, 3), np.uint8), "action": 1, "reward": 0.0, "x": 1}, r"unexpected"),
    ({"obs": np.zeros((3, 2), np.uint8), "action": 1, "reward": 0.0}, "field 'obs': shape"),
    ({"obs": np.zeros((2, 3)), "action": 1, "reward": 0.0}, "field 'obs': dtype float64"),
    ({"obs": np.zeros((2, 3), np.uint8), "action": 1.5, "reward": 0.0}, "field 'action'"),
    ({"obs": np.full((2, 3), 256), "action": 1, "reward": 0.0}, r"'obs': values \[256, 256\]"),
    ({"obs": np.zeros((2, 2, 3), np.uint8), "action": [1, 2, 3], "reward": [0, 0]},
     "field 'action' has 3 records but field 'obs' has 2"),
])
def test_add_validates_with_field_names(batch: dict, message: str) -> None:
    storage = ReplayStorage(SPEC, 4)
    with pytest.raises(ReplayError, match=message):
        storage.add(batch)
    assert storage.size == 0 and storage.total_added == 0


def test_memory_estimate_and_refusal() -> None:
    spec = {"frame": ((84, 84), np.uint8), "action": ((), np.int32)}
    assert ReplayStorage.estimate_bytes(spec, 1000) == 1000 * (84 * 84 + 4)
    storage = ReplayStorage(spec, 10)
    assert storage.nbytes == ReplayStorage.estimate_bytes(spec, 10)
    assert format_bytes(56.4e9) == "56.4 GB" and format_bytes(2e18) == "2,000 PB"
    # Nature DQN's replay stores obs and next obs as 4-frame stacks: 56.4 GB for 1M records
    dqn = {"obs": ((4, 84, 84), np.uint8), "next_obs": ((4, 84, 84), np.uint8)}
    assert format_bytes(ReplayStorage.estimate_bytes(dqn, 10**6)) == "56.4 GB"
    _, total = available_memory()
    capacity = total // (2 * 4 * 84 * 84) + 1  # more than all of RAM
    needed = format_bytes(ReplayStorage.estimate_bytes(dqn, capacity))
    with pytest.raises(ReplayError, match=rf"replay needs {needed} but only .* lower the cap"):
        ReplayStorage(dqn, capacity)
    check_fits_in_memory(1000)
    with pytest.raises(ReplayError, match="lower the capacity"):
        check_fits_in_memory(10**9, fraction=1e-9)


def frequencies(sampler, size: int, draws: int, batch: int = 1000) -> np.ndarray:
    counts = np.zeros(size)
    for _ in range(draws // batch):
        indices, _ = sampler.sample(batch, size)
        counts += np.bincount(indices, minlength=size)
    return counts / counts.sum()


def chi_square(freq: np.ndarray, expected: np.ndarray, draws: int) -> float:
    return float(draws * ((freq - expected) ** 2 / expected).sum())


def test_prioritized_frequencies_and_weights_match_formula() -> None:
    size, alpha, beta, draws = 40, 0.6, 0.4, 200_000
    sampler = PrioritizedSampler(64, alpha=alpha, beta=beta, rng=np.random.default_rng(0))
    sampler.on_add(np.arange(size))
    delta = np.random.default_rng(1).exponential(1.0, size)
    sampler.update_priorities(np.arange(size), delta)
    p = (np.abs(delta) + 1e-6) ** alpha
    expected = p / p.sum()
    np.testing.assert_allclose(sampler.probabilities(size), expected, rtol=1e-12)
    freq = frequencies(sampler, size, draws)
    # stratified sampling has less variance than multinomial: 99.9% chi2(39) is about 72.1
    assert chi_square(freq, expected, draws) < 72.1
    assert np.abs(freq - expected).max() < 0.003
    indices, weights = sampler.sample(32, size)
    naive = (size * expected[indices]) ** -beta / (size * expected.min()) ** -beta
    assert weights.dtype == np.float32
    np.testing.assert_allclose(weights, naive, rtol=1e-6)
    assert weights.max() <= 1.0
    assert np.all(np.diff(indices) >= 0)  # stratified: one draw per segment, in order


def test_uniform_frequencies_are_uniform() -> None:
    size, draws = 40, 200_000
    sampler = UniformSampler(np.random.default_rng(0))
    freq = frequencies(sampler, size, draws)
    assert chi_square(freq, np.full(size, 1 / size), draws) < 72.1
    assert np.all(sampler.sample(5, size)[1] == 1.0)


def test_priority_updates_change_the_distribution() -> None:
    size = 10
    sampler = PrioritizedSampler(16, alpha=1.0, beta=1.0, eps=1e-6, rng=np.random.default_rng(5))
    sampler.on_add(np.arange(size))  # all at max priority 1: uniform
    assert np.abs(frequencies(sampler, size, 50_000) - 0.1).max() < 0.01
    sampler.update_priorities([2, 7, 2], [100.0, 0.0, 9.0])  # the last of the repeats wins
    p = np.ones(size)
    p[2], p[7] = 9.0 + 1e-6, 1e-6
    freq = frequencies(sampler, size, 50_000)
    assert np.abs(freq - p / p.sum()).max() < 0.01 and freq[7] == 0
    assert sampler.max_priority == pytest.approx(100.0)
    sampler.on_add([3])  # a new record gets the max priority seen
    p[3] = 100.0
    np.testing.assert_allclose(sampler.probabilities(size), p / p.sum())
    _, weights = sampler.sample(64, size)
    assert weights.min() == pytest.approx(1e-6 / 100.0, rel=1e-3)  # beta 1: p_min / p_i
    with pytest.raises(ReplayError, match="finite"):
        sampler.update_priorities([0], [np.nan])
    with pytest.raises(ReplayError, match="empty"):
        sampler.sample(4, 0)


def test_buffer_sample_returns_the_stored_records() -> None:
    buffer = make_buffer(50, seed=0)
    buffer.add(records(np.random.default_rng(0), 80))  # wraps: actions 30..79 remain
    batch, indices, weights = buffer.sample(32)
    assert len(buffer) == 50 and weights.shape == (32,)
    np.testing.assert_array_equal(batch["action"], buffer.storage.get(indices)["action"])
    assert batch["action"].min() >= 30
    buffer.add(records(np.random.default_rng(1), 3, start=80), td_errors=[0.0, 0.0, 50.0])
    assert buffer.sampler.max_priority == pytest.approx(50.0)


@pytest.mark.parametrize("prioritized", [True, False])
def test_save_load_resumes_the_same_samples(tmp_path, prioritized: bool) -> None:
    rng = np.random.default_rng(7)
    a = make_buffer(64, seed=1, prioritized=prioritized)
    for start in range(0, 100, 25):  # 100 records into 64 slots
        a.add(records(rng, 25, start))
        _, idx, _ = a.sample(16)
        a.update_priorities(idx, rng.exponential(1.0, 16))
    a.save(tmp_path)
    b = make_buffer(64, seed=99, prioritized=prioritized)
    b.load(tmp_path)
    assert (b.storage.cursor, len(b), b.storage.total_added) == (36, 64, 100)
    for _ in range(3):
        batch_a, idx_a, w_a = a.sample(32)
        batch_b, idx_b, w_b = b.sample(32)
        np.testing.assert_array_equal(idx_a, idx_b)
        np.testing.assert_array_equal(w_a, w_b)
        for name in SPEC:
            np.testing.assert_array_equal(batch_a[name], batch_b[name])
        td = rng.exponential(1.0, 32)
        a.update_priorities(idx_a, td)
        b.update_priorities(idx_b, td)


def test_save_load_partial_ring(tmp_path) -> None:
    a = make_buffer(100, seed=2)
    a.add(records(np.random.default_rng(0), 30))
    a.storage.save(tmp_path / "ring.npz")
    storage = ReplayStorage(SPEC, 100)
    storage.load(tmp_path / "ring.npz")
    assert (storage.size, storage.cursor) == (30, 30)
    np.testing.assert_array_equal(storage.get(np.arange(30))["obs"],
                                  a.storage.get(np.arange(30))["obs"])
    assert list(tmp_path.iterdir()) == [tmp_path / "ring.npz"]  # no temp file left behind


def snapshot(buffer: ReplayBuffer) -> tuple:
    state = buffer.sampler.state_dict()
    return (buffer.storage.metadata(), buffer.storage.get(np.arange(len(buffer))),
            state["priorities"], str(state["rng"]))


def assert_untouched(buffer: ReplayBuffer, before: tuple) -> None:
    after = snapshot(buffer)
    assert after[0] == before[0] and after[3] == before[3]
    np.testing.assert_array_equal(after[2], before[2])
    for name in SPEC:
        np.testing.assert_array_equal(after[1][name], before[1][name])


def test_corrupt_truncated_or_mismatched_file_leaves_buffer_untouched(tmp_path) -> None:
    source = make_buffer(64, seed=3)
    source.add(records(np.random.default_rng(3), 64))
    data = source.save(tmp_path / "good").read_bytes()
    target = make_buffer(64, seed=4)
    target.add(records(np.random.default_rng(4), 10))
    before = snapshot(target)

    cases = {"truncated": data[: len(data) * 2 // 3], "empty": b"", "garbage": b"no zip" * 9}
    for name, content in cases.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "replay.npz").write_bytes(content)
        with pytest.raises(ReplayError, match="corrupt or truncated"):
            target.load(tmp_path / name)
        assert_untouched(target, before)
    with pytest.raises(ReplayError, match="no replay file"):
        target.load(tmp_path / "missing")
    other_capacity = make_buffer(32, seed=5)
    other_capacity.add(records(np.random.default_rng(5), 5))
    with pytest.raises(ReplayError, match="capacity 32"):
        target.load(other_capacity.save(tmp_path / "other").parent)
    uniform = make_buffer(64, seed=6, prioritized=False)
    uniform.add(records(np.random.default_rng(6), 5))
    with pytest.raises(ReplayError, match="saved sampler is 'uniform'"):
        target.load(uniform.save(tmp_path / "uniform").parent)
    assert_untouched(target, before)


def test_every_single_byte_corruption_is_caught_or_harmless(tmp_path) -> None:
    """Flip bytes all over a saved file: each load either raises ReplayError (leaving the
    buffer as it was) or, where the byte was one zip does not need, restores identical state."""
    source = make_buffer(16, seed=3)
    source.add(records(np.random.default_rng(3), 16))
    data = source.save(tmp_path / "good").read_bytes()
    expected = snapshot(source)
    target = make_buffer(16, seed=4)
    fresh = snapshot(target)
    (tmp_path / "bad").mkdir()
    outcomes = {"error": 0, "same": 0}
    for position in range(0, len(data), 7):
        corrupt = bytearray(data)
        corrupt[position] ^= 0xFF
        (tmp_path / "bad" / "replay.npz").write_bytes(bytes(corrupt))
        try:
            target.load(tmp_path / "bad")
        except ReplayError:
            assert_untouched(target, fresh)
            outcomes["error"] += 1
        else:
            assert_untouched(target, expected)
            outcomes["same"] += 1
            target = make_buffer(16, seed=4)
    assert outcomes["error"] > 0.8 * sum(outcomes.values())


def test_rng_state_of_other_bit_generators_round_trips(tmp_path) -> None:
    a, b = (ReplayBuffer(ReplayStorage(SPEC, 8),  # MT19937's state holds an array
                         UniformSampler(np.random.Generator(np.random.MT19937(s)))) for s in (1, 2))
    a.add(records(np.random.default_rng(0), 8))
    b.load(a.save(tmp_path).parent)
    np.testing.assert_array_equal(a.sample(16)[1], b.sample(16)[1])
    c = ReplayBuffer(ReplayStorage(SPEC, 8), UniformSampler(np.random.default_rng(3)))
    with pytest.raises(ReplayError, match="RNG state does not fit PCG64"):
        c.load(tmp_path)
