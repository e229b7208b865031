"""The sum tree against a naive oracle: totals, minima and prefix-sum search equal a plain
array's sum, min and cumsum + searchsorted, through random updates with repeated indices."""

from __future__ import annotations

import numpy as np
import pytest

from selfplay.replay import SumTree


class Oracle:
    """Plain arrays: priority per leaf and whether it was ever set."""

    def __init__(self, capacity: int) -> None:
        self.p = np.zeros(capacity)
        self.used = np.zeros(capacity, bool)

    def update(self, indices: np.ndarray, priorities: np.ndarray) -> None:
        for i, p in zip(indices, np.broadcast_to(priorities, np.shape(indices)), strict=True):
            self.p[i] = p  # in order: the last write of a repeated index wins
            self.used[i] = True

    def find(self, prefixes: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.cumsum(self.p), prefixes, side="right")


def check(tree: SumTree, oracle: Oracle, rng: np.random.Generator) -> None:
    assert tree.total == pytest.approx(oracle.p.sum(), rel=1e-12)
    assert tree.min == (oracle.p[oracle.used].min() if oracle.used.any() else np.inf)
    np.testing.assert_array_equal(tree.priorities, oracle.p)
    np.testing.assert_array_equal(tree.used, oracle.used)
    if tree.total > 0:
        prefixes = rng.random(200) * oracle.p.sum()
        np.testing.assert_array_equal(tree.find(prefixes), oracle.find(prefixes))


@pytest.mark.parametrize("capacity", [1, 2, 3, 7, 8, 100, 1000])
def test_random_updates_with_duplicates_match_oracle(capacity: int) -> None:
    rng = np.random.default_rng(capacity)
    tree, oracle = SumTree(capacity), Oracle(capacity)
    assert tree.leaves >= capacity and tree.leaves & (tree.leaves - 1) == 0
    check(tree, oracle, rng)
    for step in range(60):
        # small batches walk up the tree, large ones rebuild it
        n = int(rng.integers(1, 9) if step % 2 else rng.integers(1, 2 * capacity + 2))
        indices = rng.integers(0, capacity, n)  # repeats are likely
        priorities = rng.exponential(1.0, n) * (rng.random(n) < 0.9)  # some zeros
        if step % 7 == 0:
            priorities = rng.random()  # one value for all
        tree.update(indices, priorities)
        oracle.update(indices, priorities)
        check(tree, oracle, rng)


def test_exact_boundaries_with_integer_priorities() -> None:
    """With integer priorities every sum is exact, so prefixes that land exactly on a cumsum
    boundary must go to the next leaf, and zero-priority leaves are skipped."""
    priorities = np.array([3, 0, 0, 5, 1, 0, 2, 4, 0, 6], dtype=float)
    tree, oracle = SumTree(len(priorities)), Oracle(len(priorities))
    tree.update(np.arange(10), priorities)
    oracle.update(np.arange(10), priorities)
    boundaries = np.concatenate([[0.0], np.cumsum(priorities)[:-1]])
    prefixes = np.concatenate([boundaries, boundaries + 0.5, np.nextafter(boundaries[1:], 0)])
    found = tree.find(prefixes)
    np.testing.assert_array_equal(found, oracle.find(prefixes))
    assert np.all(priorities[found] > 0)


def test_prefix_at_or_past_total_never_returns_an_empty_leaf() -> None:
    tree = SumTree(5)  # 8 leaves: 3 padding leaves of priority 0
    tree.update(np.arange(3), [1.0, 2.0, 0.0])
    found = tree.find([tree.total, np.nextafter(tree.total, np.inf), 1e9])
    np.testing.assert_array_equal(found, [1, 1, 1])
    tree.update([0], [0.0])
    np.testing.assert_array_equal(tree.find([-1.0, 0.0]), [1, 1])  # negative prefix: clipped


def test_last_write_wins_for_repeated_indices() -> None:
    tree = SumTree(16)
    tree.update([3, 3, 5, 3], [1.0, 2.0, 4.0, 7.0])
    assert tree.get([3, 5]).tolist() == [7.0, 4.0]
    assert tree.total == 11.0 and tree.min == 4.0
    tree.update(np.full(64, 5), np.arange(64.0))  # a batch large enough to rebuild
    assert tree.get([5]).tolist() == [63.0] and tree.total == 70.0


def test_set_all_matches_incremental_updates() -> None:
    rng = np.random.default_rng(1)
    p = rng.exponential(size=50)
    used = rng.random(50) < 0.7
    a, b = SumTree(50), SumTree(50)
    a.set_all(p, used)
    b.update(np.flatnonzero(used), p[used])
    np.testing.assert_array_equal(a._sums, b._sums)
    np.testing.assert_array_equal(a._mins, b._mins)


def test_rejects_bad_input() -> None:
    tree = SumTree(4)
    with pytest.raises(ValueError, match="out of range"):
        tree.update([4], [1.0])
    with pytest.raises(ValueError, match="non-negative"):
        tree.update([0], [-1.0])
    with pytest.raises(ValueError, match="finite"):
        tree.update([0], [np.nan])
    with pytest.raises(ValueError, match="total is 0"):
        tree.find([0.0])
    with pytest.raises(ValueError, match="at least 1"):
        SumTree(0)
