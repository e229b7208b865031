"""What MCTS asks of an evaluator, and the optional parts it may offer.

Every evaluator is an `Evaluator`: evaluate() scores a batch of leaves (priors and values, for
RAVE the moves its rollouts played, and for analysis each leaf's expected ownership and score).
An evaluator that can also give better priors than evaluate()'s at a higher price (a policy
network) is a `PriorSource` as well: MCTS asks its priors() for the nodes visited
MCTSConfig.policy_threshold times, as AlphaGo asked its policy net only where the search kept
coming back; a `ValueSource` gives a value net's estimates of the same nodes. An evaluator
whose leaf evaluation is exactly a RolloutEvaluator's is a `RolloutLeaves`: the compiled
search (search.compiled) then runs those rollouts itself, inside its simulations. All are
declared here so the search never guesses at an evaluator's methods; this module imports
neither torch nor the search."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

import numpy as np

from envs.go import Position

if TYPE_CHECKING:
    from agents.alphago.evaluators.rollout import RolloutEvaluator


class Evaluation(NamedTuple):
    """What an evaluator says about a batch of B positions.

    priors: float32 [B, size*size + 1], move probabilities (pass last); illegal moves ignored.
    values: float32 [B], the expected outcome for each position's player to move, in [-1, 1].
    tails:  optional, for RAVE: per position the moves its rollout played (int32, -1 = pass).
    ownership: optional, for analysis: float32 [B, size*size] in [-1, 1], each position's
            expected final owner of every point for its player to move (+1: the mover's).
    score:  optional, for analysis: float32 [B], the expected final area margin in points for
            each position's player to move, komi included.
    The search does not steer by ownership or score; it averages them for the frontends that
    draw territory and score leads (MCTS.ownership, MoveInfo.score_lead).
    """

    priors: np.ndarray
    values: np.ndarray
    tails: Sequence[np.ndarray] | None = None
    ownership: np.ndarray | None = None
    score: np.ndarray | None = None


class Evaluator(Protocol):
    """Scores a batch of leaves in one call (a network batch, or rollouts on all cores)."""

    def evaluate(self, positions: Sequence[Position]) -> Evaluation: ...


@runtime_checkable
class PriorSource(Protocol):
    """The optional part: priors(positions) -> float32 [B, size*size + 1], pass last, better
    than evaluate()'s and dearer; they replace a node's priors once it is visited
    policy_threshold times."""

    def priors(self, positions: Sequence[Position]) -> np.ndarray: ...


@runtime_checkable
class ValueSource(Protocol):
    """A PriorSource with a value net: values(positions) -> float32 [B], its estimate for each
    position's player to move, asked with priors() for the same nodes; the search mixes it into
    the leaf values below them with weight value_weight (1 - lambda; 0: unused)."""

    value_weight: float

    def values(self, positions: Sequence[Position]) -> np.ndarray: ...


@runtime_checkable
class RolloutLeaves(Protocol):
    """An evaluator whose evaluate() is its `leaf_rollouts`' (a RolloutEvaluator): one playout
    per leaf, heuristic or uniform priors, the playouts' moves for RAVE."""

    @property
    def leaf_rollouts(self) -> RolloutEvaluator: ...
