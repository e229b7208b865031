"""What the search's leaves say about the territory and the score, averaged for analysis.

The evaluators' ownership and score (Evaluation.ownership / .score: rollouts' final boards, a
play net's auxiliary heads) do not steer the search; frontends draw them (KataGo's
kata-analyze `ownership` and `scoreLead`, Sabaki's territory). MCTS keeps one LeafStats per
root: every evaluated leaf adds its ownership, turned to Black's view, to the root's average
(as KataGo averages its leaves' ownership), and its score, turned to the view of the player
who chose the root move, to the average of the root edge its path went through. It is kept in
plain numpy beside the compiled tree, so the tree functions and their speed stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from envs.go import BLACK


class LeafStats:
    """Running sums for one root (see the module docstring); reset() when the root changes."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._own_sum: np.ndarray | None = None  # float64 [n], Black's view
        self._own_sq: np.ndarray | None = None   # float64 [n], squares (for the spread)
        self._own_count = 0
        self._score: dict[int, list[float]] = {}  # root edge -> [sum, count]

    def add(self, ownership: np.ndarray | None, score: np.ndarray | None,
            to_play: Sequence[int], root_to_play: int, root_edges: Sequence[int] | None) -> None:
        """One round's B leaves: ownership float32 [B, n] and score float32 [B], each for its
        leaf's player to move `to_play[i]`; root_edges[i] the root edge of leaf i's path (None:
        the leaves are the root itself, which has no edge)."""
        if ownership is not None and len(ownership):
            signs = np.where(np.asarray(to_play) == BLACK, 1.0, -1.0)
            own = np.asarray(ownership, np.float64)
            if self._own_sum is None or self._own_sum.shape[0] != own.shape[1]:
                self._own_sum = np.zeros(own.shape[1])
                self._own_sq = np.zeros(own.shape[1])
                self._own_count = 0
            self._own_sum += signs @ own
            self._own_sq += np.einsum("bn,bn->n", own, own)
            self._own_count += len(own)
        if score is not None and root_edges is not None:
            for edge, value, mover in zip(root_edges, score.tolist(), to_play, strict=True):
                entry = self._score.setdefault(int(edge), [0.0, 0])
                entry[0] += value if mover == root_to_play else -value
                entry[1] += 1

    def ownership(self) -> np.ndarray | None:
        """float32 [n] in [-1, 1]: +1 Black owns the point, -1 White; None before any leaf
        came with ownership."""
        if not self._own_count:
            return None
        return (self._own_sum / self._own_count).astype(np.float32)

    def ownership_stdev(self) -> np.ndarray | None:
        """float32 [n]: the spread of the leaves' ownership of each point around the average
        (KataGo's ownershipStdev); None as ownership()."""
        if not self._own_count:
            return None
        mean = self._own_sum / self._own_count
        variance = np.maximum(self._own_sq / self._own_count - mean * mean, 0.0)
        return np.sqrt(variance).astype(np.float32)

    def score_lead(self, edge: int) -> float | None:
        """The average score of the leaves under root edge `edge` for the player who chose it
        (None: no leaf under it came with a score)."""
        entry = self._score.get(edge)
        return None if entry is None or not entry[1] else entry[0] / entry[1]
