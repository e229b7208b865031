"""A sum tree (with a min tree beside it) over `capacity` non-negative priorities.

Layout: one flat array per tree, 1-based heap order. With L = capacity rounded up to a power of
two, node i has children 2i and 2i+1, and leaf j lives at node L + j; node 1 is the root. The
sum tree holds the sum of its subtree (padding leaves are 0, so they are never found); the min
tree holds the minimum over leaves that were ever set (unset leaves are +inf), which gives the
largest importance weight without a scan.

Parents are always recomputed as left + right (never by adding deltas), so the tree does not
drift however many updates it sees. Updates and searches run in small numba kernels: a batch of
32 searches on a 1M-leaf tree is 32 * 20 node visits, far below numpy's per-call overhead.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _set_leaves(sums: np.ndarray, mins: np.ndarray, leaves: int, indices: np.ndarray,
                priorities: np.ndarray) -> None:
    """Write leaves in order (so the last write of a repeated index wins)."""
    for k in range(indices.shape[0]):
        sums[leaves + indices[k]] = priorities[k]
        mins[leaves + indices[k]] = priorities[k]


@nb.njit(cache=True)
def _propagate(sums: np.ndarray, mins: np.ndarray, leaves: int, indices: np.ndarray) -> None:
    """Recompute the ancestors of the given leaves. A walk stops at a node whose value does not
    change: every change of a node is followed by recomputing its parent, so the tree ends
    consistent, and leaves sharing ancestors do not each walk to the root."""
    for k in range(indices.shape[0]):
        node = (leaves + indices[k]) // 2
        while node >= 1:
            s = sums[2 * node] + sums[2 * node + 1]
            m = min(mins[2 * node], mins[2 * node + 1])
            if sums[node] == s and mins[node] == m:
                break
            sums[node] = s
            mins[node] = m
            node //= 2


@nb.njit(cache=True)
def _find(sums: np.ndarray, leaves: int, prefixes: np.ndarray, out: np.ndarray) -> None:
    """For each prefix sum, descend to the leaf j with cumsum[j-1] <= prefix < cumsum[j]."""
    for k in range(prefixes.shape[0]):
        p = prefixes[k]
        node = 1
        while node < leaves:
            left = sums[2 * node]
            if p < left or sums[2 * node + 1] <= 0.0:
                node = 2 * node  # also taken when rounding put p past the right subtree's sum
            else:
                p -= left
                node = 2 * node + 1
        out[k] = node - leaves


class SumTree:
    """Sums and minima over `capacity` priorities, updated and searched in O(log capacity)."""

    def __init__(self, capacity: int) -> None:
        if int(capacity) < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = int(capacity)
        self.leaves = 1 << (self.capacity - 1).bit_length()
        self._sums = np.zeros(2 * self.leaves, dtype=np.float64)
        self._mins = np.full(2 * self.leaves, np.inf, dtype=np.float64)

    @property
    def total(self) -> float:
        """Sum of all priorities."""
        return float(self._sums[1])

    @property
    def min(self) -> float:
        """Smallest priority among leaves ever set (+inf when none was)."""
        return float(self._mins[1])

    def get(self, indices: np.ndarray) -> np.ndarray:
        """Priorities at `indices` [B] -> float64 [B] (0 for a leaf never set)."""
        return self._sums[self.leaves + self._check_indices(indices)]

    @property
    def priorities(self) -> np.ndarray:
        """A copy of all leaf priorities, float64 [capacity]."""
        return self._sums[self.leaves:self.leaves + self.capacity].copy()

    @property
    def used(self) -> np.ndarray:
        """Which leaves were ever set, bool [capacity]."""
        return np.isfinite(self._mins[self.leaves:self.leaves + self.capacity])

    def _check_indices(self, indices: np.ndarray) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.capacity):
            raise ValueError(f"sum tree index out of range [0, {self.capacity})")
        return idx

    def update(self, indices: np.ndarray, priorities: np.ndarray | float) -> None:
        """Set leaves `indices` [B] to `priorities` [B] (or one value for all); with repeated
        indices the last write wins. Priorities must be finite and >= 0."""
        idx = self._check_indices(indices)
        prio = np.broadcast_to(np.asarray(priorities, dtype=np.float64), idx.shape)
        if not np.all(np.isfinite(prio)) or (prio.size and prio.min() < 0):
            raise ValueError("priorities must be finite and non-negative")
        if idx.size == 0:
            return
        prio = np.ascontiguousarray(prio)
        _set_leaves(self._sums, self._mins, self.leaves, idx, prio)
        if idx.size * 8 >= self.leaves:
            self._rebuild()
        else:
            _propagate(self._sums, self._mins, self.leaves, idx)

    def set_all(self, priorities: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Replace every leaf: `priorities` float64 [capacity]; leaves where `mask` [capacity]
        is False count as never set (0 in the sum, +inf in the min)."""
        prio = np.asarray(priorities, dtype=np.float64)
        if prio.shape != (self.capacity,):
            raise ValueError(f"expected {self.capacity} priorities, got shape {prio.shape}")
        if not np.all(np.isfinite(prio)) or (prio.size and prio.min() < 0):
            raise ValueError("priorities must be finite and non-negative")
        used = np.ones(self.capacity, bool) if mask is None else np.asarray(mask, bool)
        self._sums[:] = 0.0
        self._mins[:] = np.inf
        self._sums[self.leaves:self.leaves + self.capacity] = np.where(used, prio, 0.0)
        self._mins[self.leaves:self.leaves + self.capacity] = np.where(used, prio, np.inf)
        self._rebuild()

    def _rebuild(self) -> None:
        """Recompute every internal node from the leaves, one numpy pass per level."""
        lo = self.leaves
        while lo > 1:
            hi, lo = lo, lo // 2
            self._sums[lo:hi] = self._sums[2 * lo:2 * hi:2] + self._sums[2 * lo + 1:2 * hi:2]
            np.minimum(self._mins[2 * lo:2 * hi:2], self._mins[2 * lo + 1:2 * hi:2],
                       out=self._mins[lo:hi])

    def find(self, prefix_sums: np.ndarray) -> np.ndarray:
        """Leaf indices int64 [B] for `prefix_sums` [B] in [0, total): the first leaf whose
        cumulative sum exceeds the prefix (cumsum + searchsorted(side='right')). Leaves of
        priority 0 are never returned."""
        prefixes = np.maximum(np.asarray(prefix_sums, dtype=np.float64).reshape(-1), 0.0)
        if self.total <= 0.0:
            raise ValueError("cannot search a sum tree whose total is 0")
        out = np.empty(prefixes.shape[0], dtype=np.int64)
        _find(self._sums, self.leaves, prefixes, out)
        return out
