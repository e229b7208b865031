"""Which stored records a learner trains on: uniformly, or in proportion to their TD error.

Both samplers share one interface, so a replay buffer takes either:

- `on_add(indices)`: records were (over)written at these indices;
- `sample(batch_size, size) -> (indices int64 [B], weights float32 [B])` over records [0, size);
- `update_priorities(indices, td_errors)`: new TD errors for sampled records;
- `state_dict()` / `load_state_dict(state)`: everything needed to resume exactly (priorities and
  the RNG state). Values are numpy arrays or JSON-able data, so a buffer can save them in .npz.

Randomness comes from the numpy Generator passed in; nothing here seeds a global RNG.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import numpy as np

from selfplay.replay.storage import ReplayError
from selfplay.replay.sum_tree import SumTree


class Sampler(Protocol):
    """What a ReplayBuffer needs from a sampler."""

    def on_add(self, indices: np.ndarray) -> None: ...

    def sample(self, batch_size: int, size: int) -> tuple[np.ndarray, np.ndarray]: ...

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def _rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """The generator's state as JSON-able data (MT19937's key array becomes a list)."""
    return json.loads(json.dumps(rng.bit_generator.state, default=lambda o: o.tolist()))


def _check_rng_state(rng: np.random.Generator, state: Any) -> dict[str, Any]:
    """Validate a saved RNG state on a scratch generator (so a bad one changes nothing)."""
    scratch = np.random.Generator(type(rng.bit_generator)())
    try:
        scratch.bit_generator.state = state
    except (TypeError, ValueError, KeyError) as err:
        raise ReplayError(f"saved sampler RNG state does not fit "
                          f"{type(rng.bit_generator).__name__}: {err}") from None
    return scratch.bit_generator.state


def _check_size(batch_size: int, size: int) -> None:
    if size < 1:
        raise ReplayError("cannot sample from an empty replay")
    if batch_size < 1:
        raise ReplayError(f"batch_size must be at least 1, got {batch_size}")


class UniformSampler:
    """Every stored record equally likely, with replacement; weights are all 1."""

    kind = "uniform"

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def on_add(self, indices: np.ndarray) -> None:
        """Nothing to track."""

    def sample(self, batch_size: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        """`batch_size` indices uniform in [0, size), and weights of 1 (float32 [B])."""
        _check_size(batch_size, size)
        indices = self.rng.integers(0, size, batch_size, dtype=np.int64)
        return indices, np.ones(batch_size, dtype=np.float32)

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Ignored: uniform sampling has no priorities."""

    def state_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rng": _rng_state(self.rng)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("kind") != self.kind:
            raise ReplayError(f"saved sampler is {state.get('kind')!r}, this one {self.kind!r}")
        self.rng.bit_generator.state = _check_rng_state(self.rng, state.get("rng"))


class PrioritizedSampler:
    """Proportional prioritized replay (Schaul et al. 2016).

    Record i has priority p_i = |delta_i| + eps and is drawn with P(i) = p_i^alpha / sum_k
    p_k^alpha. A batch of B is stratified: [0, total) is cut into B equal segments and one
    uniform prefix sum is drawn in each. Importance weights w_i = (N P(i))^-beta / max_j w_j,
    where the largest weight belongs to the smallest priority, so w_i = (p_i^a / min p^a)^-beta.
    New records get the largest priority seen so far, so each is likely sampled at least once.
    Beta annealing belongs to the caller (`set_beta`).
    """

    kind = "prioritized"

    def __init__(self, capacity: int, alpha: float = 0.6, beta: float = 0.4, eps: float = 1e-6,
                 *, rng: np.random.Generator) -> None:
        if alpha < 0 or eps <= 0:
            raise ReplayError(f"need alpha >= 0 and eps > 0, got alpha {alpha}, eps {eps}")
        self.capacity = int(capacity)
        self.alpha, self.eps = float(alpha), float(eps)
        self.set_beta(beta)
        self.rng = rng
        self.tree = SumTree(self.capacity)
        self.max_priority = 1.0  # largest |delta| + eps seen, before the alpha power

    def set_beta(self, beta: float) -> None:
        """Importance-sampling exponent: 0 = no correction, 1 = full correction."""
        if not 0 <= beta <= 1:
            raise ReplayError(f"beta must be in [0, 1], got {beta}")
        self.beta = float(beta)

    def on_add(self, indices: np.ndarray) -> None:
        """New records at `indices` [n] get the current max priority."""
        self.tree.update(indices, self.max_priority ** self.alpha)

    def sample(self, batch_size: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Stratified draw of `batch_size` indices among [0, size) -> (int64 [B], float32 [B])."""
        _check_size(batch_size, size)
        total = self.tree.total
        if total <= 0:
            raise ReplayError("no record has a priority yet (call on_add)")
        segment = total / batch_size
        prefixes = (np.arange(batch_size) + self.rng.random(batch_size)) * segment
        indices = self.tree.find(np.minimum(prefixes, np.nextafter(total, 0)))
        ratio = self.tree.get(indices) / self.tree.min  # = P(i) / min_j P(j)
        weights = ratio ** -self.beta
        return indices, weights.astype(np.float32)

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Priorities p = |td_errors| + eps for `indices` [B] (the last of repeats wins)."""
        delta = np.abs(np.asarray(td_errors, dtype=np.float64)).reshape(-1)
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if delta.shape != indices.shape:
            raise ReplayError(f"{indices.size} indices but {delta.size} td errors")
        if not np.all(np.isfinite(delta)):
            raise ReplayError("td errors must be finite (got NaN or inf)")
        if delta.size == 0:
            return
        priorities = delta + self.eps
        self.max_priority = max(self.max_priority, float(priorities.max()))
        self.tree.update(indices, priorities ** self.alpha)

    def probabilities(self, size: int) -> np.ndarray:
        """P(i) for records [0, size) (for tests and diagnostics), float64 [size]."""
        return self.tree.priorities[:size] / self.tree.total

    def state_dict(self) -> dict[str, Any]:
        """Leaf priorities p^alpha (float64 [capacity]) and which leaves are set, the
        hyperparameters, the running max priority and the RNG state."""
        return {"kind": self.kind, "priorities": self.tree.priorities,
                "used": self.tree.used,
                "capacity": self.capacity, "alpha": self.alpha, "beta": self.beta,
                "eps": self.eps, "max_priority": self.max_priority,
                "rng": _rng_state(self.rng)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict()`; on a mismatch raise ReplayError and change nothing."""
        if state.get("kind") != self.kind:
            raise ReplayError(f"saved sampler is {state.get('kind')!r}, this one {self.kind!r}")
        for key in ("capacity", "alpha", "eps"):
            if state.get(key) != getattr(self, key):
                raise ReplayError(f"saved sampler has {key} {state.get(key)}, this one "
                                  f"{getattr(self, key)}")
        priorities = np.asarray(state.get("priorities"), dtype=np.float64)
        used = np.asarray(state.get("used"), dtype=bool)
        if priorities.shape != (self.capacity,) or used.shape != (self.capacity,):
            raise ReplayError(f"saved priorities have shape {priorities.shape}, expected "
                              f"({self.capacity},)")
        if not np.all(np.isfinite(priorities)) or priorities.min() < 0:
            raise ReplayError("saved priorities must be finite and non-negative")
        beta, max_priority = float(state["beta"]), float(state["max_priority"])
        rng_state = _check_rng_state(self.rng, state.get("rng"))
        tree = SumTree(self.capacity)
        tree.set_all(priorities, used)
        self.set_beta(beta)
        self.tree, self.max_priority = tree, max_priority
        self.rng.bit_generator.state = rng_state
